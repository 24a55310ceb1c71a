"""The counter's hot paths (token, lookup by number, earn): same answers, few statements.

Their reads are written by hand for speed (bench/bench_api.py); these tests hold them to the
answers the ORM versions gave and to the number of statements they were brought down to.
"""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from loyalty.models import LedgerEntry
from stores.models import Campaign
from tests.factories import EarningRuleFactory, EidCardFactory, MemberFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def token_client(cashier) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token " + Token.objects.create(user=cashier).key)
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


@pytest.mark.parametrize("header", ["Token nope", "Token " + "0" * 40])
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

    # then: token, staff assignments, member (with home store and eID link)
    assert len(statements) == 3, statements
    [found] = by_card.json()["results"]
    assert found["id"] == card.member.pk and found["home_store"] == "GNT01"
    assert found["has_eid_card"] is True
    [found] = by_form.json()["results"]
    assert found["number"] == plain.number and found["has_eid_card"] is False


def test_earn_applies_rule_and_campaign_in_five_statements(token_client, store):
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

    # then: token, store, lock (+ replay check + campaign), ledger insert, balance update
    assert response.status_code == 201, response.content
    assert response.json()["entry"]["points"] == 30
    assert len(statements) == 5, statements
    assert replay.json()["entry"]["id"] == response.json()["entry"]["id"]
    assert LedgerEntry.objects.filter(member=member).count() == 1


def test_earn_for_an_unknown_member_is_not_found(token_client, store):
    response = token_client.post(
        "/api/v1/members/999999/earn/", {"store": "GNT01", "amount": "5"}, format="json"
    )

    assert response.status_code == 404
    assert response.json()["code"] == "member_not_found"
