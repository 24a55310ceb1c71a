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
from collections.abc import Iterator
from contextlib import contextmanager

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
from django.db.models import Model  # noqa: E402
from django.db.models.base import ModelState  # noqa: E402

# Values asked for with `memo=True` (who a user is, what they may do, a store, its earning
# terms: read by every counter call, changed by a few services that drop them with
# `cache_delete(..., memo=True)`) are also kept in this process, so that a request does not
# fetch and unpickle each of them again. Each drop bumps one generation counter in the shared
# cache; a request reads it once (on its first memo'd read) and trusts only what this process
# kept under that same generation, so a change made anywhere is seen by the next request
# everywhere, as it is without the memo. Outside a request (tasks, commands) nothing is memo'd.
# What is memo'd expires after MEMO_SECONDS anyway (with a cache in each process, no Redis,
# processes never see each other's bumps: the bound is then the cache's own timeout plus this).
MEMO_SECONDS = 5.0
_MEMO_MAX = 2000
_GENERATION_KEY = "core.cache.generation"
_memo: dict[str, tuple[int, float, Any]] = {}
_scope = threading.local()


class _Unread:
    """The request has not read the generation yet."""


@contextmanager
def memo_scope() -> Iterator[None]:
    """A scope (one request: core.middleware.CacheScopeMiddleware) in which memo'd values may
    be reused; the generation is read on the first memo'd read inside it."""
    _scope.generation = _Unread
    try:
        yield
    finally:
        _scope.generation = None


def _generation() -> int | None:
    """The request's generation (read on first use), or None outside a request or on an error."""
    generation = getattr(_scope, "generation", None)
    if generation is _Unread:
        try:
            generation = cache.get(_GENERATION_KEY)
            if generation is None:
                # Started from the clock, never from 1: a counter the cache lost and began
                # again would otherwise meet generations this process still holds values of.
                cache.add(_GENERATION_KEY, time.time_ns(), timeout=None)
                generation = cache.get(_GENERATION_KEY)
        except Exception:
            generation = None
        _scope.generation = generation
    return generation if isinstance(generation, int) else None


def _memo_keep(key: str, generation: int | None, value: Any) -> None:
    if generation is None or value is None:
        return
    if len(_memo) >= _MEMO_MAX:
        _memo.clear()
    # A copy of its own: the caller goes on using `value` (and may cache relations on it).
    _memo[key] = (generation, time.monotonic() + MEMO_SECONDS, _private(value))


def _memo_hit(key: str, generation: int | None) -> Any:
    """Return a copy of what this process kept under `key` for `generation`, or None."""
    kept = _memo.get(key) if generation is not None else None
    if kept is None or kept[0] != generation or kept[1] <= time.monotonic():
        return None
    return _private(kept[2])


def _private(value: Any) -> Any:
    """A model instance caches relations on itself: each caller gets its own copy, with its
    field values and none of the relations (a fresh ModelState). Other values are immutable
    (frozen dataclasses, tuples) or read only (the webhooks' subscriptions)."""
    if not isinstance(value, Model):
        return value
    twin = value.__class__.__new__(value.__class__)
    twin.__dict__.update(value.__dict__)
    twin.__dict__.pop("_prefetched_objects_cache", None)
    state = ModelState()
    state.db, state.adding = value._state.db, value._state.adding
    twin._state = state
    return twin


def memo_clear() -> None:
    """Forget every memo'd value of this process (tests; a cache cleared by hand)."""
    _memo.clear()


def cache_get(key: str, *, memo: bool = False) -> Any:
    """Return the cached value, or None on a miss or when the cache cannot be reached."""
    generation = _generation() if memo else None
    hit = _memo_hit(key, generation)
    if hit is not None:
        return hit
    try:
        value = cache.get(key)
    except Exception as exc:
        logger.warning("cache unavailable (%s): answering from the database", type(exc).__name__)
        return None
    _memo_keep(key, generation, value)
    return value


def cache_set(key: str, value: Any, seconds: int, *, memo: bool = False) -> None:
    try:
        cache.set(key, value, seconds)
    except Exception as exc:
        logger.warning("cache unavailable (%s): value not kept", type(exc).__name__)
        return
    if memo:
        _memo_keep(key, _generation(), value)


def cache_delete(*keys: str, memo: bool = False) -> None:
    """Drop the entries; for memo'd ones, every process's copy too (the generation moves on,
    once for all of them).

    Memo'd entries dropped inside a transaction are dropped again once it commits: in between,
    another request may have read the rows as they were and cached them again.
    """
    _drop(keys, memo=memo)
    if memo:
        _again_on_commit(lambda: _drop(keys, memo=True))


def _drop(keys: tuple[str, ...], *, memo: bool) -> None:
    if memo:
        for key in keys:
            _memo.pop(key, None)
    try:
        cache.delete_many(keys)
    except Exception as exc:
        # A stale entry lives at most its timeout; the callers keep timeouts short for this.
        logger.warning("cache unavailable (%s): entry not dropped", type(exc).__name__)
    if memo:
        _generation_bump()


def memo_get(key: str) -> Any:
    """Return what this process kept under `key` for the request's generation, or None.

    For values only the database may answer for (never put in the shared cache): an API
    token's row. Outside a request, always None.
    """
    return _memo_hit(key, _generation())


def memo_keep(key: str, value: Any) -> None:
    """Keep `value` in this process for `memo_get` (within a request only)."""
    _memo_keep(key, _generation(), value)


def memo_forget_everywhere() -> None:
    """Make every process drop what it memo'd (the generation moves on), now and on commit.

    Within one transaction once is enough (a purge deletes many tokens, each asking).
    """
    if not _again_on_commit(_forget_all):
        _memo.clear()
        return
    _forget_all()


def _forget_all() -> None:
    _memo.clear()
    _generation_bump()


def _again_on_commit(again) -> bool:
    """Run `again` once the transaction commits (it schedules nothing itself). Return False
    if the transaction already has it to run (the same callable), True otherwise."""
    from django.db import connection, transaction

    if not connection.in_atomic_block:
        return True
    if any(func is again for _sids, func, _robust in connection.run_on_commit):
        return False
    transaction.on_commit(again)
    return True


def _generation_bump() -> None:
    try:
        try:
            generation = cache.incr(_GENERATION_KEY)
        except ValueError:  # the counter is gone (evicted, cleared): start it again
            cache.add(_GENERATION_KEY, time.time_ns(), timeout=None)
            generation = cache.incr(_GENERATION_KEY)
    except Exception as exc:
        logger.warning("cache unavailable (%s): memo'd values dropped here", type(exc).__name__)
        _memo.clear()
        generation = None
    # This request goes on with the new generation (or none): it reads what it just changed.
    if getattr(_scope, "generation", None) is not None:
        _scope.generation = generation
