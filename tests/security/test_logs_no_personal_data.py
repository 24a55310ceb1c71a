"""No personal data in logs: every flow run with every logger at DEBUG, all output captured.

Form join (API and portal), eID scan, earn, redeem, the public erasure request with its
confirmation link, the erasure itself (Celery task, in-process here), and a counter erasure:
none of the names, e-mail addresses, phone numbers, passwords or tokens used may appear in
any log record, formatted or not.
"""

from __future__ import annotations

import logging
import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from loyalty.models import Member
from privacy.models import PrivacyTicket, TicketState
from stores.models import StaffRole
from stores.services import reader_device_register
from tests.factories import EarningRuleFactory, StaffFactory, StoreFactory

PASSWORD = "pw-for-tests-only"
LINK = re.compile(r"https?://\S+/(nl|fr|en)/privacy/confirm/([A-Za-z0-9_-]+)/")

FORM_MEMBER = {
    "given_name": "Quirinella",
    "surname": "Vanderzwalmen",
    "email": "quirinella.vdz@example.be",
    "phone": "0470 12 34 56",
}
PORTAL_MEMBER = {
    "given_name": "Bartholomea",
    "surname": "Oostercamp",
    "email": "bartholomea.o@example.be",
    "phone": "+32 471 65 43 21",
}
EID_RESULT = {
    "surname": "Wyckaertsen",
    "given_names": "Philomenia Rosalie",
    "eid_token": "c0ffee" + "9a" * 29,
}


class Everything(logging.Handler):
    """Keep every record that reaches the root logger, formatted and raw."""

    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record):
        text = record.getMessage()
        if record.exc_info:
            text += "\n" + logging.Formatter().formatException(record.exc_info)
        self.lines.append(f"{record.name} {record.levelname} {text} {record.args!r}")


@pytest.fixture
def all_logs(caplog):
    """Every logger at DEBUG (root, django, celery, axes), captured twice over."""
    handler = Everything()
    root = logging.getLogger()
    names = ["", "django", "django.request", "django.server", "celery", "celery.task", "axes"]
    levels = {name: logging.getLogger(name).level for name in names}
    for name in names:
        logging.getLogger(name).setLevel(logging.DEBUG)
    root.addHandler(handler)
    caplog.set_level(logging.DEBUG)
    for name in names[1:]:
        caplog.set_level(logging.DEBUG, logger=name)
    yield handler, caplog
    root.removeHandler(handler)
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


