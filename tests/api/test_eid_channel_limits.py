"""The eID channel at its limits: one read per consent, cancel, strict tokens, names, children,
anonymous members. Over HTTP, as the agent and the counter see it."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from loyalty.eid_rules import eid_token_digest
from loyalty.models import EidCard, EidScan, JoinChannel, Member, ScanState
from privacy.chain import consent_log_verify
from privacy.models import ConsentRecord
from stores.services import reader_device_register
from tests.counter import member_ref
from tests.factories import EidCardFactory, MemberFactory

pytestmark = pytest.mark.django_db

TOKEN = "5e" * 32
NATIONAL_NUMBER = "85073003328"


@pytest.fixture
def reader(store):
    device, token = reader_device_register(store=store, name="Kassa 1")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Device {token}")
    return device, client


def arm(api, device, **extra):
    body = {
        "store": "GNT01",
        "device": device.pk,
        "notice_language": "nl",
        "consent_given": True,
        **extra,
    }
    response = api.post("/api/v1/eid/scans/", body, format="json")
    assert response.status_code == 201, response.content
    return response.json()["scan_id"]


def result(client, scan_id, **payload):
    body = {
        "surname": "Peeters",
        "given_names": "Alice Marie",
        "eid_token": TOKEN,
        "read_method": "read_record",
        "child_card": False,
    }
    body.update(payload)
    body = {key: value for key, value in body.items() if value is not None}
    return client.post(f"/api/v1/device/scans/{scan_id}/result/", body, format="json")


def claim(client, scan_id):
    return client.post(f"/api/v1/device/scans/{scan_id}/read/", {}, format="json")


# -- one read per consent ----------------------------------------------------------------------


def test_a_scan_is_handed_to_the_reader_once(api, reader):
    device, client = reader
    scan_id = arm(api, device)

    first = client.get("/api/v1/device/scans/next/?wait=0")
    again = client.get("/api/v1/device/scans/next/?wait=0")

    assert first.json()["scan_id"] == scan_id and first.json()["anonymous"] is False
    assert again.status_code == 204


def test_a_scan_is_claimed_for_reading_once(api, reader):
    device, client = reader
    scan_id = arm(api, device)

    assert claim(client, scan_id).status_code == 200
    second = claim(client, scan_id)

    assert second.status_code == 409 and second.json()["code"] == "scan_already_read"


def test_a_refused_result_ends_the_scan_failed_with_the_reason(api, reader, cashier, store):
    # given: the card is another member's, and staff wanted to link it to this one
    device, client = reader
    EidCardFactory(token=eid_token_digest(TOKEN))
    member = MemberFactory()
    scan_id = arm(api, device, link_member=member_ref(member, staff=cashier, store=store))

    refused = result(client, scan_id)
    again = result(client, scan_id)

    assert refused.status_code == 409 and refused.json()["code"] == "eid_card_linked_elsewhere"
    scan = EidScan.objects.get(pk=scan_id)
    assert (scan.state, scan.failure_code) == (ScanState.FAILED, "eid_card_linked_elsewhere")
    assert again.status_code == 409 and again.json()["code"] == "scan_expired"
    assert claim(client, scan_id).status_code == 409
    shown = api.get(f"/api/v1/eid/scans/{scan_id}/").json()
    assert (shown["state"], shown["failure_code"]) == ("failed", "eid_card_linked_elsewhere")


def test_cancel_disarms_at_once_and_a_cancelled_scan_never_reads(api, reader):
    device, client = reader
    scan_id = arm(api, device)
    client.get("/api/v1/device/scans/next/?wait=0")

    cancelled = api.post(f"/api/v1/eid/scans/{scan_id}/cancel/")
    twice = api.post(f"/api/v1/eid/scans/{scan_id}/cancel/")

    assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
    assert twice.status_code == 200
    assert client.get(f"/api/v1/device/scans/{scan_id}/").json()["state"] == "cancelled"
    refused = claim(client, scan_id)
    assert refused.status_code == 409 and refused.json()["code"] == "scan_cancelled"
    late = result(client, scan_id)
    assert late.status_code == 409 and late.json()["code"] == "scan_cancelled"
    assert not Member.objects.exists()


def test_a_finished_scan_cannot_be_cancelled(api, reader):
    device, client = reader
    scan_id = arm(api, device)
    assert result(client, scan_id).status_code == 200

    response = api.post(f"/api/v1/eid/scans/{scan_id}/cancel/")

    assert response.status_code == 409 and response.json()["code"] == "scan_not_waiting"


def test_an_expired_scan_never_reads(api, reader, settings):
    settings.EID_SCAN_TTL_SECONDS = 0
    device, client = reader
    scan_id = arm(api, device)

    assert client.get(f"/api/v1/device/scans/{scan_id}/").json()["state"] == "expired"
    refused = claim(client, scan_id)

    assert refused.status_code == 409 and refused.json()["code"] == "scan_expired"
    assert EidScan.objects.get(pk=scan_id).state == ScanState.EXPIRED


def test_arming_again_cancels_the_scan_still_waiting(api, reader):
    device, _ = reader
    first = arm(api, device)

    arm(api, device)

    assert EidScan.objects.get(pk=first).state == ScanState.CANCELLED


def test_the_cancel_route_is_in_the_openapi_schema(api):
    schema = api.get("/api/schema/", HTTP_ACCEPT="application/json").json()

    cancel = schema["paths"]["/api/v1/eid/scans/{scan_id}/cancel/"]["post"]
    assert {"200", "404", "409"} <= set(cancel["responses"])
    assert "scan_not_waiting" in str(cancel)


# -- what the server stores --------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad", [TOKEN + "\n", TOKEN.upper(), TOKEN[:-1], TOKEN + "0", "g" * 64, 12345, None]
)
def test_the_token_is_exactly_64_lower_case_hex_digits(api, reader, bad):
    device, client = reader
    scan_id = arm(api, device)
    body = {"surname": "Peeters", "given_names": "Alice", "eid_token": bad}

    response = client.post(f"/api/v1/device/scans/{scan_id}/result/", body, format="json")

    assert response.status_code == 400
    assert not EidCard.objects.exists()
    assert EidScan.objects.get(pk=scan_id).state == ScanState.FAILED


def test_no_token_is_stored_as_sent_not_even_one_hiding_a_national_number(api, reader):
    device, client = reader
    sneaky = "0" * 53 + NATIONAL_NUMBER

    assert result(client, arm(api, device), eid_token=sneaky).status_code == 200

    stored = EidCard.objects.get().token
    assert stored == eid_token_digest(sneaky)
    assert NATIONAL_NUMBER not in stored and stored != sneaky


def test_recognition_and_relinking_work_on_the_stored_hash(api, reader, cashier, store):
    device, client = reader
    first = result(client, arm(api, device))
    again = result(client, arm(api, device))

    assert first.json()["created"] is True and again.json()["created"] is False
    member = Member.objects.get()
    new_token = "7a" * 32
    link = member_ref(member, staff=cashier, store=store)
    relinked = result(client, arm(api, device, link_member=link), eid_token=new_token)
    assert relinked.status_code == 200
    assert EidCard.objects.get(member=member).token == eid_token_digest(new_token)


def test_names_up_to_the_card_formats_sizes_fit_and_longer_ones_are_refused(api, reader):
    device, client = reader
    surname = "Vandenbroucke-" + "é" * 48  # 110 bytes of UTF-8
    given = "Maximiliaan " + "Ö" * 41 + "y"  # 95 bytes

    ok = result(client, arm(api, device), surname=surname, given_names=given)

    assert ok.status_code == 200, ok.content
    assert Member.objects.get().surname == surname
    too_long = result(client, arm(api, device), surname=surname + "x", eid_token="7a" * 32)
    assert too_long.status_code == 400 and too_long.json()["code"] == "eid_name_too_long"
    longer_given = result(client, arm(api, device), given_names=given + "y", eid_token="7b" * 32)
    assert longer_given.json()["code"] == "eid_name_too_long"


@pytest.mark.parametrize("method", ["read_record", "read_binary"])
def test_the_scan_keeps_how_the_card_was_read(api, reader, method):
    device, client = reader
    scan_id = arm(api, device)

    assert result(client, scan_id, read_method=method).status_code == 200

    assert EidScan.objects.get(pk=scan_id).read_method == method
    assert api.get(f"/api/v1/eid/scans/{scan_id}/").json()["read_method"] == method


def test_an_unknown_read_method_is_refused(api, reader):
    device, client = reader

    response = result(client, arm(api, device), read_method="photo")

    assert response.status_code == 400


# -- children ----------------------------------------------------------------------------------


def test_a_childs_card_without_a_guardians_consent_is_refused(api, reader):
    device, client = reader
    scan_id = arm(api, device)

    response = result(client, scan_id, child_card=True)

    assert response.status_code == 409
    assert response.json()["code"] == "eid_guardian_consent_needed"
    assert not Member.objects.exists()
    assert EidScan.objects.get(pk=scan_id).failure_code == "eid_guardian_consent_needed"


def test_a_childs_card_with_a_guardians_consent_enrols_and_the_record_says_so(api, reader):
    device, client = reader
    scan_id = arm(api, device, guardian_consent=True)

    assert result(client, scan_id, child_card=True).status_code == 200

    records = ConsentRecord.objects.filter(purpose="eid_recognition")
    assert {r.given_by for r in records} == {"guardian"}
    assert records.count() == 2  # given under the scan, carried over to the member
    assert consent_log_verify().ok


# -- anonymous membership ----------------------------------------------------------------------


def test_an_anonymous_member_is_known_by_the_card_hash_only(api, reader):
    device, client = reader
    scan_id = arm(api, device, anonymous=True)
    picked = client.get("/api/v1/device/scans/next/?wait=0").json()
    assert picked["anonymous"] is True
    assert claim(client, scan_id).json()["anonymous"] is True

    created = result(client, scan_id, surname=None, given_names=None)

    assert created.status_code == 200, created.content
    member = Member.objects.get()
    assert (member.given_name, member.surname) == ("", "")
    assert member.joined_via == JoinChannel.EID_ANONYMOUS
    assert member.eid_card.token == eid_token_digest(TOKEN)
    again = result(client, arm(api, device, anonymous=True), surname=None, given_names=None)
    assert again.json()["created"] is False and again.json()["member"]["number"] == member.number


def anonymous_member_presenting_the_card(api, reader):
    """Enrol an anonymous member by their card, then present it again; return the reference."""
    device, client = reader
    result(client, arm(api, device, anonymous=True), surname=None, given_names=None)
    scan_id = arm(api, device, anonymous=True)
    assert result(client, scan_id, surname=None, given_names=None).json()["created"] is False
    status = api.get(f"/api/v1/eid/scans/{scan_id}/").json()
    assert status["member"]["given_name"] == ""  # greeted by number
    return status["member"]["reference"], Member.objects.get()


def test_an_anonymous_member_is_erased_by_presenting_the_card(
    api, reader, django_capture_on_commit_callbacks
):
    reference, member = anonymous_member_presenting_the_card(api, reader)

    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            f"/api/v1/members/{reference}/erasure/", {"store": "GNT01"}, format="json"
        )

    # the card just read is the proof: no name, no e-mail needed
    assert response.status_code == 201, response.content
    assert response.json()["verification"] == "credential"
    assert not Member.objects.filter(pk=member.pk).exists()
    assert not EidCard.objects.exists()


def test_an_anonymous_member_withdraws_by_presenting_the_card(api, reader):
    reference, member = anonymous_member_presenting_the_card(api, reader)

    response = api.post(
        f"/api/v1/members/{reference}/consent/withdraw/",
        {"store": "GNT01", "purpose": "eid_recognition", "channel": "counter_form"},
        format="json",
    )

    assert response.status_code == 200, response.content
    assert response.json()["has_eid_card"] is False
    # the card is no longer recognised; the number and points stay
    assert Member.objects.filter(pk=member.pk, number=member.number).exists()
    assert not EidCard.objects.exists()


def test_an_anonymous_scan_refuses_names(api, reader):
    device, client = reader

    response = result(client, arm(api, device, anonymous=True))

    assert response.status_code == 400
    assert response.json()["code"] == "forbidden_personal_field"
    assert not Member.objects.exists()
