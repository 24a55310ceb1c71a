"""core.cache's memo: values every counter call reads, kept in the process for a request."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import RequestFactory

from core import cache as shared
from core.cache import cache_delete, cache_get, cache_set
from core.middleware import CacheScopeMiddleware
from stores.models import Store

KEY = "stores.test-memo.v1"


def in_request(check):
    """Run `check` inside a request scope, as the middleware opens one for every request."""
    out = []
    CacheScopeMiddleware(lambda request: out.append(check()))(RequestFactory().get("/"))
    return out[0]


def test_a_request_reuses_what_this_process_kept_and_reads_the_shared_cache_once():
    cache_set(KEY, "first", 60, memo=True)

    def check():
        assert cache_get(KEY, memo=True) == "first"
        cache.set(KEY, "behind its back", 60)  # not how a service changes it: no drop
        return cache_get(KEY, memo=True)

    assert in_request(check) == "first"


def test_a_drop_is_seen_at_once_in_the_same_request_and_by_the_next_one():
    cache_set(KEY, "old", 60, memo=True)

    def check():
        assert cache_get(KEY, memo=True) == "old"
        cache.set(KEY, "new", 60)
        cache_delete("stores.some-other-key", memo=True)  # any drop moves the generation on
        return cache_get(KEY, memo=True)

    assert in_request(check) == "new"
    assert in_request(lambda: cache_get(KEY, memo=True)) == "new"


def test_another_process_s_drop_reaches_this_one_at_its_next_request():
    in_request(lambda: cache_set(KEY, "old", 60, memo=True))
    assert in_request(lambda: cache_get(KEY, memo=True)) == "old"
    # Another process changed the value: it dropped it (the generation moved on) and the next
    # reader there cached the new one.
    cache.incr(shared._GENERATION_KEY)
    cache.set(KEY, "new", 60)

    assert in_request(lambda: cache_get(KEY, memo=True)) == "new"


def test_a_generation_the_cache_lost_starts_again_from_the_clock_not_from_one():
    in_request(lambda: cache_set(KEY, "old", 60, memo=True))
    before = in_request(shared._generation)
    cache.delete(shared._GENERATION_KEY)  # evicted, or the cache was emptied
    cache.set(KEY, "new", 60)

    assert in_request(lambda: cache_get(KEY, memo=True)) == "new"
    assert in_request(shared._generation) > before


def test_outside_a_request_nothing_is_memoised():
    cache_set(KEY, "old", 60, memo=True)
    cache.set(KEY, "new", 60)
    assert cache_get(KEY, memo=True) == "new"


def test_a_memoised_value_expires_even_if_no_generation_moves(monkeypatch):
    monkeypatch.setattr(shared, "MEMO_SECONDS", 0.0)

    def check():
        cache_set(KEY, "old", 60, memo=True)
        cache.set(KEY, "new", 60)
        return cache_get(KEY, memo=True)

    assert in_request(check) == "new"


@pytest.mark.django_db
def test_each_caller_gets_its_own_model_instance():
    store = Store.objects.create(code="MEMO1", name="Memo")

    def check():
        cache_set(KEY, store, 60, memo=True)
        first, second = cache_get(KEY, memo=True), cache_get(KEY, memo=True)
        return first, second

    first, second = in_request(check)
    assert first == store and second == store
    assert first is not second and first is not store
    first._state.fields_cache["earning_rule"] = "cached on one copy"
    assert "earning_rule" not in second._state.fields_cache


def test_the_cache_failing_turns_the_memo_off_rather_than_serving_stale_values(monkeypatch):
    cache_set(KEY, "old", 60, memo=True)

    def broken(*args, **kwargs):
        raise ConnectionError("cache down")

    def check():
        assert cache_get(KEY, memo=True) == "old"
        monkeypatch.setattr(cache, "incr", broken)
        cache.set(KEY, "new", 60)
        cache_delete("stores.some-other-key", memo=True)
        return shared._generation(), cache_get(KEY, memo=True)

    generation, value = in_request(check)
    assert generation is None and value == "new"


@pytest.mark.django_db(transaction=True)
def test_a_drop_inside_a_transaction_is_made_again_once_it_commits():
    from django.db import transaction

    cache_set(KEY, "old", 60, memo=True)
    with transaction.atomic():
        cache_delete(KEY, memo=True)
        cache.set(KEY, "read meanwhile elsewhere, from the rows before the commit", 60)
        during = in_request(shared._generation)
    assert cache.get(KEY) is None
    assert in_request(shared._generation) > during


@pytest.mark.django_db
def test_drops_run_on_commit_schedule_nothing_more(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        cache_delete(KEY, memo=True)
        shared.memo_forget_everywhere()
    assert len(callbacks) == 2


@pytest.mark.django_db
def test_dropping_many_entries_moves_the_generation_once(monkeypatch):
    from stores.selectors import earning_terms_forget

    for n in range(5):
        Store.objects.create(code=f"MANY{n}", name=f"Store {n}")
    cache.set(shared._GENERATION_KEY, 1, None)  # a counter there: one INCR per bump
    bumps = []
    incr = cache.incr
    monkeypatch.setattr(cache, "incr", lambda key, *a, **k: bumps.append(key) or incr(key, *a, **k))

    earning_terms_forget(store_id=None)  # a chain campaign: every store's terms

    assert bumps == [shared._GENERATION_KEY]


@pytest.mark.django_db
def test_a_purge_of_many_tokens_moves_the_generation_once_now_and_once_on_commit(
    monkeypatch, django_capture_on_commit_callbacks
):
    cache.set(shared._GENERATION_KEY, 1, None)  # a counter there: one INCR per bump
    bumps = []
    incr = cache.incr
    monkeypatch.setattr(cache, "incr", lambda key, *a, **k: bumps.append(key) or incr(key, *a, **k))

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        for _ in range(4):
            shared.memo_forget_everywhere()
        assert len(bumps) == 1

    assert len(callbacks) == 1 and len(bumps) == 2
