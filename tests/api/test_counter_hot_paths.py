"""The counter's hot paths (token, lookup by number, earn): same answers, few statements.

Who may act where (stores.access) and the store's earning terms (stores.selectors) come from
Django's cache once warm; the earn on PostgreSQL is one statement (loyalty.ledger_sql). These
tests hold the paths to the answers the ORM gives and to the statements they were brought to.
"""

import threading
from decimal import Decimal

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from loyalty.api import (
    LedgerEntryOutputSerializer,
    MemberOutputSerializer,
    PointsOutputSerializer,
    ledger_entry_output,
    member_output,
    points_output,
)
from loyalty.models import LedgerEntry, Member, MemberRead
from loyalty.services import points_earn, points_redeem
from stores.models import Campaign
from stores.selectors import earning_terms
from tests.counter import member_ref
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


LOOKUP = "/api/v1/members/lookup/"


def _lookup(client, query: str):
    return client.post(LOOKUP, {"store": "GNT01", "query": query}, format="json")


def _warm(client) -> None:
    """One call first, as a till's day has had: the staff access and the store are cached."""
    assert _lookup(client, "nobody@example.be").status_code == 200


def _statements(ctx: CaptureQueriesContext) -> list[str]:
    """Return the SQL sent, without transaction control (BEGIN, COMMIT, SAVEPOINT)."""
    skip = ("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE")
    return [q["sql"] for q in ctx.captured_queries if not q["sql"].lstrip().startswith(skip)]


def test_a_valid_token_is_accepted(token_client, store):
    # when
    response = _lookup(token_client, "x@y.be")

    # then
    assert response.status_code == 200, response.content
    assert response.json() == {"results": []}


@pytest.mark.parametrize(
    "header", ["Token nope", "Token " + "0" * 64, "Token", "Token a b", "Token " + "é" * 10]
)
def test_an_unknown_token_is_refused(store, cashier, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)

    response = _lookup(client, "x@y.be")

    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


def test_the_token_of_an_inactive_user_is_refused(token_client, cashier):
    # given
    cashier.is_active = False
    cashier.save(update_fields=["is_active"])

    # when
    response = _lookup(token_client, "x@y.be")

    # then
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


def test_a_token_is_read_from_the_database_once_per_cache_generation(token_client, store):
    from core.cache import memo_forget_everywhere

    def token_reads():
        with CaptureQueriesContext(connection) as ctx:
            assert _lookup(token_client, "x@y.be").status_code == 200
        return sum("stores_stafftoken" in sql for sql in _statements(ctx))

    assert token_reads() == 1
    assert token_reads() == 0
    memo_forget_everywhere()  # what deleting any token does, in whichever process
    assert token_reads() == 1


def test_a_token_deleted_behind_this_process_s_back_is_refused_once_the_generation_moves(
    token_client, store
):
    """Another process revoked it: its delete moved the shared generation on, which this
    process reads at its next request, so it asks the database again."""
    from django.core.cache import cache

    from core import cache as shared

    assert _lookup(token_client, "x@y.be").status_code == 200
    with connection.cursor() as cursor:  # no signal here: as if done elsewhere
        cursor.execute("DELETE FROM stores_stafftoken")
    cache.incr(shared._GENERATION_KEY)

    response = _lookup(token_client, "x@y.be")

    assert response.status_code == 401 and response.json()["code"] == "authentication_failed"


def test_lookup_by_number_shows_home_store_and_eid_link_in_few_statements(token_client, store):
    # given
    card = EidCardFactory(member__home_store=store)
    plain = MemberFactory(home_store=store)
    _warm(token_client)

    # when
    with CaptureQueriesContext(connection) as ctx:
        by_card = _lookup(token_client, card.member.number)
    statements = _statements(ctx)  # read now: the next request resets the query log
    by_form = _lookup(token_client, plain.number)

    # then: member (eID link at once; home store from the cache), the read recorded; on
    # PostgreSQL the member and the record of the read are one statement. The token was read
    # by the first call and kept for the cache generation (stores.authentication).
    assert len(statements) == (1 if connection.vendor == "postgresql" else 2), statements
    assert "loyalty_memberread" in statements[-1].lower()
    [found] = by_card.json()["results"]
    assert found["number"] == card.member.number and found["home_store"] == "GNT01"
    assert found["has_eid_card"] is True and found["reference"].startswith("mr_")
    [found] = by_form.json()["results"]
    assert found["number"] == plain.number and found["has_eid_card"] is False


