"""A receipt for every consent: after a form join (by mail, through the outbox) and after an eID
enrolment (a slip at the counter), with the Kantara Consent Receipt fields in its JSON form."""

from __future__ import annotations

import json
import re

import pytest
from celery import current_app
from django.core import mail
from django.test import Client
from rest_framework.test import APIClient

from loyalty.models import EidScan, Member, ReadMethod
from loyalty.privacy import member_subject_key
from loyalty.purposes import Purpose
from privacy import services as privacy_services
from privacy.models import ConsentRecord, TicketTask
from privacy.outbox import ticket_tasks_sweep
from privacy.receipts import RECEIPT_TASK, consent_receipt, consent_receipt_json
from privacy.selectors import consent_latest
from stores.models import EarningRule
from stores.services import chain_settings_save, reader_device_register
from tests.counter import member_ref
from tests.factories import MemberFactory, StaffFactory
from tests.wallet import wallet_set_up

pytestmark = pytest.mark.django_db

KANTARA_FIELDS = {
    "version",
    "jurisdiction",
    "consentTimestamp",
    "collectionMethod",
    "consentReceiptID",
    "language",
    "piiPrincipalId",
    "piiControllers",
    "policyUrl",
    "services",
    "sensitive",
    "spiCat",
}
TOKEN = "7a" * 32
SITE = "https://shop.example"


@pytest.fixture
def broker_down(monkeypatch):
    """A broker that refuses every task, until `broker_down.restore()`."""
    from celery.app.task import Task

    def refuse(*args, **kwargs):
        raise ConnectionRefusedError("broker down")

    eager = current_app.conf.task_always_eager
    current_app.conf.task_always_eager = False
    monkeypatch.setattr(Task, "apply_async", refuse)

    class Down:
        @staticmethod
        def restore():
            current_app.conf.task_always_eager = eager
            monkeypatch.undo()

    yield Down
    current_app.conf.task_always_eager = eager


@pytest.fixture
def counter(cashier, store):
    EarningRule.objects.create(store=store)
    client = Client()
    client.force_login(cashier)
    client.cookies["django_language"] = "en"
    return client


def _join(counter, run_on_commit, **fields):
    data = {
        "given_name": "Fien",
        "surname": "Claes",
        "email": "fien.claes@example.be",
        "phone": "0470 11 22 33",
        **fields,
    }
    with run_on_commit():
        response = counter.post("/counter/GNT01/join/", data)
    assert response.status_code == 302, response.content
    return Member.objects.get(email=data["email"])


def _attachment(message) -> dict:
    [(name, content, mimetype)] = message.attachments
    assert name.startswith("consent-receipt-") and mimetype == "application/json"
    return json.loads(content)


