"""Tiers over a rolling 12 months with a grace before a downgrade; join and anniversary."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import override_settings
from django.utils import timezone

from loyalty.models import CampaignApplication, Coupon, EntryKind, LedgerEntry, Member
from loyalty.services import (
    member_enroll_anonymous_by_eid,
    member_enroll_by_eid,
    member_enroll_by_form,
    points_earn,
)
from loyalty.services.events import anniversaries_today
from loyalty.services.tiers import member_tier_recompute
from loyalty.tasks import tiers_recompute
from stores.models import Campaign, Tier
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def tiers(db):
    Tier.objects.create(code="silver", name="Silver", threshold=100)
    Tier.objects.create(code="gold", name="Gold", threshold=500, multiplier=Decimal("1.5"))


def _campaign(**fields):
    now = timezone.now()
    return Campaign.objects.create(
        starts_at=now - timedelta(days=1), ends_at=now + timedelta(days=30), **fields
    )


def test_an_earn_lifts_the_tier_and_the_next_earn_pays_its_multiplier(store, tiers):
    member = MemberFactory(home_store=store)

    first = points_earn(member=member, store=store, staff=None, amount="520")
    second = points_earn(member=member, store=store, staff=None, amount="10")

    member.refresh_from_db()
    assert (first.points, member.tier) == (520, "gold")
    assert second.points == 15
    assert second.detail[-1] == {"reason": "tier", "name": "Gold", "points": 5}


@override_settings(LOYALTY_TIER_GRACE_DAYS=30)
def test_points_older_than_12_months_drop_the_tier_only_after_the_grace(store, tiers):
    member = MemberFactory(home_store=store)
    points_earn(member=member, store=store, staff=None, amount="600")
    LedgerEntry.objects.filter(member=member).update(
        created_at=timezone.now() - timedelta(days=370)
    )
    now = timezone.now()

    kept = member_tier_recompute(member_id=member.pk, now=now)
    again = member_tier_recompute(member_id=member.pk, now=now + timedelta(days=29))
    dropped = member_tier_recompute(member_id=member.pk, now=now + timedelta(days=31))

    assert (kept.tier, kept.tier_points, kept.tier_kept_until) == ("gold", 0, now + timedelta(30))
    assert again.tier == "gold"
    assert (dropped.tier, dropped.tier_kept_until) == ("", None)


def test_the_nightly_task_corrects_tiers_and_is_idempotent(store, tiers):
    member = MemberFactory(home_store=store, tier_points=9999, tier="")
    LedgerEntry.objects.create(
        member=member,
        store=store,
        kind=EntryKind.EARN,
        points=150,
        balance_after=150,
        created_at=timezone.now() - timedelta(days=10),
    )

    assert tiers_recompute() == 1
    assert tiers_recompute() == 0
    member.refresh_from_db()
    assert (member.tier, member.tier_points) == ("silver", 150)


def test_joining_gives_the_same_welcome_by_every_channel(store):
    _campaign(
        name="Welcome", trigger="join", bonus_points=25, coupon_product="Coffee", combination="add"
    )

    members = [
        member_enroll_by_form(
            store=store,
            given_name="Wout",
            surname="Claes",
            email="w@example.be",
            phone="+32471111111",
        ),
        member_enroll_by_eid(
            store=store, given_name="Nina", surname="Hermans", eid_token="cd" * 32
        ),
        member_enroll_anonymous_by_eid(store=store, eid_token="ef" * 32),
    ]

    for member in members:
        member.refresh_from_db()
        assert member.points_balance == 25
        entry = LedgerEntry.objects.get(member=member)
        assert (entry.kind, entry.detail[0]["name"]) == ("bonus", "Welcome")
        assert Coupon.objects.get(member=member).product == "Coffee"


def test_the_membership_anniversary_is_rewarded_once_a_year(store):
    _campaign(name="Happy anniversary", trigger="anniversary", bonus_points=50)
    now = timezone.now()
    old = MemberFactory(home_store=store)
    new = MemberFactory(home_store=store)
    Member.objects.filter(pk=old.pk).update(created_at=now.replace(year=now.year - 2))

    assert anniversaries_today(now=now) == 1
    assert anniversaries_today(now=now) == 0
    old.refresh_from_db()
    new.refresh_from_db()
    assert (old.points_balance, new.points_balance) == (50, 0)


def test_an_erased_members_anniversary_reward_does_not_leave_the_others_out(store):
    # given: this year's anniversary reward of a member since erased (its use unlinked)
    campaign = _campaign(name="Happy anniversary", trigger="anniversary", bonus_points=50)
    now = timezone.now()
    two_years_ago = now.replace(year=now.year - 2)
    erased = MemberFactory(home_store=store)
    Member.objects.filter(pk=erased.pk).update(created_at=two_years_ago)
    assert anniversaries_today(now=now) == 1
    CampaignApplication.objects.filter(campaign_id=campaign.pk).update(member=None)
    LedgerEntry.objects.filter(member=erased).update(member=None)
    Member.objects.filter(pk=erased.pk).delete()
    other = MemberFactory(home_store=store)
    Member.objects.filter(pk=other.pk).update(created_at=two_years_ago)

    # when / then: the other member is still rewarded
    assert anniversaries_today(now=now) == 1
    other.refresh_from_db()
    assert other.points_balance == 50
