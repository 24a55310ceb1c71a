"""core.cache.ResilientRedisCache: Redis down is slower rate limits per process, not a 500."""

from __future__ import annotations

import time

import pytest

from core.cache import ResilientRedisCache

pytestmark = pytest.mark.faults


def test_cache_keeps_working_while_redis_is_cut_and_goes_back_to_it(redis_proxy):
    cache = ResilientRedisCache(
        redis_proxy.url(__import__("os").environ["REDIS_URL"]),
        {"OPTIONS": {"retry_after": 0.5}, "KEY_PREFIX": f"h-{time.time_ns()}"},
    )
    # given: Redis answers
    assert cache.add("hits", 0, timeout=60)
    assert cache.incr("hits") == 1
    # when: Redis is cut
    redis_proxy.cut()
    started = time.monotonic()
    cache.add("hits", 0, timeout=60)
    assert cache.incr("hits") == 1  # counted again, in this process
    assert cache.incr("hits") == 2
    assert time.monotonic() - started < 3  # one timeout at most, then straight to the fallback
    assert cache.down
    # then: Redis back, the next operation after retry_after uses it again
    redis_proxy.restore()
    time.sleep(0.6)
    assert cache.incr("hits") == 2  # Redis's own count, kept through the outage
    assert not cache.down
    cache.delete("hits")


@pytest.mark.django_db
def test_public_form_and_staff_login_work_while_redis_is_cut(redis_proxy, settings):
    import os

    from django.core.cache import caches
    from django.test import Client
    from rest_framework.test import APIClient

    from tests.factories import MemberFactory, StaffFactory, StoreFactory

    settings.CACHES = {
        "default": {
            "BACKEND": "core.cache.ResilientRedisCache",
            "LOCATION": redis_proxy.url(os.environ["REDIS_URL"]),
            "KEY_PREFIX": f"h-{time.time_ns()}",
        }
    }
    settings.AXES_ENABLED = True
    store = StoreFactory()
    StaffFactory(username="kassa", store=store)
    MemberFactory(home_store=store, email="ann@example.be")
    redis_proxy.cut()
    try:
        # The public form: taken (rate limits count in this process meanwhile).
        sent = Client().post("/nl/privacy/erasure/", {"identifier": "ann@example.be"})
        assert sent.status_code == 302
        # Signing in: the lockout counters are in the database.
        token = APIClient().post(
            "/api/v1/auth/token/",
            {"username": "kassa", "password": "pw-for-tests-only"},
            format="json",
        )
        assert token.status_code == 200, token.content
    finally:
        redis_proxy.restore()
        caches["default"].close()
