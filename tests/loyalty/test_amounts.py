"""Amounts are plain decimals: what Decimal() reads but no till writes is refused with its code."""

from __future__ import annotations

from decimal import Decimal

import pytest

from core.inputs import plain_decimal
from loyalty.models import LedgerEntry
from tests.counter import member_ref
from tests.factories import EarningRuleFactory, MemberFactory

pytestmark = pytest.mark.django_db

REFUSED = ["1e3", "1E3", "inf", "Infinity", "NaN", "1_000", "12.5.0", "+12", "-5", "١٢", "0x10", ""]


@pytest.mark.parametrize("text", REFUSED)
def test_what_no_till_writes_is_no_amount(text):
    assert plain_decimal(text) is None


@pytest.mark.parametrize(("text", "value"), [("12.34", "12.34"), ("12,34", "12.34"), ("7", "7")])
def test_plain_decimals_are_amounts(text, value):
    assert plain_decimal(text) == Decimal(value)


@pytest.fixture
def earn(api, cashier, store):
    EarningRuleFactory(store=store, points_per_euro=Decimal("1"))
    member = MemberFactory(home_store=store)
    url = f"/api/v1/members/{member_ref(member, staff=cashier, store=store)}/earn/"

    def post(amount):
        return api.post(url, {"store": store.code, "amount": amount}, format="json")

    return post


@pytest.mark.parametrize("text", ["1e3", "inf", "NaN", "1_000"])
def test_the_api_refuses_them_with_a_clear_code(earn, text):
    response = earn(text)

    assert response.status_code == 400
    assert response.json()["code"] == "amount_not_plain"
    assert LedgerEntry.objects.count() == 0


@pytest.mark.parametrize(("text", "points"), [("12.34", 12), ("12,34", 12)])
def test_the_api_takes_a_point_or_a_comma(earn, text, points):
    response = earn(text)

    assert response.status_code == 201, response.content
    assert response.json()["entry"]["points"] == points
