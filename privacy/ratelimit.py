"""Fixed-window counters in Django's cache, keyed by a keyed hash (never the clear value)."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.core.cache import cache

from privacy.hashing import keyed_digest


def _key(scope: str, value: str) -> str:
    return f"privacy:rl:{scope}:{keyed_digest(value, domain='ratelimit-' + scope)}"


def ratelimit_hit(*, scope: str, value: str, limit: int) -> bool:
    """Count one hit for `value` in `scope`; return whether it is still within `limit`."""
    key = _key(scope, value)
    window = settings.PRIVACY_RATE_LIMIT_WINDOW_SECONDS
    cache.add(key, 0, timeout=window)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window)
        count = 1
    return count <= limit


def _identifier_keys(values_by_subject: dict[str, Iterable[str]]) -> dict[str, list[str]]:
    return {
        subject: [_key("identifier", v) for v in values]
        for subject, values in values_by_subject.items()
    }


def ratelimit_purge_many(values_by_subject: dict[str, Iterable[str]]) -> dict[str, int]:
    """Forget the counters held for each subject's identifiers, in two cache round trips;
    return how many there were per subject."""
    keys = _identifier_keys(values_by_subject)
    every = [k for ks in keys.values() for k in ks]
    if not every:
        return dict.fromkeys(values_by_subject, 0)
    found = cache.get_many(every)
    cache.delete_many(every)
    return {subject: sum(k in found for k in ks) for subject, ks in keys.items()}


def ratelimit_count_many(values_by_subject: dict[str, Iterable[str]]) -> dict[str, int]:
    """Return how many counters each subject's identifiers hold (what a purge would forget),
    in one cache round trip."""
    keys = _identifier_keys(values_by_subject)
    every = [k for ks in keys.values() for k in ks]
    found = cache.get_many(every) if every else {}
    return {subject: sum(k in found for k in ks) for subject, ks in keys.items()}
