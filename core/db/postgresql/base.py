"""Django's PostgreSQL backend with a health check that costs no round trip.

With persistent connections (`CONN_MAX_AGE`) Django checks, before a request's first query,
that the connection still works (`CONN_HEALTH_CHECKS`) by sending `SELECT 1`: one more round
trip on every counter request, a tenth of a lookup's time. This backend looks at the socket
instead. An idle connection that is still good has nothing to read; one the server closed
(restart, `pg_terminate_backend`, idle timeout) is readable (the server's goodbye message or
the end of the stream), and so is one with anything unexpected waiting. Such a connection is
closed, and the request opens a new one. After an error in a request Django still runs the
full check (`is_usable`) before keeping the connection.
"""

from __future__ import annotations

import select

from django.db.backends.postgresql.base import DatabaseWrapper as PostgresDatabaseWrapper
from psycopg import pq


class DatabaseWrapper(PostgresDatabaseWrapper):
    def close_if_health_check_failed(self):
        if self.connection is None or not self.health_check_enabled or self.health_check_done:
            return
        if not self._idle_socket_looks_open():
            self.close()
        self.health_check_done = True

    def _idle_socket_looks_open(self) -> bool:
        """Return whether the idle connection is open with nothing waiting on its socket."""
        pgconn = self.connection.pgconn
        if pgconn.status != pq.ConnStatus.OK:
            return False
        if pgconn.transaction_status != pq.TransactionStatus.IDLE:
            return False
        try:
            readable, _, _ = select.select([pgconn.socket], [], [], 0)
        except (OSError, ValueError):  # closed or invalid descriptor
            return False
        return not readable
