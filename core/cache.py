"""A Redis cache that is a speed-up, not a single point of failure.

Every operation goes to Redis. When Redis does not answer (connection refused, timeout), the
same operation goes to a cache in this process instead, and Redis is left alone for
`retry_after` seconds so that requests do not each wait for its timeout; after that the next
operation tries Redis again, so the cache heals by itself once Redis is back. What is kept
during the outage is per process: the privacy forms' rate limits still count (each app server
on its own), nothing fails.
"""

from __future__ import annotations

import logging
import threading
import time

from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

UNAVAILABLE = (RedisConnectionError, RedisTimeoutError, ConnectionError, TimeoutError)


class ResilientRedisCache(BaseCache):
    """Django's RedisCache, falling back to a per-process cache while Redis is down."""

    def __init__(self, server, params):
        super().__init__(params)
        options = dict(params.get("OPTIONS") or {})
        self.retry_after = float(options.pop("retry_after", 5))
        options.setdefault("socket_connect_timeout", 1)
        options.setdefault("socket_timeout", 1)
        self.primary = RedisCache(server, {**params, "OPTIONS": options})
        self.fallback = LocMemCache(f"resilient-{id(self)}", {"TIMEOUT": params.get("TIMEOUT")})
        self._down_until = 0.0
        self._lock = threading.Lock()

    @property
    def down(self) -> bool:
        return time.monotonic() < self._down_until

    def _call(self, name: str, *args, **kwargs):
        if not self.down:
            try:
                return getattr(self.primary, name)(*args, **kwargs)
            except UNAVAILABLE as exc:
                with self._lock:
                    if not self.down:
                        logger.warning(
                            "cache: Redis unavailable (%s); in-process cache for %s s",
                            type(exc).__name__,
                            self.retry_after,
                        )
                    self._down_until = time.monotonic() + self.retry_after
        return getattr(self.fallback, name)(*args, **kwargs)

    def add(self, key, value, timeout=300, version=None):
        return self._call("add", key, value, timeout, version)

    def get(self, key, default=None, version=None):
        return self._call("get", key, default, version)

    def set(self, key, value, timeout=300, version=None):
        return self._call("set", key, value, timeout, version)

    def touch(self, key, timeout=300, version=None):
        return self._call("touch", key, timeout, version)

    def delete(self, key, version=None):
        return self._call("delete", key, version)

    def get_many(self, keys, version=None):
        return self._call("get_many", keys, version)

    def has_key(self, key, version=None):
        return self._call("has_key", key, version)

    def incr(self, key, delta=1, version=None):
        return self._call("incr", key, delta, version)

    def set_many(self, data, timeout=300, version=None):
        return self._call("set_many", data, timeout, version)

    def delete_many(self, keys, version=None):
        return self._call("delete_many", keys, version)

    def clear(self):
        return self._call("clear")

    def close(self, **kwargs):
        self.primary.close(**kwargs)


# The callers below keep their own answer when even the fallback fails (another backend in a
# deployment, a pickling error): a cached value is always something the database can answer.
from typing import Any  # noqa: E402

from django.core.cache import cache  # noqa: E402


def cache_get(key: str) -> Any:
    """Return the cached value, or None on a miss or when the cache cannot be reached."""
    try:
        return cache.get(key)
    except Exception as exc:
        logger.warning("cache unavailable (%s): answering from the database", type(exc).__name__)
        return None


def cache_set(key: str, value: Any, seconds: int) -> None:
    try:
        cache.set(key, value, seconds)
    except Exception as exc:
        logger.warning("cache unavailable (%s): value not kept", type(exc).__name__)


def cache_delete(key: str) -> None:
    try:
        cache.delete(key)
    except Exception as exc:
        # A stale entry lives at most its timeout; the callers keep timeouts short for this.
        logger.warning("cache unavailable (%s): entry not dropped", type(exc).__name__)
