"""Composing campaigns in the office: head office for the chain, managers for their stores."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from loyalty.models import Coupon
from loyalty.rules import BasketLine
from loyalty.services import points_earn
from stores.models import Campaign, Tier
from tests.dashboard.conftest import client_for
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db


def _window():
    now = timezone.localtime()
    return {
        "starts_at": (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (now + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M"),
    }


def _form(**fields):
    data = {
        "trigger": "purchase",
        "combination": "add",
        "multiplier": "1",
        "bonus_points": "0",
        "points_per_product": "0",
        "coupon_valid_days": "30",
        **_window(),
    }
    data.update(fields)
    return data


def test_head_office_composes_a_chain_campaign_that_the_earn_applies(office, gent, liege):
    Tier.objects.create(code="gold", name="Gold", threshold=0)
    response = office.post(
        reverse("dashboard:campaigns"),
        _form(
            name="Coffee week",
            store_codes="gnt01",
            product_codes="K1, K2",
            points_per_product="5",
            tiers=["gold"],
            max_per_member="2",
            days_of_week=[str(d) for d in range(1, 8)],
        ),
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    campaign = Campaign.objects.get()
    assert (campaign.store, campaign.store_codes, campaign.product_codes) == (
        None,
        ["GNT01"],
        ["K1", "K2"],
    )
    assert campaign.created_by.username == "headoffice"
    member = MemberFactory(home_store=gent, tier="gold")

    entry = points_earn(
        member=member, store=gent, staff=None, amount="10", lines=[BasketLine("K2", quantity=2)]
    )
    assert entry.points == 10 + 10
    assert entry.detail[1]["name"] == "Coffee week"
    page = office.get(reverse("dashboard:campaigns")).content.decode()
    assert "Coffee week" in page and "K1 K2" in page


def test_a_campaign_without_an_effect_or_with_an_unknown_store_is_refused(office, gent):
    response = office.post(reverse("dashboard:campaigns"), _form(name="Nothing"))
    assert response.status_code == 400
    response = office.post(
        reverse("dashboard:campaigns"), _form(name="Where", store_codes="XX1", bonus_points="5")
    )
    assert response.status_code == 400
    assert not Campaign.objects.exists()


def test_a_manager_composes_for_their_store_only(manager, gent, liege):
    client = client_for(manager)

    own = client.post(
        reverse("dashboard:campaigns"), _form(name="Gent bonus", store=gent.pk, bonus_points="5")
    )
    other = client.post(
        reverse("dashboard:campaigns"), _form(name="Liège", store=liege.pk, bonus_points="5")
    )
    chain = client.post(reverse("dashboard:campaigns"), _form(name="Chain", bonus_points="5"))

    assert own.status_code == 302
    assert other.status_code == chain.status_code == 400  # not a store they can choose
    assert list(Campaign.objects.values_list("name", "store__code")) == [("Gent bonus", "GNT01")]
    liege_campaign = Campaign.objects.create(
        store=liege, name="Theirs", bonus_points=1, **_dt_window()
    )
    refused = client.post(reverse("dashboard:campaign_end", args=[liege_campaign.pk]))
    assert refused.status_code == 403
    assert "Theirs" not in client.get(reverse("dashboard:campaigns")).content.decode()


def _dt_window():
    now = timezone.now()
    return {"starts_at": now - timedelta(hours=1), "ends_at": now + timedelta(days=1)}


def test_a_cashier_gets_no_campaign_page(gent_cashier):
    assert client_for(gent_cashier).get(reverse("dashboard:campaigns")).status_code == 403


def test_head_office_sets_tiers(office):
    response = office.post(
        reverse("dashboard:tiers"),
        {"code": "gold", "name": "Gold", "threshold": "500", "multiplier": "1.25"},
    )
    assert response.status_code == 302
    assert Tier.objects.get().multiplier == Decimal("1.25")


def test_bulk_coupons_are_downloaded_once(office):
    response = office.post(
        reverse("dashboard:coupons"),
        {"count": "3", "value": "5", "product": "", "valid_days": "10"},
    )
    assert response.status_code == 200
    lines = b"".join(response.streaming_content).decode("utf-8-sig").splitlines()
    assert len(lines) == 4
    assert {line.split(",")[0] for line in lines[1:]} == set(
        Coupon.objects.values_list("code", flat=True)
    )
