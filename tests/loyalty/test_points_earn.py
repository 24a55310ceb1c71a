from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from core.errors import IdempotencyKeyReused, InvalidAmount, MemberInactive, MemberNotFound
from loyalty.models import EntryKind, LedgerEntry, Member, MemberStatus
from loyalty.selectors import member_balance_from_ledger
from loyalty.services import points_earn, points_redeem
from stores.models import Campaign, Rounding
from tests.factories import EarningRuleFactory, MemberFactory

pytestmark = pytest.mark.django_db


def test_earn_credits_points_by_the_store_rule(store, cashier):
    # given
    EarningRuleFactory(store=store, points_per_euro=Decimal("2.00"))
    member = MemberFactory(home_store=store)
    # when
    entry = points_earn(member=member, store=store, staff=cashier, amount="12.99")
    # then
    assert entry.kind == EntryKind.EARN
    assert entry.points == 25
    assert entry.purchase_amount == Decimal("12.99")
    assert entry.staff == cashier
    member.refresh_from_db()
    assert member.points_balance == 25 == entry.balance_after


@pytest.mark.parametrize(
    ("rounding", "expected"), [(Rounding.DOWN, 12), (Rounding.NEAREST, 13), (Rounding.UP, 13)]
)
def test_rounding(store, rounding, expected):
    EarningRuleFactory(store=store, rounding=rounding)
    entry = points_earn(member=MemberFactory(), store=store, staff=None, amount="12.50")
    assert entry.points == expected


def test_below_minimum_records_the_purchase_with_zero_points(store):
    EarningRuleFactory(store=store, minimum_purchase=Decimal("5.00"))
    member = MemberFactory()
    entry = points_earn(member=member, store=store, staff=None, amount="4.99")
    assert entry.points == 0
    member.refresh_from_db()
    assert member.points_balance == 0


def test_running_campaign_multiplies(store):
    now = timezone.now()
    Campaign.objects.create(
        store=store,
        name="x2",
        multiplier=Decimal("2"),
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(hours=1),
    )
    Campaign.objects.create(
        store=store,
        name="x3 over",
        multiplier=Decimal("3"),
        starts_at=now - timedelta(days=3),
        ends_at=now - timedelta(days=1),
    )
    entry = points_earn(member=MemberFactory(), store=store, staff=None, amount="10")
    assert entry.points == 20


@pytest.mark.parametrize("amount", ["0", "-5", "abc", "NaN", "Infinity", "1e9", "1.001", None, ""])
def test_bad_amounts_write_nothing(store, amount):
    member = MemberFactory()
    with pytest.raises(InvalidAmount):
        points_earn(member=member, store=store, staff=None, amount=amount)
    assert not LedgerEntry.objects.exists()


def test_idempotency_key_returns_the_first_entry(store):
    member = MemberFactory()
    first = points_earn(member=member, store=store, staff=None, amount="10", idempotency_key="k1")
    again = points_earn(member=member, store=store, staff=None, amount="10", idempotency_key="k1")
    assert again.pk == first.pk
    member.refresh_from_db()
    assert member.points_balance == 10
    assert LedgerEntry.objects.count() == 1


def test_idempotency_key_reused_for_another_request_is_refused(store):
    member = MemberFactory()
    points_earn(member=member, store=store, staff=None, amount="10", idempotency_key="k1")
    with pytest.raises(IdempotencyKeyReused):
        points_earn(member=member, store=store, staff=None, amount="11", idempotency_key="k1")
    with pytest.raises(IdempotencyKeyReused):
        points_earn(
            member=MemberFactory(), store=store, staff=None, amount="10", idempotency_key="k1"
        )


def test_blocked_member_cannot_earn(store):
    member = MemberFactory(status=MemberStatus.BLOCKED)
    with pytest.raises(MemberInactive):
        points_earn(member=member, store=store, staff=None, amount="10")