def test_a_form_join_mails_the_receipt_in_the_customers_language(
    counter, cashier, run_on_commit, settings
):
    # when: a customer joins with the form at a Dutch-speaking store
    member = _join(counter, run_on_commit)

    # then: one mail, in Dutch, with the receipt and its JSON form; the outbox row is gone
    [message] = mail.outbox
    assert message.to == [member.email]
    assert "ontvangstbewijs" in message.subject.lower()
    assert "Verwerkingsverantwoordelijke" in message.body
    assert "Wat we bewaren" in message.body
    assert member.number in message.body
    assert not TicketTask.objects.exists()
    receipt = _attachment(message)
    assert set(receipt) >= KANTARA_FIELDS
    assert receipt["version"] == "KI-CR-v1.1.0" and receipt["jurisdiction"] == "BE"
    assert receipt["language"] == "nl" and receipt["piiPrincipalId"] == member.number
    assert receipt["piiControllers"][0]["piiController"] == settings.CHAIN_NAME
    [purpose] = receipt["services"][0]["purposes"]
    assert purpose["purposeCode"] == "loyalty_membership"
    assert purpose["legalBasis"] == "contract" and purpose["primaryPurpose"] is True
    assert purpose["notice"]["language"] == "nl" and purpose["notice"]["version"] >= 1
    # ended in "my membership", where the member signs in with their address
    assert purpose["withdrawal"]["url"].endswith("/nl/membership/")
    # categories of data, never the data themselves
    text = json.dumps(receipt)
    assert member.email not in text and member.phone not in text and "Claes" not in text
    # the slip at the counter is the same receipt
    ref = member_ref(member, staff=cashier, store=member.home_store)
    slip = counter.get(f"/counter/GNT01/members/{ref}/receipt.json")
    assert slip.status_code == 200
    assert json.loads(slip.content)["consentReceiptID"] == receipt["consentReceiptID"]


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("nl", "Mijn lidmaatschap"),
        ("fr", "Mon adhésion"),
        ("de", "Meine Mitgliedschaft"),
        ("en", "My membership"),
    ],
)
def test_the_receipt_says_how_to_withdraw_at_the_configured_site(
    counter, run_on_commit, language, words
):
    # given: head office set the site's address; a member joined and opted in to offers
    chain_settings_save(name="Dupont", privacy_contact="dpo@dupont.example", site_url=SITE)
    member = _join(counter, run_on_commit)
    key = member_subject_key(member)
    privacy_services.consent_give(
        subject_key=key, purpose=Purpose.MARKETING_EMAIL, language=language, channel="web"
    )

    # when
    receipt = consent_receipt(subject_key=key, language=language)

    # then: every line points to "my membership" on the chain's site, offers to the
    # member's unsubscribe link too, in the receipt's language
    lines = {line.purpose: line for line in receipt.lines}
    me = f"{SITE}/{language}/membership/"
    membership = lines[Purpose.LOYALTY_MEMBERSHIP]
    assert membership.withdraw_url == me and me in membership.withdraw_text
    assert words in membership.withdraw_text
    offers = lines[Purpose.MARKETING_EMAIL]
    assert offers.withdraw_url.startswith(f"{SITE}/{language}/membership/offers/unsubscribe/")
    assert offers.withdraw_url in offers.withdraw_text and me in offers.withdraw_text
    # the unsubscribe link works, without signing in
    path = offers.withdraw_url.removeprefix(SITE)
    assert Client().post(path).status_code == 200
    assert consent_latest(subject_key=key, purpose=Purpose.MARKETING_EMAIL).action == "withdrawn"


def test_a_member_without_an_address_is_sent_to_the_counter_and_the_public_forms(cashier, store):
    member = _enrol_by_eid(cashier, store, language="de")

    receipt = consent_receipt(subject_key=member_subject_key(member))

    eid = next(line for line in receipt.lines if line.purpose == Purpose.EID_RECOGNITION)
    assert eid.withdraw_url.endswith("/de/privacy/eid/")
    assert "/membership/" not in eid.withdraw_text


def test_the_join_mail_offers_the_card_in_the_phone_when_the_wallet_is_set_up(
    counter, run_on_commit, tmp_path, settings
):
    # given: no wallet, then the chain's wallet set up
    first = _join(counter, run_on_commit)
    wallet_set_up(tmp_path, settings)
    second = _join(counter, run_on_commit, email="an.peeters@example.be", phone="0470 99 88 77")

    without, with_wallet = mail.outbox
    assert "/wallet/" not in without.body
    [link] = re.findall(r"https?://[^/\s]+(/nl/wallet/[^/\s]+/)", with_wallet.body)
    assert "Wallet" not in json.dumps(_attachment(with_wallet))  # the mail's, not the receipt's
    # the link opens the member's own page with both buttons
    page = Client().get(link)
    assert page.status_code == 200
    html = page.content.decode()
    assert second.number in html and first.number not in html
    assert "Apple Wallet" in html and "Google Wallet" in html


def test_the_receipt_mail_waits_in_the_outbox_while_the_broker_is_down(
    counter, run_on_commit, broker_down
):
    # when: a customer joins while the broker refuses every task
    member = _join(counter, run_on_commit)

    # then: the join stands, the mail waits as a row holding the subject key only
    [row] = TicketTask.objects.all()
    assert row.task == RECEIPT_TASK and row.ticket_id is None
    assert row.args == [member_subject_key(member)] and row.sent_at is None
    assert mail.outbox == []

    # when: the broker is back and the sweeper runs
    broker_down.restore()
    assert ticket_tasks_sweep() == 1

    # then: the mail went, once, and the row is gone
    assert [m.to for m in mail.outbox] == [[member.email]]
    assert not TicketTask.objects.exists()


def test_an_erasure_drops_a_receipt_mail_still_waiting(counter, run_on_commit, broker_down):
    member = _join(counter, run_on_commit)
    assert TicketTask.objects.filter(task=RECEIPT_TASK).count() == 1

    from privacy.registry import registry

    result = registry.erasers["privacy.tickets"].erase(member_subject_key(member))

    assert result["outbox_rows_dropped"] == 1
    assert not TicketTask.objects.filter(task=RECEIPT_TASK).exists()