def test_lookup_by_e_mail_takes_two_statements(token_client, store):
    # given
    member = MemberFactory(home_store=store, email="an@example.be")
    _warm(token_client)

    # when
    with CaptureQueriesContext(connection) as ctx:
        response = _lookup(token_client, "An@Example.be")

    # then
    # then: the members with that address, the read recorded (the token kept since the first)
    assert len(_statements(ctx)) == 2, _statements(ctx)
    assert [m["number"] for m in response.json()["results"]] == [member.number]


@pytest.mark.parametrize(
    ("body", "content_type", "status", "code"),
    [
        (
            '{"store": "GNT01", "query": "1234 5678 9012"',
            "application/json",
            400,
            "malformed_request",
        ),
        (
            '{"store": "GNT01", "query": "123456789012"}',
            "application/json",
            400,
            "invalid_member_number",
        ),
        ('["123456789012"]', "application/json", 400, "invalid_input"),
        (
            "store=GNT01&query=123456789012",
            "application/x-www-form-urlencoded",
            400,
            "invalid_member_number",
        ),
        ("<query>1</query>", "application/xml", 415, "unsupported_media_type"),
    ],
)
def test_a_lookup_in_any_body_gets_the_usual_answer(
    token_client, store, body, content_type, status, code
):
    response = token_client.generic("POST", "/api/v1/members/lookup/", body, content_type)

    assert response.status_code == status, response.content
    assert response.json()["code"] == code


def test_no_member_is_read_for_staff_without_a_store(store):
    # given: a member, an active user with no store, and an inactive cashier
    member = MemberFactory(home_store=store)
    nobody = UserFactory()
    gone = UserFactory()
    tokens = {nobody.pk: staff_token(nobody), gone.pk: staff_token(gone)}
    type(gone).objects.filter(pk=gone.pk).update(is_active=False)  # past the revoking save
    gone.refresh_from_db()

    for user, status in ((nobody, 403), (gone, 401)):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION="Token " + tokens[user.pk])

        # when
        with CaptureQueriesContext(connection) as ctx:
            response = _lookup(client, member.number)

        # then: refused, and no statement so much as touched the members' table
        assert response.status_code == status
        assert not [q for q in _statements(ctx) if "loyalty_member" in q.lower()]
        assert member.number not in response.content.decode()
    assert not MemberRead.objects.exists()


def test_earn_applies_rule_and_campaign_in_two_statements_on_postgres(token_client, cashier, store):
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
    url = f"/api/v1/members/{member_ref(member, staff=cashier, store=store)}/earn/"
    warm = MemberFactory(home_store=store)
    token_client.post(
        f"/api/v1/members/{member_ref(warm, staff=cashier, store=store)}/earn/",
        {"store": "GNT01", "amount": "1.00"},
        format="json",
    )

    # when
    with CaptureQueriesContext(connection) as ctx:
        response = token_client.post(
            url, {"store": "GNT01", "amount": "10.00"}, format="json", HTTP_IDEMPOTENCY_KEY="k1"
        )
    statements = _statements(ctx)  # read now: the next request resets the query log
    replay = token_client.post(
        url, {"store": "GNT01", "amount": "10.00"}, format="json", HTTP_IDEMPOTENCY_KEY="k1"
    )

    # then: on PostgreSQL one statement for replay check, balance and entry; elsewhere lock
    # (+ replay check), ledger insert, balance update. The token (kept since the first call),
    # access, store, rule and campaigns come from the cache; the member is the reference's.
    assert response.status_code == 201, response.content
    assert response.json()["entry"]["points"] == 30
    assert len(statements) == (1 if connection.vendor == "postgresql" else 3), statements
    assert replay.json()["entry"]["id"] == response.json()["entry"]["id"]
    assert LedgerEntry.objects.filter(member=member).count() == 1


