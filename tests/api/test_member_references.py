"""Reaching a member at the counter (rule 9): only by what the customer presents, then by the
reference the lookup handed out; what staff see of other stores; every read recorded; throttles.
"""

from __future__ import annotations

import time

import pytest
from django.core import mail
from rest_framework.test import APIClient

from loyalty.api import MemberFindThrottle, MemberReadThrottle
from loyalty.models import LedgerEntry, Member, MemberRead
from loyalty.services import points_earn
from privacy.models import ConsentRecord, PrivacyTicket
from stores.models import StaffAssignment, StaffRole
from tests.counter import member_ref
from tests.errors import assert_error
from tests.factories import (
    HeadOfficeFactory,
    MemberFactory,
    RewardFactory,
    StaffFactory,
    StoreFactory,
)

pytestmark = pytest.mark.django_db

# Every counter route that takes a member reference: (method, path after the reference, body).
REFERENCE_ROUTES = {
    "detail": ("get", "", {"store": "GNT01"}),
    "ledger": ("get", "ledger/", {"store": "GNT01"}),
    "consent": ("get", "consent/", {"store": "GNT01"}),
    "earn": ("post", "earn/", {"store": "GNT01", "amount": "10"}),
    "redeem": ("post", "redeem/", {"store": "GNT01", "points": 5}),
    "consent-withdraw": (
        "post",
        "consent/withdraw/",
        {"store": "GNT01", "purpose": "marketing_email", "channel": "counter_form"},
    ),
    "erasure": ("post", "erasure/", {"store": "GNT01"}),
    "confirm": ("post", "confirm/", {"store": "GNT01", "kind": "erasure", "code": "123456"}),
    "export": ("post", "export/", {"store": "GNT01"}),
}


def call(client, route: str, reference: str):
    method, suffix, body = REFERENCE_ROUTES[route]
    url = f"/api/v1/members/{reference}/{suffix}"
    if method == "get":
        return client.get(url, body)
    return client.post(url, body, format="json")


def _tampered(reference: str) -> str:
    middle = len(reference) // 2
    flipped = "A" if reference[middle] != "A" else "B"
    return reference[:middle] + flipped + reference[middle + 1 :]


@pytest.fixture
def lie(db):
    return StoreFactory(code="LIE01", name="Liège Carré", city="Liège", language="fr")


@pytest.fixture
def member(store, lie):
    member = MemberFactory(home_store=lie, points_balance=0)
    points_earn(member=member, store=lie, staff=None, amount="40.00", reference="receipt-lie")
    member.refresh_from_db()
    return member


def _bad_references(member, cashier, store, lie, settings) -> dict[str, tuple[str, str]]:
    """Return, by case, a reference the cashier must be refused at GNT01, and the code."""
    colleague = StaffFactory(username="colleague", store=store)
    # The cashier works at both stores: a reference of the other counter still does not do.
    StaffAssignment.objects.create(user=cashier, store=lie, role=StaffRole.CASHIER)
    mine = member_ref(member, staff=cashier, store=store)
    too_old = time.time() - settings.MEMBER_REFERENCE_SECONDS - 5
    return {
        "bare id": (str(member.pk), "member_reference_invalid"),
        "member number": (member.number, "member_reference_invalid"),
        "another staff member's": (
            member_ref(member, staff=colleague, store=store),
            "member_reference_invalid",
        ),
        "another store's": (
            member_ref(member, staff=cashier, store=lie),
            "member_reference_invalid",
        ),
        "expired": (
            member_ref(member, staff=cashier, store=store, now=too_old),
            "member_reference_expired",
        ),
        "tampered": (_tampered(mine), "member_reference_invalid"),
        "cut short": (mine[:-2], "member_reference_invalid"),
        "prefix only": ("mr_", "member_reference_invalid"),
    }


BAD_CASES = [
    "bare id",
    "member number",
    "another staff member's",
    "another store's",
    "expired",
    "tampered",
    "cut short",
    "prefix only",
]


