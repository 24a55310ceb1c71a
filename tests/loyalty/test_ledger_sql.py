"""The ledger's hand-written SQL against the portable ORM path: one table of cases, one answer.

`loyalty.ledger_sql` holds the only SQL strings of the counter's writes. Each case runs through
the portable path (`_earn_locked`, every database) and, on PostgreSQL, through the one-statement
earn; both must leave the same rows and answer the same way.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from core.errors import IdempotencyKeyReused, MemberInactive, MemberNotFound
from loyalty import ledger_sql
from loyalty.models import EntryKind, LedgerEntry, Member, MemberStatus
from loyalty.services.earn import _earn_in_one_statement, _earn_locked
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db

PATHS = {"portable": _earn_locked, "one statement": _earn_in_one_statement}


def _paths():
    if connection.vendor == "postgresql":
        return list(PATHS.items())
    return [("portable", _earn_locked)]


def _earn(write, member, store, *, key=None, amount="10.00", points=10):
    return write(
        member=Member(pk=member.pk),
        store=store,
        staff=None,
        points=points,
        at=timezone.now(),
        purchase_amount=Decimal(amount),
        reference="till-1",
        idempotency_key=key,
    )


def _state(member):
    member.refresh_from_db()
    rows = list(
        LedgerEntry.objects.filter(member=member).values_list(
            "kind", "points", "balance_after", "purchase_amount", "reference", "idempotency_key"
        )
    )
    return member.points_balance, rows


# (case, what happens, expected answer): the one table both paths are held to.
CASES = [
    ("new entry", lambda w, m, s: _earn(w, m, s, key="k1"), None),
    (
        "replay with the same key answers the first entry",
        lambda w, m, s: (_earn(w, m, s, key="k1"), _earn(w, m, s, key="k1")),
        None,
    ),
    (
        "replay with another amount is refused",
        lambda w, m, s: (_earn(w, m, s, key="k1"), _earn(w, m, s, key="k1", amount="11.00")),
        IdempotencyKeyReused,
    ),
    ("no key: each call writes", lambda w, m, s: (_earn(w, m, s), _earn(w, m, s)), None),
]


@pytest.mark.parametrize(("case", "action", "error"), CASES, ids=[c[0] for c in CASES])
def test_both_paths_leave_the_same_rows(store, case, action, error):
    results = {}
    for name, write in _paths():
        member = MemberFactory(home_store=store, points_balance=5)
        LedgerEntry.objects.create(
            member=member,
            store=store,
            kind=EntryKind.ADJUST,
            points=5,
            balance_after=5,
            created_at=timezone.now(),
        )
        if error is None:
            action(write, member, store)
        else:
            with pytest.raises(error):
                action(write, member, store)
        results[name] = _state(member)
        # Keys are unique per store: the next path's member starts from a clean slate.
        LedgerEntry.objects.filter(member=member).update(idempotency_key=None)
    assert len(set(map(repr, results.values()))) == 1, results


@pytest.mark.parametrize("name", list(PATHS))
def test_unknown_and_blocked_members(store, name):
    write = PATHS[name]
    if write is _earn_in_one_statement and connection.vendor != "postgresql":
        pytest.skip("the one-statement earn is PostgreSQL's")
    blocked = MemberFactory(home_store=store, status=MemberStatus.BLOCKED)
    with pytest.raises(MemberInactive):
        _earn(write, blocked, store)
    with pytest.raises(MemberNotFound):
        _earn(write, Member(pk=987654321), store)
    assert not LedgerEntry.objects.filter(member=blocked).exists()


def test_member_lock_reads_the_replayed_entry(store):
    member = MemberFactory(home_store=store)
    entry = _earn(_earn_locked, member, store, key="k9")
    locked = ledger_sql.member_lock(member.pk, store_id=store.pk, idempotency_key="k9")
    assert locked.pk == member.pk and locked.replayed_id == entry.pk
    assert ledger_sql.member_lock(987654321) is None


@pytest.mark.parametrize("exists", [True, False], ids=["member", "stranger"])
def test_a_lookup_by_number_finds_and_records_alike_on_both_paths(store, cashier, exists):
    from loyalty.models import EidCard, MemberRead
    from loyalty.selectors import member_find_for_counter
    from loyalty.services import member_lookup_recorded

    member = MemberFactory(home_store=store)
    EidCard.objects.create(member=member, token="a" * 64)
    from loyalty.numbers import member_number_generate

    number = member.number if exists else member_number_generate()
    # the one statement (on PostgreSQL) against the ORM's answer
    found = member_lookup_recorded(query=number, staff=cashier, store=store)
    portable = member_find_for_counter(query=number)
    assert found.found_by == portable.found_by == "number"
    assert [vars_of(m) for m in found.members] == [vars_of(m) for m in portable.members]
    reads = list(MemberRead.objects.values_list("member_id", "staff_id", "store_id", "kind"))
    assert reads == ([(member.pk, cashier.pk, store.pk, "lookup")] if exists else [])


def vars_of(member):
    fields = {f.attname: getattr(member, f.attname) for f in member._meta.concrete_fields}
    return fields, member.home_store.code, hasattr(member, "eid_card")
