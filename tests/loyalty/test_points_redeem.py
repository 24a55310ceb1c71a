from datetime import timedelta

import pytest
from django.utils import timezone

from core.errors import (
    EntryNotReversible,
    InsufficientPoints,
    InvalidInput,
    InvalidPoints,
    RewardUnavailable,
)
from loyalty.models import EntryKind, LedgerEntry
from loyalty.services import points_adjust, points_earn, points_redeem, points_reverse
from tests.factories import MemberFactory, RewardFactory, StoreFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def rich_member(store):
    member = MemberFactory(home_store=store)
    points_earn(member=member, store=store, staff=None, amount="300")
    return member


def test_redeem_a_reward(store, cashier, rich_member):
    reward = RewardFactory(point_cost=120, stores=[store])
    entry = points_redeem(member=rich_member, store=store, staff=cashier, reward=reward)
    assert entry.kind == EntryKind.REDEEM and entry.points == -120 and entry.reward == reward
    rich_member.refresh_from_db()
    assert rich_member.points_balance == 180


def test_redeem_part_of_the_balance(store, rich_member):
    points_redeem(member=rich_member, store=store, staff=None, points=75)
    rich_member.refresh_from_db()
    assert rich_member.points_balance == 225


def test_insufficient_points_writes_nothing(store, rich_member):
    with pytest.raises(InsufficientPoints) as exc:
        points_redeem(member=rich_member, store=store, staff=None, points=301)
    assert exc.value.details == {"balance": 300, "required": 301}
    assert LedgerEntry.objects.filter(kind=EntryKind.REDEEM).count() == 0


@pytest.mark.parametrize("points", [0, -1, 1.5, "10", True, 10**9])
def test_bad_points_are_refused(store, rich_member, points):
    with pytest.raises(InvalidPoints):
        points_redeem(member=rich_member, store=store, staff=None, points=points)


def test_reward_must_be_offered_here_and_now(store, rich_member):
    elsewhere = RewardFactory(stores=[StoreFactory(code="LIE01")])
    expired = RewardFactory(stores=[store], active_until=timezone.now() - timedelta(days=1))
    future = RewardFactory(stores=[store], active_from=timezone.now() + timedelta(days=1))
    inactive = RewardFactory(stores=[store], is_active=False)
    for reward in (elsewhere, expired, future, inactive):
        with pytest.raises(RewardUnavailable):
            points_redeem(member=rich_member, store=store, staff=None, reward=reward)


def test_reward_and_points_are_exclusive(store, rich_member):
    with pytest.raises(InvalidInput):
        points_redeem(member=rich_member, store=store, staff=None)
    with pytest.raises(InvalidInput):
        points_redeem(
            member=rich_member,
            store=store,
            staff=None,
            points=1,
            reward=RewardFactory(stores=[store]),
        )


def test_reverse_a_redemption_and_not_twice(store, rich_member):
    entry = points_redeem(member=rich_member, store=store, staff=None, points=100)
    reversal = points_reverse(entry=entry, staff=None)
    assert reversal.points == 100 and reversal.kind == EntryKind.REVERSE
    rich_member.refresh_from_db()
    assert rich_member.points_balance == 300
    with pytest.raises(EntryNotReversible):
        points_reverse(entry=entry, staff=None)


def test_reversing_an_earn_cannot_make_the_balance_negative(store, rich_member):
    earn = LedgerEntry.objects.get(kind=EntryKind.EARN)
    points_redeem(member=rich_member, store=store, staff=None, points=250)
    with pytest.raises(InsufficientPoints):
        points_reverse(entry=earn, staff=None)


def test_adjust_needs_a_reason(store, rich_member):
    with pytest.raises(InvalidInput):
        points_adjust(member=rich_member, store=store, staff=None, points=5, reference=" ")
    entry = points_adjust(
        member=rich_member, store=store, staff=None, points=-5, reference="goodwill correction"
    )
    assert entry.balance_after == 295
