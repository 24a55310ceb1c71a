"""The till's quote (what a basket would earn, nothing written) and coupon redemption."""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
import yaml
from django.db import connection, connections
from django.utils import timezone

from core.errors import CouponUnavailable
from loyalty.models import CampaignApplication, Coupon, LedgerEntry, Member
from loyalty.services import coupon_redeem, coupons_issue_bulk
from stores.models import Campaign, Tier
from tests.counter import member_ref
from tests.factories import EarningRuleFactory, MemberFactory, StoreFactory

pytestmark = pytest.mark.django_db


def _campaign(store, **fields):
    now = timezone.now()
    return Campaign.objects.create(
        store=store, starts_at=now - timedelta(days=1), ends_at=now + timedelta(days=1), **fields
    )


def _written():
    return (
        LedgerEntry.objects.count(),
        Coupon.objects.count(),
        CampaignApplication.objects.count(),
        list(Member.objects.values_list("points_balance", "tier_points", "tier", "updated_at")),
    )


def test_the_quote_is_what_the_earn_then_credits(api, cashier, store):
    # given: a rule, a tier, a capped multiplier, a product bonus and a coupon campaign
    EarningRuleFactory(store=store, points_per_euro=Decimal("1"))
    Tier.objects.create(code="silver", name="Silver", threshold=0, multiplier=Decimal("1.5"))
    _campaign(store, name="Double", multiplier=Decimal("2"), max_per_member=1)
    _campaign(store, name="Coffee", points_per_product=2, product_codes=["K1"], combination="add")
    _campaign(store, name="Voucher", coupon_value=Decimal("3"), combination="add")
    member = MemberFactory(home_store=store, tier="silver")
    url = f"/api/v1/members/{member_ref(member, staff=cashier, store=store)}"
    basket = {
        "store": "GNT01",
        "amount": "20.00",
        "lines": [{"product": "K1", "quantity": 3, "amount": "9.00"}],
    }
    before = _written()

    # when
    quote = api.post(f"{url}/quote/", basket, format="json")

    # then: nothing written; the earn credits what was quoted, part by part
    assert quote.status_code == 200, quote.content
    assert _written() == before
    body = quote.json()
    assert body["points"] == 20 + 20 + 6 + 10
    assert [p["reason"] for p in body["detail"]] == [
        "purchase",
        "campaign",
        "campaign",
        "campaign",
        "tier",
    ]
    assert body["coupons"] == [
        {"campaign": "Voucher", "value": "3.00", "product": "", "valid_days": 30}
    ]
    earned = api.post(f"{url}/earn/", basket, format="json", HTTP_IDEMPOTENCY_KEY="sale-1")
    assert earned.status_code == 201, earned.content
    assert earned.json()["entry"]["points"] == body["points"]
    assert earned.json()["entry"]["detail"] == body["detail"]
    assert [c["value"] for c in earned.json()["coupons"]] == ["3.00"]
    # the multiplier was for once per member: the next quote no longer has it
    assert api.post(f"{url}/quote/", basket, format="json").json()["points"] == 20 + 6 + 10


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"store": "GNT01", "amount": "-1"}, 400, "amount_not_plain"),
        ({"store": "GNT01", "amount": "0"}, 400, "invalid_amount"),
        ({"store": "GNT01", "amount": "5", "lines": [{"quantity": 1}]}, 400, "invalid_input"),
        ({"store": "GNT01", "amount": "5", "colour": "red"}, 400, "invalid_input"),
        ({"store": "XX99", "amount": "5"}, 404, "store_not_found"),
        ({"store": "LIE01", "amount": "5"}, 403, "store_forbidden"),
    ],
)
def test_the_quote_refuses_what_the_earn_refuses(api, cashier, store, body, status, code):
    StoreFactory(code="LIE01")
    member = MemberFactory(home_store=store)
    url = f"/api/v1/members/{member_ref(member, staff=cashier, store=store)}"

    response = api.post(f"{url}/quote/", body, format="json")
    earned = api.post(f"{url}/earn/", body, format="json")

    assert (response.status_code, response.json()["code"]) == (status, code)
    assert (earned.status_code, earned.json()["code"]) == (status, code)


