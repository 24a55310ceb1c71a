"""Returns take points back in proportion, by the sale's reference; never below zero."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from core.errors import InsufficientPoints, ReturnTooLarge, SaleNotFound
from loyalty.models import LedgerEntry
from loyalty.selectors import member_balance_from_ledger
from loyalty.services import points_earn, points_pending, points_redeem, points_return
from tests.counter import member_ref
from tests.factories import EarningRuleFactory, MemberFactory, StoreFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def member(store):
    EarningRuleFactory(store=store, points_per_euro=Decimal("1"))
    return MemberFactory(home_store=store)


def _return(member, store, amount, ref="T-1", **kw):
    return points_return(
        member=member, store=store, staff=None, sale_reference=ref, amount=amount, **kw
    )


def test_partial_returns_take_back_in_proportion_and_add_up_to_the_sale(store, member):
    points_earn(member=member, store=store, staff=None, amount="99.00", reference="T-1")

    parts = [_return(member, store, a).points for a in ("33.00", "33.00", "33.00")]

    assert parts == [-33, -33, -33]
    with pytest.raises(ReturnTooLarge):
        _return(member, store, "0.01")
    member.refresh_from_db()
    assert member.points_balance == 0 == member_balance_from_ledger(member=member)


def test_rounding_never_takes_more_than_the_sale_earned(store, member):
    points_earn(member=member, store=store, staff=None, amount="10.00", reference="T-1")

    taken = [-_return(member, store, "3.33").points for _ in range(3)]
    taken.append(-_return(member, store, "0.01").points)

    assert sum(taken) == 10
    assert taken == [3, 3, 3, 1]


def test_a_shortfall_is_recorded_and_taken_from_the_next_points(store, member):
    points_earn(member=member, store=store, staff=None, amount="50.00", reference="T-1")
    points_redeem(member=member, store=store, staff=None, points=40)

    entry = _return(member, store, "50.00")
    member.refresh_from_db()
    assert (entry.points, member.points_balance, member.points_owed) == (-10, 0, 40)
    assert entry.detail[-1]["reason"] == "shortfall"

    later = points_earn(member=member, store=store, staff=None, amount="25.00")
    again = points_earn(member=member, store=store, staff=None, amount="25.00")
    member.refresh_from_db()
    assert (later.points, again.points, member.points_owed) == (0, 10, 0)
    assert later.detail[-1] == {"reason": "shortfall", "points": -25}
    assert member.points_balance == 10 == member_balance_from_ledger(member=member)


def test_an_unknown_sale_is_refused(store, member):
    with pytest.raises(SaleNotFound):
        _return(member, store, "5.00", ref="nope")


def test_a_return_retried_with_its_key_takes_back_once(store, member):
    points_earn(member=member, store=store, staff=None, amount="20.00", reference="T-1")

    first = _return(member, store, "10.00", idempotency_key="r-1")
    second = _return(member, store, "10.00", idempotency_key="r-1")

    assert first.pk == second.pk
    assert LedgerEntry.objects.filter(kind="return").count() == 1


def test_points_stay_pending_for_the_store_s_return_window(store, member):
    EarningRuleFactory(store=StoreFactory(code="LIE01"), pending_days=0)
    store.earning_rule.pending_days = 14
    store.earning_rule.save()
    points_earn(
        member=member,
        store=store,
        staff=None,
        amount="30.00",
        at=timezone.now() - timedelta(days=20),
    )
    points_earn(member=member, store=store, staff=None, amount="50.00", reference="T-2")

    assert points_pending(member=member) == 50
    with pytest.raises(InsufficientPoints):
        points_redeem(member=member, store=store, staff=None, points=31)
    points_redeem(member=member, store=store, staff=None, points=30)
    _return(member, store, "50.00", ref="T-2")
    assert points_pending(member=member) == 0


def test_the_return_api_answers_with_the_entry_and_its_reasons(api, cashier, store, member):
    points_earn(member=member, store=store, staff=None, amount="40.00", reference="T-9")
    url = f"/api/v1/members/{member_ref(member, staff=cashier, store=store)}/return/"

    response = api.post(
        url, {"store": "GNT01", "sale_reference": "T-9", "amount": "10.00"}, format="json"
    )
    unknown = api.post(
        url, {"store": "GNT01", "sale_reference": "T-0", "amount": "1.00"}, format="json"
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["entry"]["kind"], body["entry"]["points"], body["points_balance"]) == (
        "return",
        -10,
        30,
    )
    assert body["entry"]["detail"] == [{"reason": "return", "points": -10}]
    assert (unknown.status_code, unknown.json()["code"]) == (404, "sale_not_found")
