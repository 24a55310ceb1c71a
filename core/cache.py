"""Django's cache as a speed-up only: if it is down, reads miss and writes are skipped.

The database always has the answer; a dead Redis must not turn a counter call into a 500.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.cache import cache

logger = logging.getLogger(__name__)


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
