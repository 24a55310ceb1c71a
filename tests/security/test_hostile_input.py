"""Every bad input gets a 4xx with a clear code, never a 500 or a silent wrap (core.inputs,
core.middleware, core.api's parser and pagination)."""

from __future__ import annotations

import csv
import io
import json
import unicodedata
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from core import inputs
from core.inputs import csv_cell, plain_int, text_clean
from dashboard.forms import RewardForm
from loyalty import services
from loyalty.models import Member
from privacy.services import access_export_csv
from stores.models import Campaign, EarningRule, ReaderDevice
from stores.services import reader_device_register
from tests.counter import member_ref
from tests.factories import HeadOfficeFactory, MemberFactory

pytestmark = pytest.mark.django_db


def test_nul_in_a_url_path_is_a_400_on_the_api_and_on_pages(api, store):
    answer = api.get("/api/v1/stores/GNT01%00/rewards/")
    assert answer.status_code == 400 and answer.json()["code"] == "invalid_path"
    page = Client().get("/counter/GNT01%00/")
    assert page.status_code == 400
    assert api.get("/api/v1/stores/GNT01%E2%80%AE/rewards/").status_code == 400  # RTL override


@pytest.mark.parametrize("query", ["²²²²²²²²²²²²", "١٢٣٤٥٦٧٨٩٠١٢", "²²²² ²²²² ²²²²"])
def test_unicode_digits_in_a_lookup_are_a_400(api, store, query):
    answer = api.post("/api/v1/members/lookup/", {"query": query}, format="json")
    assert answer.status_code == 400, answer.content


def test_json_nested_100000_deep_is_a_400(api, store):
    body = "[" * 100_000 + "]" * 100_000
    answer = api.generic("POST", "/api/v1/members/lookup/", body, content_type="application/json")
    assert answer.status_code == 400 and answer.json()["code"] == "malformed_request"
    body = json.dumps(
        {"query": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["x"]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}
    )
    answer = api.generic("POST", "/api/v1/members/lookup/", body, content_type="application/json")
    assert answer.status_code == 400


def test_a_body_over_the_limit_is_a_413_also_before_signing_in(db, settings):
    body = json.dumps({"username": "x", "password": "y" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE)})
    answer = Client().generic("POST", "/api/v1/auth/token/", body, content_type="application/json")
    assert answer.status_code == 413
    assert answer.json()["code"] == "request_too_large"


@pytest.mark.parametrize("offset", ["9" * 20, "²", "-1"])
def test_absurd_pagination_is_a_400(api, store, cashier, offset):
    member = MemberFactory(home_store=store)
    ref = member_ref(member, staff=cashier, store=store)
    answer = api.get(f"/api/v1/members/{ref}/ledger/?store=GNT01&offset={offset}")
    assert answer.status_code == 400, answer.content
    assert answer.json()["code"] == "invalid_input" and "offset" in answer.json()["details"]
    assert api.get(f"/api/v1/members/{ref}/ledger/?store=GNT01&offset=0&limit=5").status_code == 200


def test_absurd_page_number_in_the_office_is_a_400(db):
    office = Client()
    office.force_login(HeadOfficeFactory())
    assert office.get("/office/privacy/?page=" + "9" * 20).status_code == 400
    assert office.get("/office/privacy/?page=²").status_code == 400
    assert office.get("/office/privacy/?page=2").status_code == 200


@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [("  Ann   Marie ", "Ann Marie"), ("Rene\u0301", "René"), ("Zoë", "Zoë")],
)
def test_names_are_nfc_normalised(store, raw, cleaned):
    member = services.member_enroll_by_form(
        store=store, given_name=raw, surname="Peeters", email="ann@example.be", phone="+32470123456"
    )
    assert member.given_name == cleaned


@pytest.mark.parametrize(
    "name", ["\u200d", "Ann\u200bMarie", "Ann\x00", "\u202eeinnA", "Ann\x1b[31m", "\ufeff"]
)
def test_names_with_control_or_format_characters_are_refused(store, name):
    from core.errors import InvalidInput

    with pytest.raises(InvalidInput):
        services.member_enroll_by_form(
            store=store, given_name=name, surname="Peeters", email="", phone="+32470123457"
        )
    assert not Member.objects.exists()


def test_reward_cost_past_the_integer_column_is_refused_not_wrapped(store):
    form = RewardForm(data={"name": "Mug", "point_cost": "4294967346", "stores": [store.pk]})
    assert not form.is_valid() and "point_cost" in form.errors


def test_points_past_one_entry_are_a_clear_400_not_a_500(api, store, cashier):
    # given: the most generous rule and campaign the office allows
    EarningRule.objects.update_or_create(
        store=store, defaults={"points_per_euro": Decimal("9999.99")}
    )
    now = timezone.now()
    Campaign.objects.create(
        store=store,
        name="x",
        multiplier=Decimal("99.99"),
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(hours=1),
    )
    member = MemberFactory(home_store=store)
    # when: a purchase over EUR 2,147
    answer = api.post(
        f"/api/v1/members/{member_ref(member, staff=cashier, store=store)}/earn/",
        {"store": "GNT01", "amount": "2200.00"},
        format="json",
        HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex,
    )
    # then
    assert answer.status_code == 400, answer.content
    assert answer.json()["code"] == "points_out_of_range"
    member.refresh_from_db()
    assert member.points_balance == 0


