"""stores.services: head office sets a store's earning rule and runs campaigns there."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from core.errors import InvalidInput
from stores.models import Campaign, EarningRule
from stores.services import campaign_create, campaign_end, earning_rule_save

pytestmark = pytest.mark.django_db


def test_earning_rule_save_creates_then_updates_the_one_rule(store):
    earning_rule_save(
        store=store, points_per_euro=Decimal("2"), rounding="down", minimum_purchase=Decimal("0")
    )
    rule = earning_rule_save(
        store=store,
        points_per_euro=Decimal("2.50"),
        rounding="nearest",
        minimum_purchase=Decimal("5"),
    )

    assert EarningRule.objects.filter(store=store).count() == 1
    rule.refresh_from_db()
    assert (rule.points_per_euro, rule.rounding, rule.minimum_purchase) == (
        Decimal("2.50"),
        "nearest",
        Decimal("5.00"),
    )


def test_campaign_create_trims_the_name(store):
    now = timezone.now()

    campaign = campaign_create(
        store=store,
        name="  Double points  ",
        multiplier=Decimal("2"),
        starts_at=now,
        ends_at=now + timedelta(days=2),
    )

    assert Campaign.objects.get(store=store) == campaign
    assert campaign.name == "Double points"


@pytest.mark.parametrize(
    ("multiplier", "ends_after", "field"),
    [
        (Decimal("2"), timedelta(0), "ends_at"),
        (Decimal("2"), timedelta(hours=-1), "ends_at"),
        (Decimal("0.5"), timedelta(days=1), "multiplier"),
    ],
)
def test_campaign_create_refuses_a_backwards_or_shrinking_campaign(
    store, multiplier, ends_after, field
):
    now = timezone.now()

    with pytest.raises(InvalidInput) as refused:
        campaign_create(
            store=store,
            name="Wrong",
            multiplier=multiplier,
            starts_at=now,
            ends_at=now + ends_after,
        )

    assert list(refused.value.details) == [field]
    assert not Campaign.objects.exists()


def test_campaign_end_cuts_a_running_campaign_short(store):
    now = timezone.now()
    campaign = campaign_create(
        store=store,
        name="Weekend",
        multiplier=Decimal("2"),
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(days=1),
    )

    campaign_end(campaign=campaign, at=now)

    campaign.refresh_from_db()
    assert campaign.ends_at == now


def test_campaign_end_deletes_a_campaign_not_started_yet(store):
    now = timezone.now()
    campaign = campaign_create(
        store=store,
        name="Next week",
        multiplier=Decimal("3"),
        starts_at=now + timedelta(days=7),
        ends_at=now + timedelta(days=9),
    )

    campaign_end(campaign=campaign, at=now)

    assert not Campaign.objects.exists()


def test_campaign_end_leaves_a_finished_campaign_as_it_was(store):
    now = timezone.now()
    ended = now - timedelta(days=1)
    campaign = campaign_create(
        store=store,
        name="Last week",
        multiplier=Decimal("2"),
        starts_at=now - timedelta(days=3),
        ends_at=ended,
    )

    campaign_end(campaign=campaign, at=now)

    campaign.refresh_from_db()
    assert campaign.ends_at == ended