@pytest.mark.parametrize("case", BAD_CASES)
@pytest.mark.parametrize("route", sorted(REFERENCE_ROUTES))
def test_a_reference_not_issued_to_this_cashier_here_and_now_is_refused_and_nothing_written(
    api, cashier, store, lie, member, settings, route, case, django_capture_on_commit_callbacks
):
    # given
    reference, code = _bad_references(member, cashier, store, lie, settings)[case]
    entries = LedgerEntry.objects.count()
    consents = ConsentRecord.objects.count()

    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = call(api, route, reference)

    # then: the clear code, none of the member's data, nothing written, nobody mailed
    assert_error(response, 400 if code == "member_reference_expired" else 404, code)
    text = response.content.decode()
    for secret in (member.surname, member.email, member.number, member.phone):
        assert secret not in text
    assert LedgerEntry.objects.count() == entries
    assert ConsentRecord.objects.count() == consents
    assert not MemberRead.objects.exists()
    assert not PrivacyTicket.objects.exists()
    assert mail.outbox == []
    assert Member.objects.get(pk=member.pk).points_balance == 40


def test_a_reference_works_until_its_time_is_up(api, cashier, store, member, settings):
    almost = time.time() - settings.MEMBER_REFERENCE_SECONDS + 30
    reference = member_ref(member, staff=cashier, store=store, now=almost)
    assert call(api, "detail", reference).status_code == 200
    settings.MEMBER_REFERENCE_SECONDS = 10
    assert_error(call(api, "detail", reference), 400, "member_reference_expired")


def test_a_reference_sealed_with_another_key_is_refused(api, cashier, store, member, settings):
    settings.SECRET_KEY = "someone-else's-key-" + "x" * 40
    forged = member_ref(member, staff=cashier, store=store)
    settings.SECRET_KEY = settings.SECRET_KEY.replace("someone-else's-key-", "")
    assert_error(call(api, "earn", forged), 404, "member_reference_invalid")
    assert LedgerEntry.objects.count() == 1


def test_a_member_id_in_a_body_is_refused(api, cashier, store, member):
    url = f"/api/v1/members/{member_ref(member, staff=cashier, store=store)}/earn/"
    response = api.post(
        url, {"store": "GNT01", "amount": "10", "member_id": member.pk}, format="json"
    )
    assert_error(response, 400, "invalid_input")
    assert LedgerEntry.objects.count() == 1


def test_references_are_opaque_and_never_the_same_twice(cashier, store, member):
    first = member_ref(member, staff=cashier, store=store)
    again = member_ref(member, staff=cashier, store=store)
    assert first.startswith("mr_") and first != again
    for reference in (first, again):
        assert member.number not in reference


# What staff see of other stores' lines ------------------------------------------------------


def _ledger(client, member, staff, store_code="GNT01"):
    from stores.models import Store

    at = Store.objects.get(code=store_code)
    response = client.get(
        f"/api/v1/members/{member_ref(member, staff=staff, store=at)}/ledger/",
        {"store": store_code},
    )
    assert response.status_code == 200, response.content
    return response


@pytest.fixture
def two_store_member(member, store):
    points_earn(member=member, store=store, staff=None, amount="12.34", reference="receipt-gnt")
    return member


ENTRY_FIELDS = {
    "id",
    "kind",
    "points",
    "balance_after",
    "purchase_amount",
    "store",
    "reward",
    "reference",
    "detail",
    "created_at",
}


@pytest.mark.parametrize("role", [StaffRole.CASHIER, StaffRole.STORE_MANAGER])
def test_other_stores_ledger_lines_carry_no_amounts(store, two_store_member, role):
    # given: a purchase at LIE01 (40.00) and one here at GNT01 (12.34)
    staff = StaffFactory(username=f"{role}.gnt", store=store, store__role=role)
    client = APIClient()
    client.force_authenticate(staff)

    # when
    response = _ledger(client, two_store_member, staff)

    # then: the own line in full; the other store's as date, store and points only
    here, there = response.json()["results"]
    assert set(here) == set(there) == {"date", "store", "points", "entry"}
    assert (here["store"], here["points"]) == ("GNT01", 12)
    assert set(here["entry"]) == ENTRY_FIELDS
    assert (here["entry"]["purchase_amount"], here["entry"]["reference"]) == (
        "12.34",
        "receipt-gnt",
    )
    assert (there["store"], there["points"], there["entry"]) == ("LIE01", 40, None)
    text = response.content.decode()
    assert "40.00" not in text and "receipt-lie" not in text