def test_an_idempotency_replay_with_another_reference_is_a_409(api, store, cashier):
    EarningRule.objects.get_or_create(store=store)
    member = MemberFactory(home_store=store)
    key = uuid.uuid4().hex
    url = f"/api/v1/members/{member_ref(member, staff=cashier, store=store)}/earn/"
    first = api.post(
        url,
        {"store": "GNT01", "amount": "10.00", "reference": "T1"},
        format="json",
        HTTP_IDEMPOTENCY_KEY=key,
    )
    assert first.status_code == 201, first.content
    again = api.post(
        url,
        {"store": "GNT01", "amount": "10.00", "reference": "T1"},
        format="json",
        HTTP_IDEMPOTENCY_KEY=key,
    )
    assert again.status_code == 201 and again.json() == first.json()
    other = api.post(
        url,
        {"store": "GNT01", "amount": "10.00", "reference": "T2"},
        format="json",
        HTTP_IDEMPOTENCY_KEY=key,
    )
    assert other.status_code == 409 and other.json()["code"] == "idempotency_key_reused"


@pytest.mark.parametrize(
    "value",
    ['=HYPERLINK("http://evil.example/?x","Click")', "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"],
)
def test_csv_cells_that_a_spreadsheet_would_run_are_quoted(value):
    assert csv_cell(value) == "'" + value
    assert csv_cell("Gent") == "Gent" and csv_cell(-5) == -5


def test_devices_csv_in_the_office_neutralises_a_formula_device_name(store):
    reader_device_register(store=store, name='=HYPERLINK("http://evil.example/?x","Click")')
    office = Client()
    office.force_login(HeadOfficeFactory())
    answer = office.get("/office/stores/devices.csv")
    assert answer.status_code == 200
    text = b"".join(answer.streaming_content).decode("utf-8-sig")
    names = [row for row in csv.reader(io.StringIO(text)) if any("HYPERLINK" in c for c in row)]
    assert names and all(c.startswith("'=") for row in names for c in row if "HYPERLINK" in c)
    assert ReaderDevice.objects.count() == 1


def test_a_members_own_export_neutralises_formulas(store):
    member = MemberFactory(home_store=store, given_name="Ann", surname="=cmd|' /C calc'!A0")
    from loyalty.privacy import member_subject_key
    from privacy.services import access_export_build

    files = access_export_csv(access_export_build(subject_key=member_subject_key(member)))
    assert "'=cmd" in "".join(files.values())
    assert ",=cmd" not in "".join(files.values())


def test_personal_data_answers_are_never_stored_by_a_cache(api, store, cashier):
    member = MemberFactory(home_store=store)
    ref = member_ref(member, staff=cashier, store=store)
    answer = api.get(f"/api/v1/members/{ref}/?store=GNT01")
    assert answer.status_code == 200
    assert "no-store" in answer["Cache-Control"]
    office = Client()
    office.force_login(HeadOfficeFactory())
    assert "no-store" in office.get("/office/").headers["Cache-Control"]
    assert "no-store" in Client().get("/counter/login/").headers["Cache-Control"]


def test_plain_int_and_text_clean():
    assert plain_int("42") == 42 and plain_int("²") is None and plain_int("٣") is None
    assert plain_int("9" * 20) is None and plain_int(True) is None
    assert plain_int("5", minimum=6) is None
    assert text_clean("a\u200db") is None and text_clean(" a \t b ") == "a b"


@pytest.mark.parametrize(
    "names",
    [
        {"given_names": "Ann\x00e"},
        {"surname": "Dubois\x00"},
        {"given_names": "\u200d"},
        {"surname": "\u202eneeteeP"},
    ],
)
def test_an_eid_result_with_nul_or_invisible_characters_in_a_name_is_a_400(api, eid_reader, names):
    from tests.api.test_eid_api import arm, result

    device, client = eid_reader
    scan_id = arm(api, device)
    client.get("/api/v1/device/scans/next/?wait=0")
    answer = result(client, scan_id, **names)
    assert answer.status_code == 400, answer.content
    assert not Member.objects.exists()


@pytest.fixture
def eid_reader(store):
    from rest_framework.test import APIClient

    device, token = reader_device_register(store=store, name="Kassa 1")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Device {token}")
    return device, client


def test_the_compiled_searches_refuse_exactly_the_characters_the_rule_names():
    """text_forbidden and text_unsafe run one regex; each BMP code point (and some beyond)
    gets the answer of the rule spelled out by category, as it did one character at a time."""
    forbidden = {"Cc", "Cf", "Cs", "Zl", "Zp"}
    points = [*range(0x10000), 0x1F1E6, 0xE0001, 0xE007F, 0x1D173, 0x10FFFF]
    for point in points:
        ch = chr(point)
        expected = point <= 0xFFFF and unicodedata.category(ch) in forbidden
        assert inputs.text_forbidden(f"a{ch}b") is expected, hex(point)
        assert inputs.text_unsafe(f"a{ch}b") is (expected and not ch.isspace()), hex(point)
    assert not inputs.text_forbidden("") and not inputs.text_unsafe("Jan Peeters")