def test_earn_for_an_unknown_member_is_not_found(token_client, cashier, store):
    gone = MemberFactory(home_store=store)
    reference = member_ref(gone, staff=cashier, store=store)
    gone.delete()

    response = token_client.post(
        f"/api/v1/members/{reference}/earn/", {"store": "GNT01", "amount": "5"}, format="json"
    )

    assert response.status_code == 404
    assert response.json()["code"] == "member_not_found"
    assert not LedgerEntry.objects.exists()


def test_the_earning_terms_serve_every_instant_from_one_read(store, django_assert_num_queries):
    # given: a x3 campaign that ends in an hour, and one that starts in two
    now = timezone.now()
    hour = timezone.timedelta(hours=1)
    Campaign.objects.create(
        store=store, name="x3", multiplier=Decimal("3"), starts_at=now - hour, ends_at=now + hour
    )
    Campaign.objects.create(
        store=store,
        name="x2 later",
        multiplier=Decimal("2"),
        starts_at=now + 2 * hour,
        ends_at=now + 3 * hour,
    )

    # when
    terms = earning_terms(store)
    with django_assert_num_queries(0):
        again = earning_terms(store)
        at_read, between, later, after = (
            again.multiplier_at(now + d * hour) for d in (0, 1.5, 2.5, 4)
        )

    # then: the campaign in force at each instant, with no query once read
    assert again == terms
    assert (at_read, between, later, after) == (
        Decimal("3"),
        Decimal("1"),
        Decimal("2"),
        Decimal("1"),
    )


def test_a_changed_rule_or_campaign_is_earned_at_once(store, cashier):
    # given: the terms read and cached, then the store's rule and a campaign change
    member = MemberFactory(home_store=store)
    assert points_earn(member=member, store=store, staff=None, amount="10").points == 10
    rule = EarningRuleFactory(store=store, points_per_euro=Decimal("2.00"))
    now = timezone.now()
    Campaign.objects.create(
        store=store,
        name="x3",
        multiplier=Decimal("3"),
        starts_at=now - timezone.timedelta(hours=1),
        ends_at=now + timezone.timedelta(hours=1),
    )

    # then: the next earn applies them
    assert points_earn(member=member, store=store, staff=None, amount="10").points == 60
    rule.delete()
    assert points_earn(member=member, store=store, staff=None, amount="10").points == 30


def _member_examples(store):
    return [
        MemberFactory(home_store=store),
        EidCardFactory(member__home_store=store).member,
        MemberFactory(home_store=store, email=None, phone=None),
    ]


def test_the_member_output_written_out_equals_what_drf_renders(store, cashier):
    for member in _member_examples(store):
        member = Member.objects.select_related("home_store", "eid_card").get(pk=member.pk)
        reference = member_ref(member, staff=cashier, store=store)
        member.reference = reference  # what the serializer reads; member_output takes it apart

        written = member_output(member, reference)

        assert written == MemberOutputSerializer(member).data
        assert set(written) == set(MemberOutputSerializer().fields)


def test_the_entry_outputs_written_out_equal_what_drf_renders(store, cashier):
    # given: an earn, a reward redemption, and a points redemption without a purchase
    member = MemberFactory(home_store=store)
    points_earn(member=member, store=store, staff=cashier, amount="80.10", reference="r")
    reward = RewardFactory(point_cost=20)
    reward.stores.add(store)
    points_redeem(member=member, store=store, staff=cashier, reward=reward)
    points_redeem(member=member, store=store, staff=None, points=3)

    entries = list(LedgerEntry.objects.select_related("store", "reward"))
    assert len(entries) == 3
    for entry in entries:
        assert ledger_entry_output(entry) == LedgerEntryOutputSerializer(entry).data
        assert points_output(entry) == PointsOutputSerializer(entry).data


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
