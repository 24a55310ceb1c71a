"""Head office's reports read from the streaming replica, the counters from the primary.

With `DATABASE_REPLICA_URL` set, the pages named in `REPLICA_READ_VIEWS` (the dashboard's
figures, its CSV files and exports) run their reads on the replica, so a long report does not
compete with the counters. Everything else, every write, and the session and user behind a
request stay on the primary (`default`).

The replica is used only while it is streaming and at most `REPLICA_MAX_LAG_SECONDS` behind
(checked at most every `REPLICA_CHECK_SECONDS` per process); otherwise, or when a read on it
fails, the page is answered from the primary. A report may then be a few seconds old: never
one that decides access (the caller is resolved on the primary before the switch).
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time

from django.conf import settings
from django.db import DatabaseError, connections
from django.http import StreamingHttpResponse

logger = logging.getLogger(__name__)

REPLICA = "replica"
_on_replica: contextvars.ContextVar[bool] = contextvars.ContextVar("on_replica", default=False)
_health = {"checked": 0.0, "ok": False}
_health_lock = threading.Lock()

# Standby's lag: 0 when everything received is replayed, else the age of the last replayed
# transaction; only while the WAL receiver streams from the primary.
LAG_SQL = """
SELECT pg_is_in_recovery(),
       COALESCE((SELECT status = 'streaming' FROM pg_stat_wal_receiver), false),
       CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
            ELSE EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()) END
"""


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


def replica_lag() -> float | None:
    """Return the replica's lag in seconds, or None if it is down or not streaming."""
    try:
        with connections[REPLICA].cursor() as cursor:
            cursor.execute(LAG_SQL)
            in_recovery, streaming, lag = cursor.fetchone()
    except DatabaseError:
        connections[REPLICA].close()
        return None
    if not (in_recovery and streaming):
        return None
    return float(lag or 0)


def replica_usable(*, now: float | None = None) -> bool:
    """Whether reports may read from the replica now (cached for REPLICA_CHECK_SECONDS)."""
    if not replica_configured():
        return False
    now = time.monotonic() if now is None else now
    with _health_lock:
        if now - _health["checked"] < settings.REPLICA_CHECK_SECONDS:
            return _health["ok"]
        lag = replica_lag()
        ok = lag is not None and lag <= settings.REPLICA_MAX_LAG_SECONDS
        if ok and not _health["ok"]:
            logger.info("read replica in use (lag: %.1f s)", lag)
        elif not ok and _health["ok"]:
            logger.warning(
                "read replica not used (lag: %s s, bound: %s s)",
                lag,
                settings.REPLICA_MAX_LAG_SECONDS,
            )
        _health.update(checked=now, ok=ok)
        return ok


def replica_mark_down() -> None:
    with _health_lock:
        _health.update(checked=time.monotonic(), ok=False)


def reads_on_replica() -> bool:
    """Whether this request's reads go to the replica (for tests and logs)."""
    return _on_replica.get()


class ReplicaRouter:
    """Send reads to the replica inside a report page, everything else to the primary."""

    def db_for_read(self, model, **hints):
        return REPLICA if _on_replica.get() else "default"

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        # The replica is a physical copy of the primary: it is never migrated itself.
        return db != REPLICA


def _stream_on_replica(content):
    _on_replica.set(True)
    try:
        yield from content
    finally:
        _on_replica.set(False)


class ReplicaReadsMiddleware:
    """Run the report views listed in REPLICA_READ_VIEWS with their reads on the replica."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        if (
            request.method not in ("GET", "HEAD")
            or match is None
            or match.view_name not in settings.REPLICA_READ_VIEWS
            or not replica_usable()
        ):
            return None
        # The caller (session, user) comes from the primary, before reads switch over.
        getattr(getattr(request, "user", None), "pk", None)
        _on_replica.set(True)
        try:
            response = view_func(request, *view_args, **view_kwargs)
        except DatabaseError:
            _on_replica.set(False)
            replica_mark_down()
            logger.warning(
                "read replica failed during %s; answered from the primary", match.view_name
            )
            return view_func(request, *view_args, **view_kwargs)
        finally:
            _on_replica.set(False)
        if isinstance(response, StreamingHttpResponse):
            response.streaming_content = _stream_on_replica(response.streaming_content)
        return response
