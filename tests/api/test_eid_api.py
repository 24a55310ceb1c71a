"""The eID channel over HTTP: staff arm a scan after consent, the reader device posts a result."""

from __future__ import annotations

import logging
import time
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from loyalty.eid_rules import eid_token_digest
from loyalty.models import EidCard, EidScan, JoinChannel, Member, MemberRead, ScanState
from loyalty.purposes import Purpose
from loyalty.references import member_reference_read
from privacy.models import ConsentRecord
from stores.services import reader_device_register, reader_device_revoke
from tests.counter import member_ref
from tests.factories import EidCardFactory, MemberFactory, StaffFactory, StoreFactory

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
        "notice_language": "fr",
        "consent_given": True,
        **extra,
    }
    response = api.post("/api/v1/eid/scans/", body, format="json")
    assert response.status_code == 201, response.content
    return response.json()["scan_id"]


def result(client, scan_id, **payload):
    body = {"surname": "Dubois-Lefèvre", "given_names": "Françoise Marie", "eid_token": TOKEN}
    body.update(payload)
    return client.post(f"/api/v1/device/scans/{scan_id}/result/", body, format="json")


def test_unknown_card_creates_an_eid_member_with_name_and_token_only(api, reader):
    device, client = reader
    scan_id = arm(api, device)
    picked = client.get("/api/v1/device/scans/next/?wait=0")
    assert picked.status_code == 200 and picked.json()["scan_id"] == scan_id

    response = result(client, scan_id)

    assert response.status_code == 200, response.content
    assert response.json()["created"] is True
    member = Member.objects.get()
    assert (member.given_name, member.surname) == ("Françoise", "Dubois-Lefèvre")
    assert member.joined_via == JoinChannel.EID and member.email is None
    assert member.eid_card.token == eid_token_digest(TOKEN) != TOKEN
    status = api.get(f"/api/v1/eid/scans/{scan_id}/").json()
    assert status["state"] == ScanState.COMPLETED
    assert status["member"]["given_name"] == "Françoise"
    # consent recorded before the read, then carried over to the member
    records = ConsentRecord.objects.filter(purpose=Purpose.EID_RECOGNITION).order_by("seq")
    assert [r.subject_key.split(":")[0] for r in records] == ["scan", "member"]
    assert records[0].language == "fr" and records[0].device == device
    assert records[1].refers_to == records[0]


def test_known_card_is_recognised(api, reader):
    device, client = reader
    card = EidCardFactory(token=eid_token_digest(TOKEN))
    response = result(client, arm(api, device))
    assert response.json() == {
        "member": {
            "id": card.member_id,
            "number": card.member.number,
            "given_name": card.member.given_name,
        },
        "created": False,
    }
    assert Member.objects.count() == 1


def test_renewed_card_is_linked_to_a_known_member(api, cashier, store, reader):
    device, client = reader
    member = MemberFactory()
    EidCardFactory(member=member, token="00" * 32)
    reference = member_ref(member, staff=cashier, store=store)
    response = result(client, arm(api, device, link_member=reference))
    assert response.status_code == 200
    assert EidCard.objects.get(member=member).token == eid_token_digest(TOKEN)
    assert Member.objects.count() == 1


# A reference that names no member this cashier may reach here is a 404; an expired one, 400.
REFERENCE_STATUS = {"member_reference_invalid": 404, "member_reference_expired": 400}


@pytest.mark.parametrize("case", ["bare id", "another cashier's", "another store's", "expired"])
def test_a_card_is_linked_only_to_a_member_reached_at_this_counter(
    api, cashier, store, reader, settings, case
):
    # given: a member somewhere in the chain, and a reference not this cashier's here and now
    device, _ = reader
    member = MemberFactory()
    EidCardFactory(member=member, token="00" * 32)
    colleague = StaffFactory(username="colleague", store=store)
    too_old = time.time() - settings.MEMBER_REFERENCE_SECONDS - 5
    link, code = {
        "bare id": (str(member.pk), "member_reference_invalid"),
        "another cashier's": (
            member_ref(member, staff=colleague, store=store),
            "member_reference_invalid",
        ),
        "another store's": (
            member_ref(member, staff=cashier, store=StoreFactory(code="LIE01")),
            "member_reference_invalid",
        ),
        "expired": (
            member_ref(member, staff=cashier, store=store, now=too_old),
            "member_reference_expired",
        ),
    }[case]

    # when
    response = api.post(
        "/api/v1/eid/scans/",
        {
            "store": "GNT01",
            "device": device.pk,
            "notice_language": "nl",
            "consent_given": True,
            "link_member": link,
        },
        format="json",
    )

    # then: refused before anything is armed or recorded; the member keeps their card
    assert response.status_code == REFERENCE_STATUS[code], response.content
    assert response.json()["code"] == code
    assert not EidScan.objects.exists() and not ConsentRecord.objects.exists()
    assert EidCard.objects.get(member=member).token == "00" * 32


