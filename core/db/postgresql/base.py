"""Django's PostgreSQL backend with a health check that costs no round trip, and timestamps
read by psycopg's C loader.

With persistent connections (`CONN_MAX_AGE`) Django checks, before a request's first query,
that the connection still works (`CONN_HEALTH_CHECKS`) by sending `SELECT 1`: one more round
trip on every counter request, a tenth of a lookup's time. This backend looks at the socket
instead. An idle connection that is still good has nothing to read; one the server closed
(restart, `pg_terminate_backend`, idle timeout) is readable (the server's goodbye message or
the end of the stream), and so is one with anything unexpected waiting. Such a connection is
closed, and the request opens a new one. After an error in a request Django still runs the
full check (`is_usable`) before keeping the connection.

Timestamps: Django reads every `timestamptz` through a loader of its own written in Python
(parsing the text, then setting the connection's time zone), about four times slower than
psycopg's C loader, which a million rows of a report or the compliance page's check of every
eID link spend most of their time in. When the connection's time zone is UTC (Django's
default with USE_TZ: it sets the session's TimeZone to it), psycopg's loader already returns
what Django's does, aware in `datetime.timezone.utc`: this backend uses it then.
"""

from __future__ import annotations

import datetime
import select

import psycopg
from django.conf import settings
from django.db.backends.postgresql.base import DatabaseWrapper as PostgresDatabaseWrapper
from psycopg import pq
from psycopg.adapt import Loader

# psycopg's own text loader of timestamptz (its C implementation when psycopg[binary] or
# psycopg[c] is installed, as requirements.txt has it).
_PSYCOPG_TZ_LOADER = psycopg.adapters.get_loader(
    psycopg.adapters.types["timestamptz"].oid, pq.Format.TEXT
)


class UtcTimestamptzLoader(Loader):
    """psycopg's timestamptz loader, for a connection whose time zone is UTC.

    `timezone` is what Django's own loader carries: Django compares it with the connection's
    (`create_cursor`) and registers its loader again only if they differ.
    """

    timezone = datetime.UTC

    def __init__(self, oid, context=None):
        super().__init__(oid, context)
        self._psycopg = _PSYCOPG_TZ_LOADER(oid, context)
        # psycopg calls `loader.load` per value: straight to the C method, no Python frame.
        self.load = self._psycopg.load

    def load(self, data):  # the class needs one; each instance uses psycopg's own
        return self._psycopg.load(data)


class DatabaseWrapper(PostgresDatabaseWrapper):
    def get_new_connection(self, conn_params):
        connection = super().get_new_connection(conn_params)
        if settings.USE_TZ and self.timezone_name == "UTC":
            connection.adapters.register_loader("timestamptz", UtcTimestamptzLoader)
        return connection

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