def test_full_flows_leave_no_personal_data_in_logs(
    db, all_logs, settings, django_capture_on_commit_callbacks
):
    handler, caplog = all_logs
    settings.AXES_ENABLED = True  # throttling logs failures: they must not name anyone either
    store = StoreFactory(code="GNT01", name="Gent", language="nl")
    EarningRuleFactory(store=store)
    StaffFactory(username="kassa.logtest", store=store)
    manager = StaffFactory(
        username="manager.logtest", store=store, store__role=StaffRole.STORE_MANAGER
    )
    device, device_token = reader_device_register(store=store, name="Counter 1", created_by=manager)
    secrets = [*FORM_MEMBER.values(), *PORTAL_MEMBER.values(), *EID_RESULT.values()]
    secrets += ["470123456", "471654321", "Philomenia", PASSWORD, device_token]

    with django_capture_on_commit_callbacks(execute=True):
        # A failed login, then the API token.
        api = APIClient()
        bad = api.post(
            reverse("api:auth-token"), {"username": "kassa.logtest", "password": "nope-" + PASSWORD}
        )
        assert bad.status_code == 401
        login = api.post(
            reverse("api:auth-token"), {"username": "kassa.logtest", "password": PASSWORD}
        )
        assert login.status_code == 200
        api_token = login.json()["token"]
        secrets.append(api_token)
        api.credentials(HTTP_AUTHORIZATION="Token " + api_token)

        # Form join through the API, a refused duplicate, a purchase and a redemption.
        joined = api.post(reverse("api:member-enroll"), {"store": "GNT01", **FORM_MEMBER})
        assert joined.status_code == 201, joined.content
        form_member = joined.json()
        secrets.append(form_member["number"])
        again = api.post(reverse("api:member-enroll"), {"store": "GNT01", **FORM_MEMBER})
        assert again.status_code == 409
        bad_mail = api.post(
            reverse("api:member-enroll"), {"store": "GNT01", **FORM_MEMBER, "email": "not-an@"}
        )
        assert bad_mail.status_code == 400
        secrets.append(form_member["reference"])
        found = api.post(
            reverse("api:member-lookup"), {"store": "GNT01", "query": FORM_MEMBER["email"]}
        )
        assert found.status_code == 200 and found.json()["results"]
        by_name = api.post(
            reverse("api:member-lookup"),
            {"store": "GNT01", "surname": FORM_MEMBER["surname"], "given_name_start": "Quir"},
        )
        assert [m["number"] for m in by_name.json()["results"]] == [form_member["number"]]
        reference = found.json()["results"][0]["reference"]
        secrets.append(reference)
        earned = api.post(
            reverse("api:points-earn", kwargs={"member_ref": reference}),
            {"store": "GNT01", "amount": "80.00"},
            HTTP_IDEMPOTENCY_KEY="log-test-1",
        )
        assert earned.status_code == 201, earned.content
        redeemed = api.post(
            reverse("api:points-redeem", kwargs={"member_ref": reference}),
            {"store": "GNT01", "points": 10},
        )
        assert redeemed.status_code == 201, redeemed.content

        # Form join through the portal.
        portal = Client()
        portal.post(reverse("portal:login"), {"username": "kassa.logtest", "password": PASSWORD})
        page = portal.post(reverse("portal:join", kwargs={"store_code": "GNT01"}), PORTAL_MEMBER)
        assert page.status_code in (200, 302), page.status_code
        assert Member.objects.filter(email=PORTAL_MEMBER["email"]).exists()

        # eID: the cashier arms a scan, the reader picks it up and sends the minimised result.
        armed = api.post(
            reverse("api:eid-scan-arm"),
            {"store": "GNT01", "device": device.pk, "notice_language": "nl", "consent_given": True},
        )
        assert armed.status_code == 201, armed.content
        reader = APIClient()
        reader.credentials(HTTP_AUTHORIZATION="Device " + device_token)
        assert reader.get(reverse("api:device-scan-next")).status_code == 200
        result = reader.post(
            reverse("api:device-scan-result", kwargs={"scan_id": armed.json()["scan_id"]}),
            EID_RESULT,
            format="json",
        )
        assert result.status_code == 200, result.content
        eid_member = result.json()["member"]
        secrets.append(eid_member["number"])
        scan = api.get(reverse("api:eid-scan-detail", kwargs={"scan_id": armed.json()["scan_id"]}))
        eid_reference = scan.json()["member"]["reference"]
        secrets.append(eid_reference)
        earned = api.post(
            reverse("api:points-earn", kwargs={"member_ref": eid_reference}),
            {"store": "GNT01", "amount": "12.00"},
        )
        assert earned.status_code == 201

    # The public erasure request: the form, the mail with the link, the link, the erasure.
    public = Client(REMOTE_ADDR="198.51.100.23")
    with django_capture_on_commit_callbacks(execute=True):
        sent = public.post(reverse("privacy:erasure-request"), {"identifier": FORM_MEMBER["email"]})
    assert sent.status_code == 302
    match = LINK.search(mail.outbox[-1].body)
    assert match, "no confirmation link mailed"
    link_token = match.group(2)
    secrets.append(link_token)
    confirm = reverse("privacy:confirm", kwargs={"token": link_token})
    assert public.get(confirm).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        assert public.post(confirm).status_code == 200
    assert not Member.objects.filter(number=form_member["number"]).exists(), "erasure did not run"
    # A stale link, and a request for an address nobody has.
    assert public.get(confirm).status_code in (200, 400)
    with django_capture_on_commit_callbacks(execute=True):
        public.post(reverse("privacy:erasure-request"), {"identifier": "ghost.x@example.be"})
    secrets.append("ghost.x@example.be")

    # Erasure at the counter for the eID member, who just presented their card: run by the
    # (in-process) task.
    with django_capture_on_commit_callbacks(execute=True):
        ticket = api.post(
            reverse("api:member-erasure", kwargs={"member_ref": eid_reference}),
            {"store": "GNT01"},
        )
    assert ticket.status_code == 201, ticket.content
    assert PrivacyTicket.objects.get(pk=ticket.json()["id"]).state == TicketState.COMPLETED

    # An export at the counter for the portal member: a code to their e-mail, then the data.
    found = api.post(
        reverse("api:member-lookup"), {"store": "GNT01", "query": PORTAL_MEMBER["phone"]}
    )
    portal_reference = found.json()["results"][0]["reference"]
    secrets.append(portal_reference)
    with django_capture_on_commit_callbacks(execute=True):
        asked = api.post(
            reverse("api:member-export", kwargs={"member_ref": portal_reference}),
            {"store": "GNT01"},
        )
    assert asked.status_code == 202, asked.content
    [code] = re.findall(r"^\s*(\d{6})\s*$", mail.outbox[-1].body, re.MULTILINE)
    secrets.append(code)
    with django_capture_on_commit_callbacks(execute=True):
        confirmed = api.post(
            reverse("api:member-ticket-confirm", kwargs={"member_ref": portal_reference}),
            {"store": "GNT01", "kind": "access", "code": code},
        )
    assert confirmed.status_code == 200, confirmed.content
    assert mail.outbox[-1].to == [PORTAL_MEMBER["email"]] and mail.outbox[-1].attachments

    # then
    captured = "\n".join(handler.lines) + "\n" + caplog.text
    assert len(handler.lines) > 10, "the flows should have logged something"
    leaked = [s for s in secrets if s and s.lower() in captured.lower()]
    assert not leaked, f"personal data or secrets in the logs: {leaked}"