def test_a_recognised_card_hands_the_cashier_an_eid_reference_and_records_the_read(
    api, cashier, store, reader
):
    # given
    device, client = reader
    card = EidCardFactory(token=eid_token_digest(TOKEN))
    scan_id = arm(api, device)
    assert not MemberRead.objects.exists()  # armed, nobody known yet
    result(client, scan_id)

    # when
    status = api.get(f"/api/v1/eid/scans/{scan_id}/").json()

    # then
    assert set(status["member"]) == {"reference", "number", "given_name"}
    assert "id" not in status["member"]
    found = member_reference_read(
        status["member"]["reference"], store_id=store.pk, staff_id=cashier.pk
    )
    assert (found.member_id, found.found_by) == (card.member_id, "eid")
    assert list(
        MemberRead.objects.values_list("member_id", "staff_id", "store_id", "found_by", "kind")
    ) == [(card.member_id, cashier.pk, store.pk, "eid", "lookup")]
    detail = api.get(f"/api/v1/members/{status['member']['reference']}/", {"store": "GNT01"})
    assert detail.status_code == 200
    assert MemberRead.objects.filter(kind="profile", found_by="eid").count() == 1


def test_a_card_scanned_just_now_confirms_an_erasure_at_the_counter(
    api, cashier, store, reader, django_capture_on_commit_callbacks
):
    device, client = reader
    card = EidCardFactory(token=eid_token_digest(TOKEN))
    scan_id = arm(api, device)
    result(client, scan_id)
    reference = api.get(f"/api/v1/eid/scans/{scan_id}/").json()["member"]["reference"]

    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            f"/api/v1/members/{reference}/erasure/", {"store": "GNT01"}, format="json"
        )

    assert response.status_code == 201, response.content
    assert response.json()["verification"] == "credential"
    assert not Member.objects.filter(pk=card.member_id).exists()


def test_a_scan_read_long_ago_does_not_count_as_the_card_presented_now(
    api, cashier, store, reader, settings, django_capture_on_commit_callbacks
):
    # given: a card recognised at this counter, the scan looked at again much later
    device, client = reader
    card = EidCardFactory(token=eid_token_digest(TOKEN))
    scan_id = arm(api, device)
    result(client, scan_id)
    long_ago = timezone.now() - timedelta(seconds=settings.EID_PRESENTED_SECONDS + 60)
    EidScan.objects.filter(pk=scan_id).update(finished_at=long_ago, created_at=long_ago)
    reference = api.get(f"/api/v1/eid/scans/{scan_id}/").json()["member"]["reference"]

    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            f"/api/v1/members/{reference}/erasure/", {"store": "GNT01"}, format="json"
        )

    # then: the request waits for a confirmation, the member is still there
    assert response.status_code == 201, response.content
    assert response.json()["state"] == "awaiting_verification"
    assert Member.objects.filter(pk=card.member_id).exists()


def test_no_armed_scan_gives_204(reader):
    _, client = reader
    assert client.get("/api/v1/device/scans/next/?wait=0").status_code == 204


def test_refusing_consent_leads_to_the_form_not_the_reader(api, reader):
    device, _ = reader
    body = {"store": "GNT01", "device": device.pk, "notice_language": "nl", "consent_given": False}
    response = api.post("/api/v1/eid/scans/", body, format="json")
    assert response.status_code == 400
    assert not ConsentRecord.objects.exists()


@pytest.mark.parametrize(
    "extra",
    [
        {"national_number": NATIONAL_NUMBER},
        {"birth_date": "30.07.1985"},
        {"sex": "F"},
        {"given_names": f"Lotte {NATIONAL_NUMBER}"},
        {"surname": "85.07.30-033.28"},
        {"given_names": "30 JUL 1985"},
    ],
)
def test_forbidden_personal_fields_are_refused_and_nothing_is_kept(api, reader, caplog, extra):
    device, client = reader
    scan_id = arm(api, device)
    with caplog.at_level(logging.DEBUG):
        response = result(client, scan_id, **extra)
    assert response.status_code == 400
    assert response.json()["code"] == "forbidden_personal_field"
    assert not Member.objects.exists() and not EidCard.objects.exists()
    for value in (v for v in extra.values() if len(v) > 2):
        assert value not in caplog.text and value not in response.content.decode()
    assert "forbidden personal field" in caplog.text


