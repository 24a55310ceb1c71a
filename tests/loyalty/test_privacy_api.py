"""The counter API for a member's privacy (loyalty.api_privacy)."""

from __future__ import annotations

import csv
import io
import json
import zipfile

import pytest
from django.core import mail
from rest_framework.test import APIClient

from loyalty.models import Member
from loyalty.privacy import member_subject_key
from loyalty.purposes import Channel, Purpose
from privacy import services
from privacy.models import ConsentRecord, PrivacyTicket, TicketState
from tests.factories import EidMemberFactory, MemberFactory, StaffFactory, StoreFactory


@pytest.fixture
def eid_member(store):
    member = EidMemberFactory(home_store=store, points_balance=0)
    services.consent_give(
        subject_key=member_subject_key(member),
        purpose=Purpose.EID_RECOGNITION,
        channel=Channel.COUNTER_EID,
        language="nl",
        store=store,
    )
    return member


def test_consent_state_per_purpose(api, eid_member):
    response = api.get(f"/api/v1/members/{eid_member.pk}/consent/")

    assert response.status_code == 200
    states = {row["purpose"]: row for row in response.json()["results"]}
    assert states["eid_recognition"]["state"] == "given"
    assert states["eid_recognition"]["notice_version"] == 2
    assert states["eid_recognition"]["store"] == "GNT01"
    assert states["marketing_email"]["state"] == "none"


def test_withdrawing_eid_consent_is_one_call(api, eid_member):
    response = api.post(
        f"/api/v1/members/{eid_member.pk}/consent/withdraw/",
        {"store": "GNT01", "purpose": "eid_recognition", "channel": "counter_form"},
        format="json",
    )

    assert response.status_code == 200
    body = response.json()
    assert body["has_eid_card"] is False
    assert body["erasure_ticket"] is None
    states = {row["purpose"]: row["state"] for row in body["consent"]}
    assert states["eid_recognition"] == "withdrawn"
    eid_member.refresh_from_db()
    assert Member.objects.filter(pk=eid_member.pk, number=eid_member.number).exists()


def test_withdrawing_everything_erases(api, eid_member, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            f"/api/v1/members/{eid_member.pk}/consent/withdraw/",
            {"store": "GNT01", "purpose": "all", "channel": "counter_form", "language": "fr"},
            format="json",
        )

    assert response.status_code == 200
    assert response.json()["erasure_ticket"]["kind"] == "erasure"
    assert not Member.objects.filter(pk=eid_member.pk).exists()
    assert ConsentRecord.objects.filter(language="fr", action="withdrawn").exists()


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"store": "GNT01", "purpose": "spying", "channel": "web"},
        {"store": "GNT01", "purpose": "eid_recognition", "channel": "fax"},
        {"store": "GNT01", "purpose": "eid_recognition", "channel": "web", "extra": 1},
        {"store": "GNT01", "purpose": ["eid_recognition"], "channel": "web"},
        {"store": "x" * 500, "purpose": "eid_recognition", "channel": "web"},
    ],
)
def test_bad_withdrawal_input_is_a_clear_error(api, eid_member, payload):
    response = api.post(
        f"/api/v1/members/{eid_member.pk}/consent/withdraw/", payload, format="json"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_input"
    assert not ConsentRecord.objects.filter(action="withdrawn").exists()


def test_staff_of_another_store_cannot_act_for_this_one(eid_member):
    other = StaffFactory(username="elsewhere", store=StoreFactory(code="ANT01"))
    client = APIClient()
    client.force_authenticate(other)

    response = client.post(
        f"/api/v1/members/{eid_member.pk}/erasure/", {"store": "GNT01"}, format="json"
    )

    assert response.status_code == 403
    assert response.json()["code"] == "store_forbidden"
    assert not PrivacyTicket.objects.exists()


def test_anonymous_callers_are_refused(db, eid_member):
    client = APIClient()

    assert client.get(f"/api/v1/members/{eid_member.pk}/consent/").status_code == 401
    response = client.post(
        f"/api/v1/members/{eid_member.pk}/export/", {"store": "GNT01"}, format="json"
    )
    assert response.status_code == 401


def test_unknown_member_is_not_found(api, db):
    response = api.post("/api/v1/members/999999/erasure/", {"store": "GNT01"}, format="json")

    assert response.status_code == 404
    assert response.json()["code"] == "member_not_found"


def test_counter_erasure_ticket(api, store, django_capture_on_commit_callbacks):
    member = MemberFactory(home_store=store)
    with django_capture_on_commit_callbacks(execute=True):
        first = api.post(f"/api/v1/members/{member.pk}/erasure/", {"store": "GNT01"}, format="json")

    assert first.status_code == 201
    assert first.json()["source"] == "counter"
    assert PrivacyTicket.objects.get().state == TicketState.COMPLETED
    assert not Member.objects.filter(pk=member.pk).exists()


def test_counter_erasure_twice_is_one_ticket(api, store, settings):
    settings.PRIVACY_ERASURE_AUTO_APPROVE = False
    member = MemberFactory(home_store=store)
    url = f"/api/v1/members/{member.pk}/erasure/"

    first = api.post(url, {"store": "GNT01"}, format="json")
    second = api.post(url, {"store": "GNT01"}, format="json")

    assert first.json()["id"] == second.json()["id"]
    assert PrivacyTicket.objects.count() == 1


def test_export_json_at_the_counter(api, eid_member):
    response = api.post(
        f"/api/v1/members/{eid_member.pk}/export/", {"store": "GNT01"}, format="json"
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"
    data = json.loads(response.content)
    assert data["sections"]["profile"][0]["number"] == eid_member.number
    assert data["sections"]["consents"][0]["purpose"] == "eid_recognition"
    ticket = PrivacyTicket.objects.get()
    assert (ticket.kind, ticket.state, ticket.source) == ("access", "completed", "counter")
    assert mail.outbox == []


def test_export_csv_at_the_counter(api, eid_member):
    response = api.post(
        f"/api/v1/members/{eid_member.pk}/export/",
        {"store": "GNT01", "format": "csv"},
        format="json",
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert {"profile.csv", "ledger.csv", "consents.csv", "privacy_requests.csv"} <= set(
        archive.namelist()
    )
    [profile] = csv.DictReader(io.StringIO(archive.read("profile.csv").decode()))
    assert profile["number"] == eid_member.number
    assert profile["eid_card_linked"] == "True"


def test_no_personal_data_in_logs_of_the_counter_flows(
    api, store, caplog, django_capture_on_commit_callbacks
):
    import logging

    caplog.set_level(logging.DEBUG)
    member = MemberFactory(home_store=store, given_name="Quirinus", surname="Blommaert")
    base = f"/api/v1/members/{member.pk}"
    with django_capture_on_commit_callbacks(execute=True):
        api.post(f"{base}/export/", {"store": "GNT01", "format": "csv"}, format="json")
        api.post(
            f"{base}/consent/withdraw/",
            {"store": "GNT01", "purpose": "all", "channel": "counter_form"},
            format="json",
        )

    assert not Member.objects.filter(pk=member.pk).exists()
    for secret in (member.email, member.number, member.phone, "Quirinus", "Blommaert"):
        assert secret not in caplog.text