def test_earn_counts_as_activity(store):
    member = MemberFactory(last_activity_at=timezone.now() - timedelta(days=400))
    points_earn(member=member, store=store, staff=None, amount="10")
    member.refresh_from_db()
    assert timezone.now() - member.last_activity_at < timedelta(minutes=1)
    assert member_balance_from_ledger(member=member) == member.points_balance


def test_the_entry_an_earn_returns_is_the_one_it_stored(store, cashier):
    # given
    member = MemberFactory(home_store=store)
    before = member.updated_at
    # when
    entry = points_earn(
        member=member,
        store=store,
        staff=cashier,
        amount="7.25",
        reference="till 4",
        idempotency_key="k-stored",
    )
    # then: every field as the database has it, and the member row moved with it
    stored = LedgerEntry.objects.get(pk=entry.pk)
    fields = [f.attname for f in LedgerEntry._meta.concrete_fields]
    assert {f: getattr(entry, f) for f in fields} == {f: getattr(stored, f) for f in fields}
    assert (stored.member_id, stored.staff_id) == (member.pk, cashier.pk)
    assert stored.reference == "till 4"
    member.refresh_from_db()
    assert member.points_balance == stored.balance_after == 7
    assert member.updated_at > before


def test_earn_for_a_member_that_does_not_exist_writes_nothing(store):
    with pytest.raises(MemberNotFound):
        points_earn(member=Member(pk=987654), store=store, staff=None, amount="10")
    assert not LedgerEntry.objects.exists()


def test_a_blocked_member_earns_nothing_even_with_a_fresh_key(store):
    member = MemberFactory(status=MemberStatus.BLOCKED, points_balance=0)
    with pytest.raises(MemberInactive):
        points_earn(member=member, store=store, staff=None, amount="10", idempotency_key="k-b")
    member.refresh_from_db()
    assert member.points_balance == 0
    assert not LedgerEntry.objects.exists()


def test_a_retry_for_another_kind_of_entry_with_the_same_key_is_refused(store):
    member = MemberFactory(points_balance=0)
    points_earn(member=member, store=store, staff=None, amount="50", idempotency_key="k-kind")
    with pytest.raises(IdempotencyKeyReused):
        points_redeem(member=member, store=store, staff=None, points=5, idempotency_key="k-kind")
    member.refresh_from_db()
    assert member.points_balance == 50


def test_a_replay_answers_the_first_entry_and_the_balance_as_it_is_now(store):
    # given: an earn, then another one
    member = MemberFactory(points_balance=0)
    first = points_earn(member=member, store=store, staff=None, amount="10", idempotency_key="a")
    points_earn(member=member, store=store, staff=None, amount="5", idempotency_key="b")

    # when: the first is sent again, for a member object the caller holds
    held = Member(pk=member.pk)
    again = points_earn(member=held, store=store, staff=None, amount="10", idempotency_key="a")

    # then
    assert again.pk == first.pk and again.balance_after == 10
    assert held.points_balance == 15


def test_a_retry_after_the_membership_was_blocked_gets_the_first_answer(store):
    # given: an earn and a redemption went through, then the membership was blocked
    member = MemberFactory(points_balance=0)
    earned = points_earn(member=member, store=store, staff=None, amount="20", idempotency_key="e")
    taken = points_redeem(member=member, store=store, staff=None, points=5, idempotency_key="r")
    Member.objects.filter(pk=member.pk).update(status=MemberStatus.BLOCKED)

    # when: the tills retry both
    again = points_earn(member=member, store=store, staff=None, amount="20", idempotency_key="e")
    again_taken = points_redeem(
        member=member, store=store, staff=None, points=5, idempotency_key="r"
    )

    # then: the first answers, nothing new; a new purchase is still refused
    assert (again.pk, again_taken.pk) == (earned.pk, taken.pk)
    assert LedgerEntry.objects.filter(member=member).count() == 2
    with pytest.raises(MemberInactive):
        points_earn(member=member, store=store, staff=None, amount="20", idempotency_key="new")