def test_a_blocked_member_gets_no_quote(api, cashier, store):
    Tier.objects.create(code="silver", name="Silver", threshold=0)
    member = MemberFactory(home_store=store, status="blocked")
    url = f"/api/v1/members/{member_ref(member, staff=cashier, store=store)}/quote/"

    response = api.post(url, {"store": "GNT01", "amount": "5"}, format="json")

    assert (response.status_code, response.json()["code"]) == (409, "member_inactive")


def test_the_schema_documents_the_quote_with_every_status(client):
    schema = yaml.safe_load(client.get("/api/schema/").content)
    quote = schema["paths"]["/api/v1/members/{member_ref}/quote/"]["post"]
    assert {"200", "400", "401", "403", "404", "409"} <= set(quote["responses"])
    assert "points_out_of_range" in quote["responses"]["400"]["description"]
    redeem = schema["paths"]["/api/v1/coupons/redeem/"]["post"]
    assert {"201", "400", "401", "403", "404", "409"} <= set(redeem["responses"])


def test_a_coupon_is_redeemed_once_by_code_at_the_counter(api, cashier, store):
    (coupon,) = coupons_issue_bulk(count=1, value=None, product="Croissant", valid_days=10)
    code = f"{coupon.code[:4]}-{coupon.code[4:8]} {coupon.code[8:].lower()}"  # as typed

    first = api.post("/api/v1/coupons/redeem/", {"store": "GNT01", "code": code}, format="json")
    second = api.post("/api/v1/coupons/redeem/", {"store": "GNT01", "code": code}, format="json")

    assert first.status_code == 201, first.content
    assert first.json()["product"] == "Croissant"
    assert (second.status_code, second.json()["code"]) == (409, "coupon_unavailable")
    coupon.refresh_from_db()
    assert (coupon.redeemed_store, coupon.redeemed_by) == (store, cashier)


def test_an_expired_coupon_or_someone_elses_is_refused(api, cashier, store):
    (old,) = coupons_issue_bulk(
        count=1, value=Decimal("5"), product="", valid_days=1, at=timezone.now() - timedelta(days=2)
    )
    owner, other = MemberFactory(home_store=store), MemberFactory(home_store=store)
    (mine,) = coupons_issue_bulk(count=1, value=Decimal("5"), product="", valid_days=5)
    Coupon.objects.filter(pk=mine.pk).update(member=owner)
    ref = member_ref(other, staff=cashier, store=store)

    expired = api.post("/api/v1/coupons/redeem/", {"store": "GNT01", "code": old.code})
    theirs = api.post(
        "/api/v1/coupons/redeem/", {"store": "GNT01", "code": mine.code, "member": ref}
    )
    unknown = api.post("/api/v1/coupons/redeem/", {"store": "GNT01", "code": "NOPE"})

    assert expired.json()["code"] == theirs.json()["code"] == "coupon_unavailable"
    assert unknown.status_code == 404
    assert Coupon.objects.filter(redeemed_at__isnull=False).count() == 0


def _at_once(count, work):
    barrier, results = threading.Barrier(count), []

    def run(i):
        try:
            barrier.wait()
            results.append(work(i))
        except BaseException as exc:  # collected, asserted on below
            results.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_code_redeemed_at_ten_tills_at_once_is_redeemed_once_on_postgres():
    assert connection.vendor == "postgresql"
    store = StoreFactory(code="GNT01")
    (coupon,) = coupons_issue_bulk(count=1, value=Decimal("5"), product="", valid_days=5)

    results = _at_once(10, lambda i: coupon_redeem(code=coupon.code, store=store, staff=None))

    assert sum(isinstance(r, Coupon) for r in results) == 1
    assert sum(isinstance(r, CouponUnavailable) for r in results) == 9


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_campaign_capped_in_total_is_never_over_used_by_concurrent_earns_on_postgres():
    from loyalty.services import points_earn

    store = StoreFactory(code="GNT01")
    EarningRuleFactory(store=store, points_per_euro=Decimal("1"))
    _campaign(store, name="First five", bonus_points=100, max_total=5, combination="add")
    members = [MemberFactory(home_store=store) for _ in range(12)]

    results = _at_once(
        12, lambda i: points_earn(member=members[i], store=store, staff=None, amount="10")
    )

    assert all(isinstance(r, LedgerEntry) for r in results), results
    assert sorted(r.points for r in results) == [10] * 7 + [110] * 5
    assert CampaignApplication.objects.count() == 5
