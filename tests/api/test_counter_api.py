"""The counter API as the portal and the reader agent use it: codes, scoping, idempotency."""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from loyalty.models import LedgerEntry, Member
from tests.factories import (
    EarningRuleFactory,
    MemberFactory,
    RewardFactory,
    StaffFactory,
    StoreFactory,
)

pytestmark = pytest.mark.django_db

JOIN = {
    "store": "GNT01",
    "given_name": "Lotte",
    "surname": "Peeters",
    "email": "lotte@example.be",
    "phone": "0470 12 34 56",
}


def assert_error(response, status, code):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "message", "details"}
    assert body["code"] == code
    assert body["message"]
    return body


def test_token_login_and_store_list(store, cashier):
    client = APIClient()
    response = client.post(
        "/api/v1/auth/token/",
        {"username": "cashier", "password": "pw-for-tests-only"},
        format="json",
    )
    assert response.status_code == 200
    client.credentials(HTTP_AUTHORIZATION="Token " + response.json()["token"])
    stores = client.get("/api/v1/stores/").json()
    assert [s["code"] for s in stores] == ["GNT01"]


def test_wrong_password_and_anonymous(store, cashier):
    client = APIClient()
    response = client.post(
        "/api/v1/auth/token/", {"username": "cashier", "password": "x"}, format="json"
    )
    assert_error(response, 401, "invalid_credentials")
    assert_error(client.get("/api/v1/stores/"), 401, "not_authenticated")


def test_join_by_form(api):
    response = api.post("/api/v1/members/", JOIN, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["joined_via"] == "form" and body["phone"] == "+32470123456"
    assert body["points_balance"] == 0 and body["has_eid_card"] is False
    assert len(body["number"]) == 12


def test_join_refuses_extra_fields(api):
    response = api.post("/api/v1/members/", {**JOIN, "birth_date": "1990-01-01"}, format="json")
    body = assert_error(response, 400, "invalid_input")
    assert "birth_date" in body["details"]
    assert not Member.objects.exists()


def test_join_twice_with_same_email(api):
    api.post("/api/v1/members/", JOIN, format="json")
    again = api.post("/api/v1/members/", {**JOIN, "email": "LOTTE@example.be"}, format="json")
    assert_error(again, 409, "member_exists")


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("email", "not-an-email", "invalid_email"),
        ("phone", "123", "invalid_phone"),
        ("given_name", "", "invalid_input"),
    ],
)
def test_join_bad_input(api, field, value, code):
    assert_error(api.post("/api/v1/members/", {**JOIN, field: value}, format="json"), 400, code)
    assert not Member.objects.exists()


def test_cashier_cannot_act_for_another_store(api):
    StoreFactory(code="LIE01")
    response = api.post("/api/v1/members/", {**JOIN, "store": "LIE01"}, format="json")
    assert_error(response, 403, "store_forbidden")
    member = MemberFactory()
    response = api.post(
        f"/api/v1/members/{member.pk}/earn/", {"store": "LIE01", "amount": "5"}, format="json"
    )
    assert_error(response, 403, "store_forbidden")
    assert_error(
        api.post("/api/v1/members/", {**JOIN, "store": "ZZZ"}, format="json"),
        404,
        "store_not_found",
    )


def test_lookup_by_number_email_phone(api):
    member = MemberFactory(email="Fien.Maes@example.be", phone="+32471234567")
    for query in (
        member.number,
        f"{member.number[:4]} {member.number[4:]}",
        "fien.maes@EXAMPLE.be",
        "0471 23 45 67",
    ):
        response = api.post("/api/v1/members/lookup/", {"query": query}, format="json")
        assert response.status_code == 200
        assert [m["id"] for m in response.json()["results"]] == [member.pk], query


def test_lookup_with_wrong_check_digit(api):
    member = MemberFactory()
    wrong = member.number[:-1] + str((int(member.number[-1]) + 1) % 10)
    response = api.post("/api/v1/members/lookup/", {"query": wrong}, format="json")
    assert_error(response, 400, "invalid_member_number")


def test_lookup_unknown_gives_empty_list(api):
    response = api.post("/api/v1/members/lookup/", {"query": "nobody@example.be"}, format="json")
    assert response.json() == {"results": []}


