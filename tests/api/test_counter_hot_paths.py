"""The counter's hot paths (token, lookup by number, earn): same answers, few statements.

Their reads are written by hand for speed (bench/bench_api.py); these tests hold them to the
answers the ORM versions gave and to the number of statements they were brought down to.
"""

import threading
from decimal import Decimal

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.serializers import Serializer
from rest_framework.test import APIClient

from loyalty.api import LedgerEntryOutputSerializer, MemberOutputSerializer, PointsOutputSerializer
from loyalty.models import LedgerEntry, Member
from loyalty.services import points_earn, points_redeem
from stores.models import Campaign
from stores.selectors import campaign_multiplier, store_for_staff
from tests.factories import (
    EarningRuleFactory,
    EidCardFactory,
    MemberFactory,
    RewardFactory,
    UserFactory,
    staff_token,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def token_client(cashier) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token " + staff_token(cashier))
    return client


def _statements(ctx: CaptureQueriesContext) -> list[str]:
    """Return the SQL sent, without transaction control (BEGIN, COMMIT, SAVEPOINT)."""
    skip = ("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE")
    return [q["sql"] for q in ctx.captured_queries if not q["sql"].lstrip().startswith(skip)]


def test_a_valid_token_is_accepted(token_client, store):
    # when
    response = token_client.post("/api/v1/members/lookup/", {"query": "x@y.be"}, format="json")

    # then
    assert response.status_code == 200, response.content
    assert response.json() == {"results": []}


@pytest.mark.parametrize(
    "header", ["Token nope", "Token " + "0" * 64, "Token", "Token a b", "Token " + "é" * 10]
)
def test_an_unknown_token_is_refused(store, cashier, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)

    response = client.post("/api/v1/members/lookup/", {"query": "x@y.be"}, format="json")

    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


def test_the_token_of_an_inactive_user_is_refused(token_client, cashier):
    # given
    cashier.is_active = False
    cashier.save(update_fields=["is_active"])

    # when
    response = token_client.post("/api/v1/members/lookup/", {"query": "x@y.be"}, format="json")

    # then
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


def test_lookup_by_number_shows_home_store_and_eid_link_in_three_statements(token_client, store):
    # given
    card = EidCardFactory(member__home_store=store)
    plain = MemberFactory(home_store=store)

    # when
    with CaptureQueriesContext(connection) as ctx:
        by_card = token_client.post(
            "/api/v1/members/lookup/", {"query": card.member.number}, format="json"
        )
    statements = _statements(ctx)  # read now: the next request resets the query log
    by_form = token_client.post("/api/v1/members/lookup/", {"query": plain.number}, format="json")

    # then: token with its user, the staff member's right to a store, member (home store,
    # eID link)
    assert len(statements) == 3, statements
    [found] = by_card.json()["results"]
    assert found["id"] == card.member.pk and found["home_store"] == "GNT01"
    assert found["has_eid_card"] is True
    [found] = by_form.json()["results"]
    assert found["number"] == plain.number and found["has_eid_card"] is False


def test_lookup_by_e_mail_takes_the_same_three_statements(token_client, store):
    # given
    member = MemberFactory(home_store=store, email="an@example.be")

    # when
    with CaptureQueriesContext(connection) as ctx:
        response = token_client.post(
            "/api/v1/members/lookup/", {"query": "An@Example.be"}, format="json"
        )

    # then
    assert len(_statements(ctx)) == 3
    assert [m["id"] for m in response.json()["results"]] == [member.pk]


@pytest.mark.parametrize(
    ("body", "content_type", "status", "code"),
    [
        ('{"query": "1234 5678 9012"', "application/json", 400, "malformed_request"),
        ('{"query": "123456789012"}', "application/json", 400, "invalid_member_number"),
        ('["123456789012"]', "application/json", 400, "invalid_input"),
        ("query=123456789012", "application/x-www-form-urlencoded", 400, "invalid_member_number"),
        ("<query>1</query>", "application/xml", 415, "unsupported_media_type"),
    ],
)
def test_a_malformed_lookup_gets_its_code(token_client, store, body, content_type, status, code):
    response = token_client.generic("POST", "/api/v1/members/lookup/", body, content_type)

    assert response.status_code == status, response.content
    assert response.json()["code"] == code


def test_a_staff_member_without_a_store_is_refused_the_lookup(store):
    # given
    member = MemberFactory(home_store=store)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token " + staff_token(UserFactory()))

    # when
    response = client.post("/api/v1/members/lookup/", {"query": member.number}, format="json")

    # then
    assert response.status_code == 403
    assert member.number not in response.content.decode()


def test_earn_applies_rule_and_campaign_in_three_statements_on_postgres(token_client, store):
    # given: 1.5 points per euro, a running x2 campaign and a lower one, an ended x5 one
    EarningRuleFactory(store=store, points_per_euro=Decimal("1.50"))
    now = timezone.now()
    day = timezone.timedelta(days=1)
    for multiplier, starts, ends in [("2", -day, day), ("1.5", -day, day), ("5", -2 * day, -day)]:
        Campaign.objects.create(
            store=store,
            name=f"x{multiplier}",
            multiplier=Decimal(multiplier),
            starts_at=now + starts,
            ends_at=now + ends,
        )
    member = MemberFactory(home_store=store)
    url = f"/api/v1/members/{member.pk}/earn/"

    # when
    with CaptureQueriesContext(connection) as ctx:
        response = token_client.post(
            url, {"store": "GNT01", "amount": "10.00"}, format="json", HTTP_IDEMPOTENCY_KEY="k1"
        )
    statements = _statements(ctx)  # read now: the next request resets the query log
    replay = token_client.post(
        url, {"store": "GNT01", "amount": "10.00"}, format="json", HTTP_IDEMPOTENCY_KEY="k1"
    )

    # then: token, store (+ campaign), then on PostgreSQL one statement for replay check,
    # balance and entry; elsewhere lock (+ replay check), ledger insert, balance update
    assert response.status_code == 201, response.content
    assert response.json()["entry"]["points"] == 30
    assert len(statements) == (3 if connection.vendor == "postgresql" else 5), statements
    assert replay.json()["entry"]["id"] == response.json()["entry"]["id"]
    assert LedgerEntry.objects.filter(member=member).count() == 1


def test_earn_for_an_unknown_member_is_not_found(token_client, store):
    response = token_client.post(
        "/api/v1/members/999999/earn/", {"store": "GNT01", "amount": "5"}, format="json"
    )

    assert response.status_code == 404
    assert response.json()["code"] == "member_not_found"


def test_a_campaign_read_with_the_store_serves_only_that_instant(store, cashier):
    # given: a x3 campaign that ends in an hour
    now = timezone.now()
    hour = timezone.timedelta(hours=1)
    Campaign.objects.create(
        store=store, name="x3", multiplier=Decimal("3"), starts_at=now - hour, ends_at=now + hour
    )

    # when
    found = store_for_staff(cashier, "GNT01", campaign_at=now)
    with CaptureQueriesContext(connection) as ctx:
        at_read = campaign_multiplier(found, at=now)
    later = campaign_multiplier(found, at=now + 2 * hour)

    # then: the instant it was read for costs no query; another instant asks the database
    assert at_read == Decimal("3") and len(ctx.captured_queries) == 0
    assert later == Decimal("1")


def _member_examples(store):
    return [
        MemberFactory(home_store=store),
        EidCardFactory(member__home_store=store).member,
        MemberFactory(home_store=store, email=None, phone=None),
    ]


def test_the_member_output_written_out_equals_what_drf_renders(store):
    for member in _member_examples(store):
        member = Member.objects.select_related("home_store").get(pk=member.pk)
        serializer = MemberOutputSerializer(member)

        assert serializer.data == Serializer.to_representation(serializer, member)


def test_the_entry_outputs_written_out_equal_what_drf_renders(store, cashier):
    # given: an earn, a reward redemption, and a points redemption without a purchase
    member = MemberFactory(home_store=store)
    points_earn(member=member, store=store, staff=cashier, amount="80.10", reference="r")
    reward = RewardFactory(point_cost=20)
    reward.stores.add(store)
    points_redeem(member=member, store=store, staff=cashier, reward=reward)
    points_redeem(member=member, store=store, staff=None, points=3)

    for entry in LedgerEntry.objects.select_related("store", "reward"):
        for serializer in (LedgerEntryOutputSerializer(entry), PointsOutputSerializer(entry)):
            assert serializer.data == Serializer.to_representation(serializer, entry)


@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_with_one_key_write_one_entry(store):
    # given: eight tills sending the same purchase at once (a retry storm)
    member = MemberFactory(home_store=store, points_balance=0)
    answers, errors = [], []
    barrier = threading.Barrier(8)

    def retry() -> None:
        try:
            barrier.wait()
            entry = points_earn(
                member=Member(pk=member.pk),
                store=store,
                staff=None,
                amount="10",
                idempotency_key="storm",
            )
            answers.append(entry.pk)
        except BaseException as exc:  # collected and asserted on below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=retry) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    # then: every till got the one entry; the balance moved once
    assert errors == []
    [entry] = LedgerEntry.objects.filter(member_id=member.pk)
    assert answers == [entry.pk] * 8
    member.refresh_from_db()
    assert member.points_balance == 10
