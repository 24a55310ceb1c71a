"""The ledger's hand-written SQL against the portable ORM path: one table of cases, one answer.

`loyalty.ledger_sql` holds the only SQL strings of the counter's writes. Each case runs through
the portable path (`_earn_locked`, every database) and, on PostgreSQL, through the one-statement
earn; both must leave the same rows and answer the same way.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from core.errors import IdempotencyKeyReused, MemberInactive, MemberNotFound
from loyalty import ledger_sql
from loyalty.models import EntryKind, LedgerEntry, Member, MemberStatus
from loyalty.services.earn import _earn_in_one_statement, _earn_locked
from tests.factories import MemberFactory, StoreFactory

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
    locked, uses, first = ledger_sql.member_lock(member.pk, store_id=store.pk, idempotency_key="k9")
    assert locked.pk == member.pk and locked.replayed_id == entry.pk
    assert (uses, first) == ({}, False)
    assert ledger_sql.member_lock(987654321) is None


def test_the_locking_read_and_the_quote_know_what_member_facts_knows(store):
    """The facts campaign conditions may read, by the ORM (`member_facts`) and by the counter's
    statements (under the lock, and the quote's), for members with and without uses."""
    from loyalty.models import CampaignApplication
    from loyalty.selectors import member_facts, member_facts_wanted
    from stores.models import Campaign, CampaignTrigger

    other_store = StoreFactory()
    now = timezone.now()

    def campaign(**fields):
        return Campaign.objects.create(
            store=store,
            starts_at=now - timedelta(days=1),
            ends_at=now + timedelta(days=1),
            **fields,
        )

    capped = [campaign(name=f"capped {i}", max_per_member=3, bonus_points=1) for i in range(3)]
    first = campaign(name="first", trigger=CampaignTrigger.FIRST_STORE_PURCHASE, bonus_points=5)
    campaigns = [*capped, first, campaign(name="plain", multiplier=2)]
    regular, newcomer = MemberFactory(home_store=store), MemberFactory(home_store=store)
    regular.tier = "gold"
    regular.save(update_fields=["tier"])
    _earn(_earn_locked, regular, store, key="k1")
    _earn(_earn_locked, newcomer, other_store, key="k2")
    for campaign, times in ((capped[0], 2), (capped[2], 1)):
        for _ in range(times):
            CampaignApplication.objects.create(
                campaign=campaign, member=regular, applied_on=timezone.localdate()
            )
    CampaignApplication.objects.create(  # another member's use counts for them only
        campaign=capped[1], member=newcomer, applied_on=timezone.localdate()
    )
    for member in (regular, newcomer):
        for at in (store, other_store):
            for among in (campaigns, capped, [first], []):
                expected = member_facts(member=member, store=at, campaigns=among)
                ids, first_store = member_facts_wanted(store=at, campaigns=among)
                locked, uses, first_at = ledger_sql.member_lock(
                    member.pk, capped=ids, first_at_store=first_store
                )
                assert (locked.tier, first_at, uses) == (
                    expected.tier,
                    expected.first_at_store,
                    dict(expected.uses),
                )
                status, tier, uses, first_at = ledger_sql.member_facts_row(
                    member.pk, capped=ids, first_at_store=first_store
                )
                assert (status, tier, first_at, uses) == (
                    MemberStatus.ACTIVE,
                    expected.tier,
                    expected.first_at_store,
                    dict(expected.uses),
                )
    assert ledger_sql.member_facts_row(987654321, capped=[1], first_at_store=None) is None


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


@pytest.mark.parametrize("owed", [0, 7], ids=["nothing owed", "points owed"])
def test_an_earn_decided_under_the_lock_writes_alike_in_one_statement_and_by_the_orm(store, owed):
    """`_earn_locked` with campaigns and tiers: the ORM's three writes and PostgreSQL's one
    statement leave the same member fields, entries and campaign uses, replays included."""
    if connection.vendor != "postgresql":
        pytest.skip("the one-statement write is PostgreSQL's")
    from loyalty.models import CampaignApplication
    from loyalty.rules import Purchase
    from loyalty.services.earn import _decide
    from stores.models import Campaign, Tier
    from stores.selectors import earning_terms

    now = timezone.now()
    window = {
        "store": store,
        "starts_at": now - timedelta(days=1),
        "ends_at": now + timedelta(days=1),
    }
    Campaign.objects.create(name="x2", multiplier=2, **window)
    Campaign.objects.create(
        name="+3 twice", bonus_points=3, max_per_member=2, combination="add", **window
    )
    Campaign.objects.create(name="gold", tiers=["gold"], multiplier="1.5", **window)
    Tier.objects.create(code="silver", name="Silver", threshold=30)
    Tier.objects.create(code="gold", name="Gold", threshold=60, multiplier=Decimal("1.2"))
    members = [MemberFactory(home_store=store, points_owed=owed) for _ in range(2)]
    at = now

    def earn(member, one_statement, key, amount):
        terms = earning_terms(store)
        purchase = Purchase(store_id=store.pk, amount=Decimal(amount), at=at, lines=())
        return _earn_locked(
            member=Member(pk=member.pk),
            store=store,
            staff=None,
            points=0,
            at=at,
            purchase_amount=Decimal(amount),
            reference="till-7",
            idempotency_key=key,
            decide=lambda facts: _decide(facts, purchase, terms),
            campaigns=terms.campaigns,
            one_statement=one_statement,
        )

    def state(member):
        member.refresh_from_db()
        fields = ("points_balance", "tier_points", "tier", "tier_kept_until", "points_owed")
        entries = list(
            LedgerEntry.objects.filter(member=member)
            .order_by("pk")
            .values_list(
                "kind",
                "points",
                "balance_after",
                "purchase_amount",
                "reference",
                "detail",
                "created_at",
                "store_id",
                "staff_id",
            )
        )
        uses = list(
            CampaignApplication.objects.filter(member=member)
            .order_by("pk")
            .values_list("campaign__name", "applied_on", "entry__reference")
        )
        return [getattr(member, f) for f in fields], member.last_activity_at, entries, uses

    answers = []
    for member, one_statement in zip(members, (True, False), strict=True):
        got = []
        for key, amount in (("a", "10.00"), ("b", "12.34"), ("c", "20.00"), ("b", "12.34")):
            entry = earn(member, one_statement, f"{one_statement}-{key}", amount)
            got.append((entry.points, entry.balance_after, entry.detail, entry.coupons_issued))
        answers.append(got)
    assert answers[0] == answers[1]
    first, second = state(members[0]), state(members[1])
    assert first == second
    assert first[0][2] == "gold" and len(first[3]) > 2  # the case reached a tier and the caps