def test_head_office_sees_every_stores_lines_in_full(store, two_store_member):
    boss = HeadOfficeFactory(username="boss")
    client = APIClient()
    client.force_authenticate(boss)

    lines = _ledger(client, two_store_member, boss).json()["results"]

    assert [(line["store"], line["entry"]["purchase_amount"]) for line in lines] == [
        ("GNT01", "12.34"),
        ("LIE01", "40.00"),
    ]


# Every read recorded ------------------------------------------------------------------------

READ_COLUMNS = {"id", "member", "staff", "store", "found_by", "kind", "read_at"}


def _assert_reads(expected: list[tuple], typed: str | None = None) -> None:
    """The reads recorded, oldest first, as (member_id, staff_id, store_id, found_by, kind)."""
    reads = list(MemberRead.objects.order_by("pk"))
    assert [(r.member_id, r.staff_id, r.store_id, r.found_by, r.kind) for r in reads] == expected
    # A read keeps who, when, where and how: there is no column the typed value could land in.
    assert {f.name for f in MemberRead._meta.concrete_fields} == READ_COLUMNS
    if typed:
        for read in reads:
            for field in MemberRead._meta.concrete_fields:
                assert typed.lower() not in str(getattr(read, field.attname)).lower()


@pytest.mark.parametrize(
    ("typed", "found_by"),
    [
        ("number", "number"),
        ("email", "email"),
        ("phone", "phone"),
    ],
)
def test_each_lookup_records_one_read_with_how_the_member_was_found(
    api, cashier, store, typed, found_by
):
    member = MemberFactory(email="Wanda.Wouters@example.be", phone="+32478112233")
    MemberFactory()  # someone else, not found
    query = {
        "number": member.number,
        "email": "wanda.wouters@example.be",
        "phone": "0478 11 22 33",
    }[typed]

    response = api.post(
        "/api/v1/members/lookup/", {"store": "GNT01", "query": query}, format="json"
    )

    assert len(response.json()["results"]) == 1
    _assert_reads([(member.pk, cashier.pk, store.pk, found_by, "lookup")], typed=query)


def test_a_name_search_records_one_read_per_member_shown(api, cashier, store):
    shown = [MemberFactory(surname="Claes", given_name=name) for name in ("Jan", "Jana")]
    MemberFactory(surname="Claes", given_name="Piet")

    response = api.post(
        "/api/v1/members/lookup/",
        {"store": "GNT01", "surname": "claes", "given_name_start": "ja"},
        format="json",
    )

    assert [m["given_name"] for m in response.json()["results"]] == ["Jan", "Jana"]
    _assert_reads(
        [(m.pk, cashier.pk, store.pk, "name_search", "lookup") for m in shown], typed="claes"
    )


@pytest.mark.parametrize(
    ("route", "kind"), [("detail", "profile"), ("ledger", "ledger"), ("consent", "consent")]
)
@pytest.mark.parametrize("found_by", ["phone", "eid", "name_search"])
def test_each_read_by_reference_records_one_read_found_as_the_lookup_found(
    api, cashier, store, member, route, kind, found_by
):
    reference = member_ref(member, staff=cashier, store=store, found_by=found_by)

    assert call(api, route, reference).status_code == 200

    _assert_reads([(member.pk, cashier.pk, store.pk, found_by, kind)])


@pytest.mark.parametrize("route", ["earn", "redeem", "consent-withdraw"])
def test_writes_are_not_counted_as_reads(api, cashier, store, member, route):
    assert call(api, route, member_ref(member, staff=cashier, store=store)).status_code in (
        200,
        201,
    )
    assert not MemberRead.objects.exists()


def test_a_refused_lookup_records_nothing(api, store, lie, member):
    for body in (
        {"store": "LIE01", "query": member.number},
        {"store": "GNT01", "query": member.number[:-1] + "x"},
        {"store": "GNT01", "surname": "X", "given_name_start": "y"},
    ):
        assert api.post("/api/v1/members/lookup/", body, format="json").status_code in (400, 403)
    assert not MemberRead.objects.exists()


# The narrow name search ---------------------------------------------------------------------


