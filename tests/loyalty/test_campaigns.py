"""Campaigns as data: triggers, conditions, effects and how several combine, at the earn."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from loyalty.models import CampaignApplication, Coupon, LedgerEntry
from loyalty.rules import BasketLine
from loyalty.services import points_earn, points_quote
from stores.models import Campaign, CampaignTrigger, Combination, Tier
from tests.factories import EarningRuleFactory, MemberFactory, StoreFactory

pytestmark = pytest.mark.django_db


def _campaign(store=None, **fields) -> Campaign:
    now = timezone.now()
    fields.setdefault("name", "Campaign")
    fields.setdefault("starts_at", now - timedelta(days=1))
    fields.setdefault("ends_at", now + timedelta(days=1))
    return Campaign.objects.create(store=store, **fields)


def _earn(member, store, amount="10.00", **kwargs) -> LedgerEntry:
    return points_earn(member=member, store=store, staff=None, amount=amount, **kwargs)


@pytest.fixture
def member(store):
    EarningRuleFactory(store=store, points_per_euro=Decimal("1"))
    return MemberFactory(home_store=store)


def test_a_multiplier_campaign_earns_as_the_old_time_boxed_ones_did(store, member):
    _campaign(store, name="Double weekend", multiplier=Decimal("2"))

    entry = _earn(member, store, "12.34")

    assert entry.points == 24
    assert entry.detail == [
        {"reason": "purchase", "points": 12},
        {
            "reason": "campaign",
            "name": "Double weekend",
            "campaign": entry.detail[1]["campaign"],
            "points": 12,
        },
    ]


def test_best_one_wins_among_best_campaigns_and_adding_ones_add_up(store, member):
    _campaign(store, name="x2", multiplier=Decimal("2"))
    _campaign(store, name="x3", multiplier=Decimal("3"))
    _campaign(store, name="+5", bonus_points=5, combination=Combination.ADD)
    _campaign(store, name="+7", bonus_points=7, combination=Combination.ADD)

    entry = _earn(member, store, "10.00")

    # 10 base, the x3 (+20) beats the x2 (+10), both bonuses add
    assert entry.points == 10 + 20 + 5 + 7
    assert sorted(p.get("name", "") for p in entry.detail) == ["", "+5", "+7", "x3"]


def test_conditions_on_the_purchase(store, member):
    now = timezone.now()
    other = StoreFactory(code="LIE01")
    EarningRuleFactory(store=other, points_per_euro=Decimal("1"))
    today = timezone.localtime(now).isoweekday()
    _campaign(name="chain, GNT01 only", bonus_points=1, combination="add", store_codes=["GNT01"])
    _campaign(name="from 50", bonus_points=2, combination="add", minimum_amount=Decimal("50"))
    _campaign(name="not today", bonus_points=4, combination="add", days_of_week=str(today % 7 + 1))
    _campaign(name="today", bonus_points=8, combination="add", days_of_week=str(today))
    _campaign(
        name="over",
        bonus_points=16,
        combination="add",
        starts_at=now - timedelta(days=3),
        ends_at=now - timedelta(days=2),
    )

    assert _earn(member, store, "10.00").points == 10 + 1 + 8
    assert _earn(member, store, "50.00").points == 50 + 1 + 2 + 8
    assert _earn(member, other, "50.00").points == 50 + 2 + 8


def test_basket_lines_by_product_code_or_category_and_a_bonus_per_product(store, member):
    _campaign(store, name="Coffee", points_per_product=3, product_codes=["5410000000017"])
    _campaign(store, name="Bakery", bonus_points=10, categories=["bakery"], combination="add")
    lines = [
        BasketLine(product="5410000000017", quantity=2, amount=Decimal("6.00")),
        BasketLine(product="P-22", category="bakery", amount=Decimal("2.00")),
    ]

    assert _earn(member, store, "8.00", lines=lines).points == 8 + 6 + 10
    assert _earn(member, store, "8.00").points == 8  # no basket lines: neither applies


def test_at_most_n_per_member_and_in_total(store, member):
    _campaign(store, name="Twice each", bonus_points=5, max_per_member=2, combination="add")
    _campaign(store, name="Four in all", bonus_points=100, max_total=4, combination="add")
    other = MemberFactory(home_store=store)

    firsts = [_earn(member, store).points for _ in range(3)]
    seconds = [_earn(other, store).points for _ in range(2)]

    assert firsts == [115, 115, 110]  # the third: twice each used up
    assert seconds == [115, 15]
    assert CampaignApplication.objects.filter(campaign__name="Four in all").count() == 4


def test_the_first_purchase_at_a_store_and_a_tier_condition(store, member):
    Tier.objects.create(code="gold", name="Gold", threshold=30)
    _campaign(
        name="Welcome here",
        trigger=CampaignTrigger.FIRST_STORE_PURCHASE,
        bonus_points=50,
        combination="add",
    )
    _campaign(store, name="Gold x2", multiplier=Decimal("2"), tiers=["gold"])

    assert _earn(member, store, "20.00").points == 20 + 50  # first time here; not gold yet
    member.refresh_from_db()
    assert (member.tier, member.tier_points) == ("gold", 70)
    assert _earn(member, store, "20.00").points == 20 + 20  # gold now; no longer the first


def test_a_tier_multiplier_is_its_own_reason(store, member):
    Tier.objects.create(code="silver", name="Silver", threshold=0, multiplier=Decimal("1.5"))
    member.tier = "silver"
    member.save()

    entry = _earn(member, store, "10.00")

    assert entry.points == 15
    assert entry.detail[-1] == {"reason": "tier", "name": "Silver", "points": 5}


def test_a_campaign_issues_a_coupon_with_the_earn(store, member):
    _campaign(
        store,
        name="Next visit",
        coupon_value=Decimal("5"),
        coupon_valid_days=14,
        minimum_amount=Decimal("30"),
    )

    small = _earn(member, store, "10.00", idempotency_key="t-1")
    big = _earn(member, store, "40.00", idempotency_key="t-2")
    again = _earn(member, store, "40.00", idempotency_key="t-2")

    assert small.coupons_issued == []
    (coupon,) = big.coupons_issued
    assert [c.code for c in again.coupons_issued] == [coupon.code]
    assert Coupon.objects.get().member == member
    assert coupon.value == Decimal("5.00")
    assert coupon.expires_at - coupon.issued_at == timedelta(days=14)


def test_the_quote_says_what_the_earn_credits_and_writes_nothing(store, member):
    Tier.objects.create(code="silver", name="Silver", threshold=0, multiplier=Decimal("1.2"))
    _campaign(store, name="x2", multiplier=Decimal("2"), max_per_member=1)
    _campaign(store, name="Coupon", coupon_product="Croissant", combination="add")
    lines = [BasketLine(product="A")]
    before = (LedgerEntry.objects.count(), Coupon.objects.count(), member.tier_points)

    quote = points_quote(member=member, store=store, amount="25.00", lines=lines)

    member.refresh_from_db()
    assert (LedgerEntry.objects.count(), Coupon.objects.count(), member.tier_points) == before
    entry = _earn(member, store, "25.00", lines=lines)
    assert quote.points == entry.points
    assert list(quote.parts) == entry.detail
    assert [g.product for g in quote.coupons] == ["Croissant"]


@pytest.mark.parametrize("weekday", range(1, 8))
def test_days_of_week_are_the_local_iso_days(store, member, weekday):
    monday = timezone.make_aware(datetime(2026, 11, 30, 12, 0))
    at = monday + timedelta(days=weekday - 1)
    _campaign(
        store,
        name="Day",
        bonus_points=1,
        days_of_week=str(weekday),
        starts_at=monday - timedelta(days=1),
        ends_at=monday + timedelta(days=8),
    )

    assert _earn(member, store, "10.00", at=at).points == 11
    assert _earn(member, store, "10.00", at=at + timedelta(days=1)).points == 10