def _enrol_by_eid(cashier, store, *, language="fr", read_method=ReadMethod.READ_RECORD):
    device, token = reader_device_register(store=store, name="Kassa 1")
    api = APIClient()
    api.force_authenticate(cashier)
    armed = api.post(
        "/api/v1/eid/scans/",
        {
            "store": store.code,
            "device": device.pk,
            "notice_language": language,
            "consent_given": True,
        },
        format="json",
    )
    assert armed.status_code == 201, armed.content
    reader = APIClient()
    reader.credentials(HTTP_AUTHORIZATION=f"Device {token}")
    scan_id = armed.json()["scan_id"]
    reader.get("/api/v1/device/scans/next/?wait=0")
    done = reader.post(
        f"/api/v1/device/scans/{scan_id}/result/",
        {
            "surname": "Dubois",
            "given_names": "Françoise Marie",
            "eid_token": TOKEN,
            "read_method": read_method,
        },
        format="json",
    )
    assert done.status_code == 200, done.content
    return EidScan.objects.get(pk=scan_id).member


def test_an_eid_enrolment_gets_a_slip_at_the_counter_in_the_notice_language(
    counter, cashier, store
):
    # given: a customer enrolled with their eID, having read the notice in French
    member = _enrol_by_eid(cashier, store, language="fr")
    record = ConsentRecord.objects.filter(subject_key=member_subject_key(member)).get()

    # when: the cashier opens the receipt
    ref = member_ref(member, staff=cashier, store=store)
    page = counter.get(f"/counter/GNT01/members/{ref}/receipt/")

    # then: the slip is in French, names the notice shown and the consent record, and what
    # was never read; no mail goes out (no address on file)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'lang="fr"' in html and "Reçu de consentement" in html
    assert "votre numéro de registre national" in html
    assert f"version {record.notice.version}" in html
    assert mail.outbox == []
    data = json.loads(counter.get(f"/counter/GNT01/members/{ref}/receipt.json").content)
    eid, membership = data["services"][0]["purposes"]
    assert eid["purposeCode"] == Purpose.EID_RECOGNITION
    assert eid["legalBasis"] == "consent" and eid["consentType"] == "EXPLICIT"
    assert eid["consentRecord"] == record.seq
    assert eid["notice"] == {
        "version": record.notice.version,
        "language": "fr",
        "sha256": record.notice.content_hash,
        "text": record.notice.text,
    }
    assert "votre numéro de registre national" in eid["piiNotCollected"]
    assert eid["withdrawal"]["url"].endswith("/fr/privacy/eid/")
    assert membership["legalBasis"] == "contract"
    assert data["collectionChannel"] == "counter_eid"
    # the surname and given names read, never in the receipt
    assert "Dubois" not in json.dumps(data) and "Marie" not in json.dumps(data)
    # in another language on request, the same receipt
    english = json.loads(counter.get(f"/counter/GNT01/members/{ref}/receipt.json?lang=en").content)
    assert english["language"] == "en"
    assert english["consentReceiptID"] == data["consentReceiptID"]


def test_an_older_card_read_whole_says_so(cashier, store):
    member = _enrol_by_eid(cashier, store, language="en", read_method=ReadMethod.READ_BINARY)

    receipt = consent_receipt_json(consent_receipt(subject_key=member_subject_key(member)))

    eid = receipt["services"][0]["purposes"][0]
    assert any("whole identity file" in item for item in eid["piiNotKept"])
    assert not any("national register number" in item for item in eid["piiNotCollected"])
    assert "your photo" in eid["piiNotCollected"]


def test_a_withdrawn_eid_consent_leaves_the_receipt(cashier, store):
    member = _enrol_by_eid(cashier, store, language="nl")
    privacy_services.consent_withdraw(
        subject_key=member_subject_key(member),
        purpose=Purpose.EID_RECOGNITION,
        channel="staff_portal",
        language="nl",
        store=store,
        staff=cashier,
    )

    receipt = consent_receipt(subject_key=member_subject_key(member))

    assert [line.purpose for line in receipt.lines] == [Purpose.LOYALTY_MEMBERSHIP]


def test_another_cashiers_reference_opens_no_receipt(counter, store):
    member = MemberFactory(home_store=store, email="lotte@example.be")
    other = StaffFactory(username="kassa.other", store=store)

    response = counter.get(
        f"/counter/GNT01/members/{member_ref(member, staff=other, store=store)}/receipt/"
    )

    assert response.status_code == 400
    assert member.number not in response.content.decode()