def _by_name(api, surname, start):
    return api.post(
        "/api/v1/members/lookup/",
        {"store": "GNT01", "surname": surname, "given_name_start": start},
        format="json",
    )


def test_name_search_returns_at_most_five_with_masked_contacts(api, store):
    for n, name in enumerate(["Joke", "Johan", "Jolien", "Jonas", "Joris", "Josse", "Jozef"]):
        MemberFactory(surname="Peeters", given_name=name, email=f"p{n}.x@example.be")

    response = _by_name(api, "PEETERS", "jo")

    results = response.json()["results"]
    assert [m["given_name"] for m in results] == ["Johan", "Joke", "Jolien", "Jonas", "Joris"]
    assert all(m["email"].startswith("p***@") for m in results)
    assert all(m["reference"].startswith("mr_") for m in results)
    assert MemberRead.objects.count() == 5


def test_name_search_wants_the_exact_surname(api, store):
    MemberFactory(surname="Peeters", given_name="Lotte")
    MemberFactory(surname="Peeters-Janssens", given_name="Lotte")
    MemberFactory(surname="Van Peeters", given_name="Lotte")

    assert [m["surname"] for m in _by_name(api, " peeters ", "Lot").json()["results"]] == [
        "Peeters"
    ]
    assert _by_name(api, "Peeter", "Lot").json() == {"results": []}


@pytest.mark.parametrize(
    ("surname", "start"),
    [("P", "Lotte"), ("p ", "l"), ("Peeters", ""), ("Peeters", " "), ("Peeters2", "L"), ("", "")],
)
def test_name_search_refuses_a_browse(api, store, surname, start):
    MemberFactory(surname="P", given_name="Lotte")
    MemberFactory(surname="Peeters", given_name="Lotte")

    response = _by_name(api, surname, start)

    assert_error(response, 400, "invalid_input")
    assert "Lotte" not in response.content.decode()
    assert not MemberRead.objects.exists()


def test_name_search_needs_both_parts(api, store):
    MemberFactory(surname="Peeters", given_name="Lotte")
    for body in ({"surname": "Peeters"}, {"given_name_start": "Lo"}):
        response = api.post("/api/v1/members/lookup/", {"store": "GNT01", **body}, format="json")
        assert_error(response, 400, "invalid_input")
    assert not MemberRead.objects.exists()


# Throttles per staff account ----------------------------------------------------------------


@pytest.fixture
def tight_throttles(monkeypatch):
    rates = {"member_find": "2/min", "member_read": "3/min"}
    monkeypatch.setattr(MemberFindThrottle, "THROTTLE_RATES", rates)
    monkeypatch.setattr(MemberReadThrottle, "THROTTLE_RATES", rates)


def test_lookups_past_the_rate_are_throttled_per_staff_account(
    api, cashier, store, member, tight_throttles
):
    body = {"store": "GNT01", "query": member.number}
    answers = [api.post("/api/v1/members/lookup/", body, format="json") for _ in range(3)]

    assert [a.status_code for a in answers[:2]] == [200, 200]
    assert_error(answers[2], 429, "throttled")
    assert member.surname not in answers[2].content.decode()
    assert MemberRead.objects.count() == 2
    # a colleague at the same counter is not held back by it
    colleague = APIClient()
    colleague.force_authenticate(StaffFactory(username="colleague", store=store))
    assert colleague.post("/api/v1/members/lookup/", body, format="json").status_code == 200


def test_member_reads_past_the_rate_are_throttled(api, cashier, store, member, tight_throttles):
    reference = member_ref(member, staff=cashier, store=store)
    answers = [call(api, route, reference) for route in ("detail", "ledger", "detail", "ledger")]

    assert [a.status_code for a in answers[:3]] == [200, 200, 200]
    assert_error(answers[3], 429, "throttled")
    assert MemberRead.objects.count() == 3


def test_the_rewards_within_reach_are_this_stores(api, cashier, store, lie, member):
    here = RewardFactory(name="Here", point_cost=40, stores=[store])
    RewardFactory(name="There", point_cost=10, stores=[lie])
    body = call(api, "detail", member_ref(member, staff=cashier, store=store)).json()
    assert [r["id"] for r in body["rewards_within_reach"]] == [here.pk]
    assert body["points_balance"] == 40