def test_result_without_consent_is_refused(api, reader):
    device, client = reader
    scan_id = arm(api, device)
    # given: the consent behind this scan was withdrawn before the card came
    from loyalty.models import EidScan
    from privacy.services import consent_withdraw

    scan = EidScan.objects.get(pk=scan_id)
    consent_withdraw(
        subject_key=scan.consent_subject,
        purpose=Purpose.EID_RECOGNITION,
        channel="counter_eid",
        language="fr",
    )
    response = result(client, scan_id)
    assert response.status_code == 403
    assert response.json()["code"] == "consent_missing"
    assert not Member.objects.exists()


def test_expired_or_finished_scan_is_refused(api, reader, settings):
    device, client = reader
    settings.EID_SCAN_TTL_SECONDS = -1
    scan_id = arm(api, device)
    assert result(client, scan_id).json()["code"] == "scan_expired"
    settings.EID_SCAN_TTL_SECONDS = 120
    scan_id = arm(api, device)
    assert result(client, scan_id).status_code == 200
    assert result(client, scan_id).json()["code"] == "scan_expired"


def test_failure_is_shown_to_staff(api, reader):
    device, client = reader
    scan_id = arm(api, device)
    response = client.post(
        f"/api/v1/device/scans/{scan_id}/failure/",
        {"code": "card_removed", "message": "pulled out"},
        format="json",
    )
    assert response.status_code == 204
    status = api.get(f"/api/v1/eid/scans/{scan_id}/").json()
    assert (status["state"], status["failure_code"]) == ("failed", "card_removed")


def test_a_device_sees_only_its_own_scans(api, reader, store):
    device, _ = reader
    other_store = StoreFactory(code="LIE01")
    _, other_token = reader_device_register(store=other_store, name="Caisse 1")
    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Device {other_token}")
    scan_id = arm(api, device)
    assert other.get("/api/v1/device/scans/next/?wait=0").status_code == 204
    assert result(other, scan_id).json()["code"] == "scan_not_found"


def test_revoked_and_unknown_tokens_get_401(api, reader):
    device, client = reader
    reader_device_revoke(device=device)
    response = client.get("/api/v1/device/scans/next/?wait=0")
    assert response.status_code == 401 and response.json()["code"] == "device_revoked"
    stranger = APIClient()
    stranger.credentials(HTTP_AUTHORIZATION="Device rd_nope")
    assert stranger.get("/api/v1/device/scans/next/").json()["code"] == "device_unknown"
    assert APIClient().get("/api/v1/device/scans/next/").status_code == 401


def test_staff_cannot_use_device_endpoints_nor_arm_other_stores_readers(api, reader):
    assert api.get("/api/v1/device/scans/next/").status_code in (401, 403)
    lie_device, _ = reader_device_register(store=StoreFactory(code="LIE01"), name="x")
    response = api.post(
        "/api/v1/eid/scans/",
        {"store": "LIE01", "device": lie_device.pk, "notice_language": "fr", "consent_given": True},
        format="json",
    )
    assert response.json()["code"] == "store_forbidden"
    other_scan = api.get(f"/api/v1/eid/scans/{uuid.uuid4()}/")
    assert other_scan.json()["code"] == "scan_not_found"


def test_device_registration_by_manager_only(store):
    from stores.models import StaffRole
    from stores.services import chain_settings_save

    manager = StaffFactory(username="mgr", store=store, store__role=StaffRole.STORE_MANAGER)
    cashier = StaffFactory(username="c9", store=store)
    # head office lets managers register their stores' readers (tests/dashboard/test_readers.py)
    chain_settings_save(name="", privacy_contact="", site_url="", managers_register_readers=True)
    client = APIClient()
    client.force_authenticate(cashier)
    response = client.post("/api/v1/stores/GNT01/devices/", {"name": "Kassa 2"}, format="json")
    assert response.json()["code"] == "store_forbidden"
    client.force_authenticate(manager)
    response = client.post("/api/v1/stores/GNT01/devices/", {"name": "Kassa 2"}, format="json")
    assert response.status_code == 201
    token = response.json()["token"]
    listed = client.get("/api/v1/stores/GNT01/devices/").json()
    assert "token" not in listed[0] and token not in str(listed)
    revoked = client.post(f"/api/v1/stores/GNT01/devices/{listed[0]['id']}/revoke/")
    assert revoked.json()["revoked_at"] is not None


def test_beat_task_expires_forgotten_scans(api, reader, settings):
    from loyalty.models import EidScan
    from loyalty.tasks import expire_eid_scans

    device, _ = reader
    settings.EID_SCAN_TTL_SECONDS = -1
    scan_id = arm(api, device)
    assert expire_eid_scans() == 1
    assert EidScan.objects.get(pk=scan_id).state == ScanState.EXPIRED
    assert expire_eid_scans() == 0
