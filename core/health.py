"""`/healthz`: whether this app server can reach its database and its broker."""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.db import connection, transaction
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 2.0


def _database() -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # A stuck server must not hold the load balancer's probe for longer than this.
            # set_config, not SET: SET takes no bound parameter (the server binds them here).
            cursor.execute(
                "SELECT set_config('statement_timeout', %s, true)",
                [str(int(TIMEOUT_SECONDS * 1000))],
            )
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _broker() -> None:
    if not settings.REDIS_URL:
        return  # tasks run in-process: there is no broker to reach
    import redis

    client = redis.Redis.from_url(
        settings.REDIS_URL,
        socket_timeout=TIMEOUT_SECONDS,
        socket_connect_timeout=TIMEOUT_SECONDS,
    )
    try:
        client.ping()
    finally:
        client.close()


CHECKS = {"database": _database, "broker": _broker}


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Answer 200 when the database and the broker answer, 503 naming the one that did not."""
    checks = {}
    for name, check in CHECKS.items():
        started = time.monotonic()
        try:
            check()
        except Exception as exc:  # any failure means "not ready", whatever raised it
            logger.warning("healthz: %s unavailable (%s)", name, type(exc).__name__)
            checks[name] = {"ok": False}
        else:
            checks[name] = {"ok": True, "ms": round((time.monotonic() - started) * 1000, 1)}
    ok = all(c["ok"] for c in checks.values())
    body = {"status": "ok" if ok else "unavailable", "checks": checks}
    return JsonResponse(body, status=200 if ok else 503)
