"""The counter API as the portal and the reader agent use it: codes, scoping, idempotency."""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from loyalty.models import LedgerEntry, Member, MemberRead
from loyalty.references import member_reference_read
from tests.counter import member_ref
from tests.errors import assert_error
from tests.factories import (
    EarningRuleFactory,
    MemberFactory,
    RewardFactory,
    StaffFactory,
    StoreFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

JOIN = {
    "store": "GNT01",
    "given_name": "Lotte",
    "surname": "Peeters",
    "email": "lotte@example.be",
    "phone": "0470 12 34 56",
}


MEMBER_FIELDS = {
    "reference",
    "number",
    "given_name",
    "surname",
    "email",
    "phone",
    "joined_via",
    "home_store",
    "status",
    "points_balance",
    "has_eid_card",
    "created_at",
}


def ref(member, staff, store, found_by="number", **kwargs) -> str:
    return member_ref(member, staff=staff, store=store, found_by=found_by, **kwargs)


def found_store() -> int:
    from stores.models import Store

    return Store.objects.get(code="GNT01").pk


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


def test_join_by_form(api, cashier, store):
    response = api.post("/api/v1/members/", JOIN, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == MEMBER_FIELDS
    assert body["joined_via"] == "form" and body["points_balance"] == 0
    assert body["has_eid_card"] is False and len(body["number"]) == 12
    # contact details come back masked; stored whole and normalised
    assert (body["email"], body["phone"]) == ("l***@example.be", "+32 *** 56")
    member = Member.objects.get()
    assert member.phone == "+32470123456" and member.email == "lotte@example.be"
    # the reference serves the rest of the visit, as found by enrolment
    detail = api.get(f"/api/v1/members/{body['reference']}/?store=GNT01")
    assert detail.status_code == 200, detail.content
    assert detail.json()["number"] == body["number"]
    assert list(MemberRead.objects.values_list("found_by", "kind")) == [("enrolment", "profile")]


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


def test_cashier_cannot_act_for_another_store(api, cashier, store):
    lie = StoreFactory(code="LIE01")
    response = api.post("/api/v1/members/", {**JOIN, "store": "LIE01"}, format="json")
    assert_error(response, 403, "store_forbidden")
    member = MemberFactory()
    for issued_at in (store, lie):
        response = api.post(
            f"/api/v1/members/{ref(member, cashier, issued_at)}/earn/",
            {"store": "LIE01", "amount": "5"},
            format="json",
        )
        assert_error(response, 403, "store_forbidden")
    assert_error(
        api.post("/api/v1/members/", {**JOIN, "store": "ZZZ"}, format="json"),
        404,
        "store_not_found",
    )
    lookup = api.post("/api/v1/members/lookup/", {"store": "LIE01", "query": member.number})
    assert_error(lookup, 403, "store_forbidden")
    assert member.number not in lookup.content.decode()
    assert not LedgerEntry.objects.exists() and not MemberRead.objects.exists()


def test_lookup_by_number_email_phone(api, cashier):
    member = MemberFactory(email="Fien.Maes@example.be", phone="+32471234567")
    for query in (
        member.number,
        f"{member.number[:4]} {member.number[4:]}",
        "fien.maes@EXAMPLE.be",
        "0471 23 45 67",
    ):
        response = api.post(
            "/api/v1/members/lookup/", {"store": "GNT01", "query": query}, format="json"
        )
        assert response.status_code == 200
        [found] = response.json()["results"]
        assert set(found) == MEMBER_FIELDS, query
        assert found["number"] == member.number, query
        assert (found["email"], found["phone"]) == ("F***@example.be", "+32 *** 67")
        read = member_reference_read(
            found["reference"], store_id=found_store(), staff_id=cashier.pk
        )
        assert read.member_id == member.pk
    text = response.content.decode()
    assert "Fien.Maes" not in text and "471234567" not in text


def test_lookup_needs_the_store_and_one_way_of_finding(api):
    member = MemberFactory()
    for body in (
        {"query": member.number},
        {"store": "GNT01"},
        {"store": "GNT01", "query": member.number, "surname": member.surname},
        {"store": "GNT01", "query": member.number, "id": member.pk},
    ):
        response = api.post("/api/v1/members/lookup/", body, format="json")
        assert_error(response, 400, "invalid_input")
        assert member.number not in response.content.decode()
    assert not MemberRead.objects.exists()


def test_lookup_with_wrong_check_digit(api):
    member = MemberFactory()
    wrong = member.number[:-1] + str((int(member.number[-1]) + 1) % 10)
    response = api.post(
        "/api/v1/members/lookup/", {"store": "GNT01", "query": wrong}, format="json"
    )
    assert_error(response, 400, "invalid_member_number")


def test_lookup_unknown_gives_empty_list(api):
    response = api.post(
        "/api/v1/members/lookup/", {"store": "GNT01", "query": "nobody@example.be"}, format="json"
    )
    assert response.json() == {"results": []}
    assert not MemberRead.objects.exists()


def test_earn_redeem_and_ledger(api, cashier, store):
    EarningRuleFactory(store=store, points_per_euro=Decimal("1"))
    member = MemberFactory()
    base = f"/api/v1/members/{ref(member, cashier, store)}"
    earned = api.post(
        f"{base}/earn/", {"store": "GNT01", "amount": "150.00", "reference": "T-1"}, format="json"
    )
    assert earned.status_code == 201, earned.content
    assert set(earned.json()) == {"entry", "points_balance", "coupons"}
    assert earned.json()["points_balance"] == 150
    assert earned.json()["entry"]["points"] == 150
    reward = RewardFactory(point_cost=100, stores=[store])
    redeemed = api.post(f"{base}/redeem/", {"store": "GNT01", "reward": reward.pk}, format="json")
    assert redeemed.status_code == 201 and redeemed.json()["points_balance"] == 50
    part = api.post(f"{base}/redeem/", {"store": "GNT01", "points": 20}, format="json")
    assert part.json()["points_balance"] == 30
    too_much = api.post(f"{base}/redeem/", {"store": "GNT01", "points": 31}, format="json")
    assert_error(too_much, 409, "insufficient_points")
    ledger = api.get(f"{base}/ledger/?store=GNT01").json()
    assert [line["entry"]["kind"] for line in ledger["results"]] == ["redeem", "redeem", "earn"]
    assert [line["points"] for line in ledger["results"]] == [-20, -100, 150]
    assert api.get(f"{base}/?store=GNT01").json()["points_balance"] == 30


def test_detail_shows_the_rewards_within_reach_here(api, cashier, store):
    member = MemberFactory(points_balance=150)
    coffee = RewardFactory(name="Coffee", point_cost=100, stores=[store])
    RewardFactory(name="Cake", point_cost=200, stores=[store])
    RewardFactory(name="Elsewhere", point_cost=10, stores=[StoreFactory(code="LIE01")])

    body = api.get(f"/api/v1/members/{ref(member, cashier, store)}/?store=GNT01").json()

    assert set(body) == MEMBER_FIELDS | {"rewards_within_reach"}
    assert body["rewards_within_reach"] == [
        {"id": coffee.pk, "name": "Coffee", "description": coffee.description, "point_cost": 100}
    ]


def test_rewards_offered_by_store(api, store):
    RewardFactory(name="Coffee", stores=[store])
    RewardFactory(name="Elsewhere", stores=[StoreFactory(code="LIE01")])
    names = [r["name"] for r in api.get("/api/v1/stores/GNT01/rewards/").json()]
    assert names == ["Coffee"]


def test_idempotent_earn_returns_the_first_answer(api, cashier, store):
    member = MemberFactory()
    url = f"/api/v1/members/{ref(member, cashier, store)}/earn/"
    first = api.post(
        url,
        {"store": "GNT01", "amount": "10"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="till-7-receipt-42",
    )
    # the till retries with a reference of a later lookup: still the same answer
    again = api.post(
        f"/api/v1/members/{ref(member, cashier, store)}/earn/",
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
def test_bad_amounts(api, cashier, store, amount):
    member = MemberFactory()
    response = api.post(
        f"/api/v1/members/{ref(member, cashier, store)}/earn/",
        {"store": "GNT01", "amount": amount},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["code"] in {"invalid_input", "invalid_amount", "amount_not_plain"}
    assert not LedgerEntry.objects.exists()


def test_unknown_member_and_bad_json(api, cashier, store):
    # a reference to a member who is no longer there (erased since the lookup)
    gone = MemberFactory()
    reference = ref(gone, cashier, store)
    gone.delete()
    assert_error(
        api.post(
            f"/api/v1/members/{reference}/earn/", {"store": "GNT01", "amount": "1"}, format="json"
        ),
        404,
        "member_not_found",
    )
    assert_error(api.get(f"/api/v1/members/{reference}/?store=GNT01"), 404, "member_not_found")
    response = api.post("/api/v1/members/", "{not json", content_type="application/json")
    assert_error(response, 400, "malformed_request")
    assert_error(api.get("/api/v1/nope/"), 404, "not_found")
    assert not LedgerEntry.objects.exists() and not MemberRead.objects.exists()


def test_staff_without_store_sees_no_member(store):
    member = MemberFactory()
    loose = UserFactory(username="loose")
    client = APIClient()
    client.force_authenticate(loose)
    detail = client.get(f"/api/v1/members/{ref(member, loose, store)}/?store=GNT01")
    assert_error(detail, 403, "store_forbidden")
    lookup = client.post(
        "/api/v1/members/lookup/", {"store": "GNT01", "query": member.number}, format="json"
    )
    assert_error(lookup, 403, "store_forbidden")
    for response in (detail, lookup):
        assert member.number not in response.content.decode()
        assert member.surname not in response.content.decode()
    assert not MemberRead.objects.exists()


def test_cashier_of_another_store_can_serve_a_member_at_their_own_store(store):
    """Members belong to the chain: any store's cashier serves them at their own counter."""
    member = MemberFactory(home_store=StoreFactory(code="LIE01"))
    client = APIClient()
    client.force_authenticate(StaffFactory(username="c3", store=store))
    found = client.post(
        "/api/v1/members/lookup/", {"store": "GNT01", "query": member.number}, format="json"
    )
    [result] = found.json()["results"]
    assert result["home_store"] == "LIE01"
    response = client.post(
        f"/api/v1/members/{result['reference']}/earn/",
        {"store": "GNT01", "amount": "5"},
        format="json",
    )
    assert response.status_code == 201


def test_openapi_schema_and_docs(client, db):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/members/{member_ref}/earn/" in schema.content
    assert client.get("/api/docs/").status_code == 200


def test_ping_touches_no_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert client.get("/api/v1/ping/").json() == {"status": "ok"}