def test_earn_redeem_and_ledger(api, store):
    EarningRuleFactory(store=store, points_per_euro=Decimal("1"))
    member = MemberFactory()
    earned = api.post(
        f"/api/v1/members/{member.pk}/earn/",
        {"store": "GNT01", "amount": "150.00", "reference": "T-1"},
        format="json",
    )
    assert earned.status_code == 201, earned.content
    assert earned.json()["points_balance"] == 150
    assert earned.json()["entry"]["points"] == 150
    reward = RewardFactory(point_cost=100, stores=[store])
    redeemed = api.post(
        f"/api/v1/members/{member.pk}/redeem/",
        {"store": "GNT01", "reward": reward.pk},
        format="json",
    )
    assert redeemed.status_code == 201 and redeemed.json()["points_balance"] == 50
    part = api.post(
        f"/api/v1/members/{member.pk}/redeem/", {"store": "GNT01", "points": 20}, format="json"
    )
    assert part.json()["points_balance"] == 30
    too_much = api.post(
        f"/api/v1/members/{member.pk}/redeem/", {"store": "GNT01", "points": 31}, format="json"
    )
    assert_error(too_much, 409, "insufficient_points")
    ledger = api.get(f"/api/v1/members/{member.pk}/ledger/").json()
    assert [e["kind"] for e in ledger["results"]] == ["redeem", "redeem", "earn"]
    assert api.get(f"/api/v1/members/{member.pk}/").json()["points_balance"] == 30


def test_rewards_offered_by_store(api, store):
    RewardFactory(name="Coffee", stores=[store])
    RewardFactory(name="Elsewhere", stores=[StoreFactory(code="LIE01")])
    names = [r["name"] for r in api.get("/api/v1/stores/GNT01/rewards/").json()]
    assert names == ["Coffee"]


def test_idempotent_earn_returns_the_first_answer(api):
    member = MemberFactory()
    url = f"/api/v1/members/{member.pk}/earn/"
    first = api.post(
        url,
        {"store": "GNT01", "amount": "10"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="till-7-receipt-42",
    )
    again = api.post(
        url,
        {"store": "GNT01", "amount": "10"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="till-7-receipt-42",
    )
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert LedgerEntry.objects.count() == 1
    other = api.post(
        url,
        {"store": "GNT01", "amount": "99"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="till-7-receipt-42",
    )
    assert_error(other, 409, "idempotency_key_reused")


@pytest.mark.parametrize("amount", ["0", "-1", "abc", "1000000000", "", None, "1.234"])
def test_bad_amounts(api, amount):
    member = MemberFactory()
    response = api.post(
        f"/api/v1/members/{member.pk}/earn/", {"store": "GNT01", "amount": amount}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["code"] in {"invalid_input", "invalid_amount"}
    assert not LedgerEntry.objects.exists()


def test_unknown_member_and_bad_json(api):
    assert_error(
        api.post("/api/v1/members/999999/earn/", {"store": "GNT01", "amount": "1"}, format="json"),
        404,
        "member_not_found",
    )
    response = api.post("/api/v1/members/", "{not json", content_type="application/json")
    assert_error(response, 400, "malformed_request")
    assert_error(api.get("/api/v1/nope/"), 404, "not_found")


def test_staff_without_store_sees_no_member(db):
    from tests.factories import UserFactory

    member = MemberFactory()
    client = APIClient()
    client.force_authenticate(UserFactory(username="loose"))
    assert_error(client.get(f"/api/v1/members/{member.pk}/"), 403, "forbidden")


def test_cashier_of_another_store_can_serve_a_member_at_their_own_store(store):
    """Members belong to the chain: any store's cashier serves them at their own counter."""
    member = MemberFactory(home_store=StoreFactory(code="LIE01"))
    client = APIClient()
    client.force_authenticate(StaffFactory(username="c3", store=store))
    response = client.post(
        f"/api/v1/members/{member.pk}/earn/", {"store": "GNT01", "amount": "5"}, format="json"
    )
    assert response.status_code == 201


def test_openapi_schema_and_docs(client, db):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/members/{member_id}/earn/" in schema.content
    assert client.get("/api/docs/").status_code == 200


def test_ping_touches_no_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert client.get("/api/v1/ping/").json() == {"status": "ok"}
