"""The counter API for a member's privacy (loyalty.api_privacy): consent, and erasure and export,
which run only once the member confirmed them (card, e-mailed code, or head office's four eyes).
"""

from __future__ import annotations

import csv
import io
import json
import time
import zipfile

import pytest
from django.core import mail
from rest_framework.test import APIClient

from core.errors import FourEyesRequired
from loyalty.models import EidCard, Member
from loyalty.privacy import member_subject_key
from loyalty.purposes import Channel, Purpose
from privacy import services
from privacy.models import (
    ConsentRecord,
    PrivacyTicket,
    TicketKind,
    TicketState,
    Verification,
)
from tests.counter import member_ref
from tests.errors import assert_error
from tests.factories import (
    EidCardFactory,
    EidMemberFactory,
    HeadOfficeFactory,
    MemberFactory,
    StaffFactory,
    StoreFactory,
)
from tests.mailbox import CODE, mailed_code

TICKET_FIELDS = {
    "id",
    "kind",
    "state",
    "source",
    "verification",
    "confirmation",
    "received_at",
    "due_on",
    "extended_at",
}


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


@pytest.fixture
def form_member(store):
    return MemberFactory(home_store=store, email="rosalie.form@example.be")


def base(member, staff, store, found_by="number", **kwargs) -> str:
    reference = member_ref(member, staff=staff, store=store, found_by=found_by, **kwargs)
    return f"/api/v1/members/{reference}"


def card_just_scanned(member, staff, store) -> str:
    """The reference an eID scan that recognised the member at this counter just handed out."""
    return base(member, staff, store, found_by="eid")


# Consent ------------------------------------------------------------------------------------


def test_consent_state_per_purpose(api, cashier, store, eid_member):
    response = api.get(f"{base(eid_member, cashier, store)}/consent/", {"store": "GNT01"})

    assert response.status_code == 200
    # a list, one row per purpose, as the schema says (it was {"results": [...]} before)
    states = {row["purpose"]: row for row in response.json()}
    assert states["eid_recognition"]["state"] == "given"
    assert states["eid_recognition"]["notice_version"] == 2
    assert states["eid_recognition"]["store"] == "GNT01"
    assert states["marketing_email"]["state"] == "none"


def test_withdrawing_eid_consent_is_one_call(api, cashier, store, eid_member):
    response = api.post(
        f"{base(eid_member, cashier, store)}/consent/withdraw/",
        {"store": "GNT01", "purpose": "eid_recognition", "channel": "counter_form"},
        format="json",
    )

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"consent", "has_eid_card"}
    assert body["has_eid_card"] is False
    states = {row["purpose"]: row["state"] for row in body["consent"]}
    assert states["eid_recognition"] == "withdrawn"
    assert Member.objects.filter(pk=eid_member.pk, number=eid_member.number).exists()
    assert not EidCard.objects.filter(member_id=eid_member.pk).exists()
    assert not PrivacyTicket.objects.exists()


@pytest.mark.parametrize("purpose", ["all", "loyalty_membership"])
def test_a_withdrawal_that_would_erase_is_refused_at_the_counter(
    api, cashier, store, eid_member, purpose, run_on_commit
):
    """Ending the membership is an erasure request, which waits for the member's confirmation."""
    with run_on_commit():
        response = api.post(
            f"{base(eid_member, cashier, store)}/consent/withdraw/",
            {"store": "GNT01", "purpose": purpose, "channel": "counter_form"},
            format="json",
        )

    assert_error(response, 400, "invalid_input")
    assert Member.objects.filter(pk=eid_member.pk).exists()
    assert not PrivacyTicket.objects.exists()
    assert not ConsentRecord.objects.filter(action="withdrawn").exists()


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
def test_bad_withdrawal_input_is_a_clear_error(api, cashier, store, eid_member, payload):
    response = api.post(
        f"{base(eid_member, cashier, store)}/consent/withdraw/", payload, format="json"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_input"
    assert not ConsentRecord.objects.filter(action="withdrawn").exists()


def test_staff_of_another_store_cannot_act_for_this_one(store, eid_member):
    antwerp = StoreFactory(code="ANT01")
    other = StaffFactory(username="elsewhere", store=antwerp)
    client = APIClient()
    client.force_authenticate(other)

    for issued_at in (antwerp, store):
        response = client.post(
            f"{card_just_scanned(eid_member, other, issued_at)}/erasure/",
            {"store": "GNT01"},
            format="json",
        )
        assert_error(response, 403, "store_forbidden")
    assert not PrivacyTicket.objects.exists()


def test_anonymous_callers_are_refused(cashier, store, eid_member):
    client = APIClient()
    url = card_just_scanned(eid_member, cashier, store)

    assert client.get(f"{url}/consent/", {"store": "GNT01"}).status_code == 401
    response = client.post(f"{url}/export/", {"store": "GNT01"}, format="json")
    assert response.status_code == 401
    assert not PrivacyTicket.objects.exists()


def test_a_member_erased_since_the_lookup_is_not_found(api, cashier, store):
    gone = MemberFactory(home_store=store)
    url = card_just_scanned(gone, cashier, store)
    gone.delete()

    response = api.post(f"{url}/erasure/", {"store": "GNT01"}, format="json")

    assert_error(response, 404, "member_not_found")
    assert not PrivacyTicket.objects.exists()


# Erasure at the counter ---------------------------------------------------------------------


def test_erasure_with_the_card_just_scanned_runs_at_once(
    api, cashier, store, eid_member, run_on_commit
):
    with run_on_commit():
        first = api.post(
            f"{card_just_scanned(eid_member, cashier, store)}/erasure/",
            {"store": "GNT01"},
            format="json",
        )

    assert first.status_code == 201, first.content
    body = first.json()
    assert set(body) == TICKET_FIELDS
    assert (body["source"], body["verification"]) == ("counter", "credential")
    ticket = PrivacyTicket.objects.get()
    assert ticket.state == TicketState.COMPLETED
    assert ticket.verification == Verification.CREDENTIAL
    assert ticket.opened_by == cashier
    assert not Member.objects.filter(pk=eid_member.pk).exists()
    assert mail.outbox == []


def test_a_cashier_alone_cannot_erase_a_member(api, cashier, store, form_member, run_on_commit):
    """Found by number (or a card scanned long ago), the cashier's word erases nobody."""
    stale = time.time() - 10 * 60  # the scan was ten minutes ago: the card is not in hand
    for url in (
        base(form_member, cashier, store),
        base(form_member, cashier, store, found_by="eid", now=stale),
        base(form_member, cashier, store, found_by="name_search"),
    ):
        with run_on_commit():
            response = api.post(f"{url}/erasure/", {"store": "GNT01"}, format="json")

        assert response.status_code == 201, response.content
        body = response.json()
        assert (body["state"], body["confirmation"]) == ("awaiting_verification", "email_code")
        assert body["verification"] == ""
    assert Member.objects.filter(pk=form_member.pk).exists()
    assert PrivacyTicket.objects.get().state == TicketState.AWAITING_VERIFICATION
    # one code went out, to the address on file (a repeat opens no second request)
    assert [m.to for m in mail.outbox] == [[form_member.email]]


def test_erasure_confirmed_by_the_mailed_code(api, cashier, store, form_member, run_on_commit):
    # given: the request, and the code sent to the member's e-mail
    url = base(form_member, cashier, store)
    with run_on_commit():
        opened = api.post(f"{url}/erasure/", {"store": "GNT01"}, format="json")
    assert opened.json()["confirmation"] == "email_code"
    code = mailed_code(form_member.email)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    confirm = f"{url}/confirm/"

    # when: a wrong code, then the member's
    bad = api.post(confirm, {"store": "GNT01", "kind": "erasure", "code": wrong}, format="json")
    assert_error(bad, 400, "confirmation_code_invalid")
    assert Member.objects.filter(pk=form_member.pk).exists()
    with run_on_commit():
        good = api.post(confirm, {"store": "GNT01", "kind": "erasure", "code": code}, format="json")

    # then
    assert good.status_code == 200, good.content
    assert good.json()["verification"] == "email_code"
    ticket = PrivacyTicket.objects.get()
    assert (ticket.state, ticket.verification) == (TicketState.COMPLETED, Verification.EMAIL_CODE)
    assert not Member.objects.filter(pk=form_member.pk).exists()
    assert code not in good.content.decode()


def test_five_wrong_codes_and_the_code_stops_working(
    api, cashier, store, form_member, run_on_commit
):
    url = base(form_member, cashier, store)
    with run_on_commit():
        api.post(f"{url}/erasure/", {"store": "GNT01"}, format="json")
    code = mailed_code(form_member.email)
    body = {"store": "GNT01", "kind": "erasure"}

    for n in range(5):
        guess = f"{(int(code) + n + 1) % 10**6:06d}"
        response = api.post(f"{url}/confirm/", {**body, "code": guess}, format="json")
        assert_error(response, 400, "confirmation_code_invalid")
    response = api.post(f"{url}/confirm/", {**body, "code": code}, format="json")

    assert_error(response, 400, "confirmation_code_invalid")
    assert PrivacyTicket.objects.get().state == TicketState.AWAITING_VERIFICATION
    assert Member.objects.filter(pk=form_member.pk).exists()


def test_a_code_confirms_only_its_own_members_request(
    api, cashier, store, form_member, run_on_commit
):
    other = MemberFactory(home_store=store, email="someone.else@example.be")
    with run_on_commit():
        api.post(f"{base(form_member, cashier, store)}/erasure/", {"store": "GNT01"}, format="json")
        api.post(f"{base(other, cashier, store)}/erasure/", {"store": "GNT01"}, format="json")

    response = api.post(
        f"{base(other, cashier, store)}/confirm/",
        {"store": "GNT01", "kind": "erasure", "code": mailed_code(form_member.email)},
        format="json",
    )

    # (one chance in a million that both codes are the same)
    if mailed_code(form_member.email) != mailed_code(other.email):
        assert_error(response, 400, "confirmation_code_invalid")
        assert Member.objects.filter(pk=other.pk).exists()


def test_nothing_to_confirm_is_a_clear_conflict(api, cashier, store, form_member):
    response = api.post(
        f"{base(form_member, cashier, store)}/confirm/",
        {"store": "GNT01", "kind": "erasure", "code": "123456"},
        format="json",
    )
    assert_error(response, 409, "member_confirmation_required")


def test_confirming_needs_a_reference_of_this_visit(
    api, cashier, store, form_member, run_on_commit
):
    with run_on_commit():
        api.post(f"{base(form_member, cashier, store)}/erasure/", {"store": "GNT01"}, format="json")
    code = mailed_code(form_member.email)
    colleague = StaffFactory(username="colleague", store=store)

    for url in (f"/api/v1/members/{form_member.pk}", base(form_member, colleague, store)):
        response = api.post(
            f"{url}/confirm/", {"store": "GNT01", "kind": "erasure", "code": code}, format="json"
        )
        assert_error(response, 404, "member_reference_invalid")
    assert Member.objects.filter(pk=form_member.pk).exists()


@pytest.fixture
def no_contact_member(store):
    """A member with neither e-mail nor a card scanned now: only head office can vouch."""
    return MemberFactory(home_store=store, email=None, phone=None)


def test_without_an_email_head_office_verifies_with_four_eyes(
    api, cashier, store, no_contact_member, run_on_commit
):
    # given: the cashier's request waits for head office; no code can confirm it
    url = base(no_contact_member, cashier, store)
    with run_on_commit():
        opened = api.post(f"{url}/erasure/", {"store": "GNT01"}, format="json")
    body = opened.json()
    assert (body["state"], body["confirmation"]) == ("awaiting_verification", "head_office")
    assert mail.outbox == []
    bad = api.post(
        f"{url}/confirm/", {"store": "GNT01", "kind": "erasure", "code": "000000"}, format="json"
    )
    assert_error(bad, 400, "confirmation_code_invalid")
    ticket = PrivacyTicket.objects.get()

    # when: the cashier tries to vouch for the member, then head office does
    with pytest.raises(FourEyesRequired):
        services.ticket_verify(ticket=ticket, by=cashier, note="I know her")
    ticket.refresh_from_db()
    assert ticket.state == TicketState.AWAITING_VERIFICATION and ticket.verification == ""
    with run_on_commit():
        services.ticket_verify(ticket=ticket, by=HeadOfficeFactory(username="boss"), note="called")

    # then
    ticket.refresh_from_db()
    assert (ticket.state, ticket.verification) == (TicketState.COMPLETED, Verification.HEAD_OFFICE)
    assert not Member.objects.filter(pk=no_contact_member.pk).exists()


def test_head_office_cannot_verify_a_request_it_opened_itself(
    store, no_contact_member, run_on_commit
):
    boss = HeadOfficeFactory(username="boss")
    client = APIClient()
    client.force_authenticate(boss)
    with run_on_commit():
        opened = client.post(
            f"{base(no_contact_member, boss, store)}/erasure/", {"store": "GNT01"}, format="json"
        )
    assert opened.status_code == 201, opened.content
    ticket = PrivacyTicket.objects.get()

    with pytest.raises(FourEyesRequired) as refused:
        services.ticket_verify(ticket=ticket, by=boss)

    assert (refused.value.status, refused.value.code) == (403, "four_eyes_required")
    ticket.refresh_from_db()
    assert ticket.state == TicketState.AWAITING_VERIFICATION
    assert Member.objects.filter(pk=no_contact_member.pk).exists()


def test_counter_erasure_twice_is_one_ticket(
    api, cashier, store, settings, form_member, run_on_commit
):
    settings.PRIVACY_ERASURE_AUTO_APPROVE = False
    url = f"{base(form_member, cashier, store)}/erasure/"

    with run_on_commit():
        first = api.post(url, {"store": "GNT01"}, format="json")
        second = api.post(url, {"store": "GNT01"}, format="json")

    assert first.json()["id"] == second.json()["id"]
    assert PrivacyTicket.objects.count() == 1
    assert len(mail.outbox) == 1


def test_a_counter_request_cannot_be_opened_as_already_verified(cashier, store, form_member):
    with pytest.raises(ValueError):
        services.ticket_open_for_subject(
            kind=TicketKind.ERASURE,
            subject_key=member_subject_key(form_member),
            source="counter",
            store=store,
            by=cashier,
        )
    assert not PrivacyTicket.objects.exists()


# Export at the counter ----------------------------------------------------------------------


def test_export_json_at_the_counter_after_the_card(api, cashier, store, eid_member):
    response = api.post(
        f"{card_just_scanned(eid_member, cashier, store)}/export/",
        {"store": "GNT01"},
        format="json",
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"
    data = json.loads(response.content)
    assert data["sections"]["profile"][0]["number"] == eid_member.number
    assert data["sections"]["consents"][0]["purpose"] == "eid_recognition"
    ticket = PrivacyTicket.objects.get()
    assert (ticket.kind, ticket.state, ticket.source) == ("access", "completed", "counter")
    assert ticket.verification == Verification.CREDENTIAL
    assert "presented their card" in ticket.history.last().note
    assert mail.outbox == []


def test_export_csv_at_the_counter_after_the_card(api, cashier, store, eid_member):
    response = api.post(
        f"{card_just_scanned(eid_member, cashier, store)}/export/",
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


def test_export_without_the_card_goes_to_the_email_after_the_code(
    api, cashier, store, form_member, run_on_commit
):
    # given: asked for at the counter, the member found by number
    url = base(form_member, cashier, store)
    with run_on_commit():
        asked = api.post(f"{url}/export/", {"store": "GNT01"}, format="json")

    # then: no data at the counter, a code to the address on file
    assert asked.status_code == 202, asked.content
    body = asked.json()
    assert set(body) == TICKET_FIELDS
    assert (body["kind"], body["state"], body["confirmation"]) == (
        "access",
        "awaiting_verification",
        "email_code",
    )
    assert form_member.number not in asked.content.decode()
    code = mailed_code(form_member.email)
    assert all(not m.attachments for m in mail.outbox)

    # when: the member gives the code
    with run_on_commit():
        confirmed = api.post(
            f"{url}/confirm/", {"store": "GNT01", "kind": "access", "code": code}, format="json"
        )

    # then: the data goes to the e-mail on file, and the ticket says so
    assert confirmed.status_code == 200, confirmed.content
    assert form_member.number not in confirmed.content.decode()
    sent = [m for m in mail.outbox if m.attachments]
    assert [m.to for m in sent] == [[form_member.email]]
    [(_, data, _)] = [a for a in sent[0].attachments if a[0] == "data.json"]
    assert json.loads(data)["sections"]["profile"][0]["number"] == form_member.number
    ticket = PrivacyTicket.objects.get()
    assert (ticket.state, ticket.verification) == (TicketState.COMPLETED, Verification.EMAIL_CODE)
    notes = [t.note for t in ticket.history.all()]
    assert "sent" in notes and not any("handed over" in n for n in notes)


def test_export_for_a_member_without_email_needs_the_card(
    api, cashier, store, eid_member, no_contact_member
):
    stale = time.time() - 10 * 60
    for member, url in (
        (no_contact_member, base(no_contact_member, cashier, store)),
        (eid_member, base(eid_member, cashier, store, found_by="eid", now=stale)),
        (eid_member, base(eid_member, cashier, store, found_by="name_search")),
    ):
        response = api.post(f"{url}/export/", {"store": "GNT01"}, format="json")
        assert_error(response, 409, "member_confirmation_required")
        assert member.number not in response.content.decode()
    assert not PrivacyTicket.objects.exists()
    assert mail.outbox == []


def test_a_card_scanned_after_the_code_was_sent_confirms_the_export_at_once(
    api, cashier, store, form_member, run_on_commit
):
    EidCardFactory(member=form_member)
    with run_on_commit():
        api.post(f"{base(form_member, cashier, store)}/export/", {"store": "GNT01"}, format="json")
    code = mailed_code(form_member.email)

    response = api.post(
        f"{card_just_scanned(form_member, cashier, store)}/export/",
        {"store": "GNT01"},
        format="json",
    )

    assert response.status_code == 200
    assert json.loads(response.content)["sections"]["profile"][0]["number"] == form_member.number
    ticket = PrivacyTicket.objects.get()
    assert (ticket.state, ticket.verification) == (TicketState.COMPLETED, Verification.CREDENTIAL)
    # the code sent before no longer works
    late = api.post(
        f"{base(form_member, cashier, store)}/confirm/",
        {"store": "GNT01", "kind": "access", "code": code},
        format="json",
    )
    assert late.status_code in (400, 409)


# Logs ---------------------------------------------------------------------------------------


def test_no_personal_data_in_logs_of_the_counter_flows(
    api, cashier, store, caplog, django_capture_on_commit_callbacks
):
    import logging

    caplog.set_level(logging.DEBUG)
    member = MemberFactory(home_store=store, given_name="Quirinus", surname="Blommaert")
    EidCardFactory(member=member)
    card = card_just_scanned(member, cashier, store)
    typed = base(member, cashier, store)
    with django_capture_on_commit_callbacks(execute=True):
        api.post(f"{card}/export/", {"store": "GNT01", "format": "csv"}, format="json")
        api.post(
            f"{card}/consent/withdraw/",
            {"store": "GNT01", "purpose": "eid_recognition", "channel": "counter_form"},
            format="json",
        )
        api.post(f"{typed}/erasure/", {"store": "GNT01"}, format="json")
    code = mailed_code(member.email)
    with django_capture_on_commit_callbacks(execute=True):
        confirmed = api.post(
            f"{typed}/confirm/", {"store": "GNT01", "kind": "erasure", "code": code}, format="json"
        )

    assert confirmed.status_code == 200
    assert not Member.objects.filter(pk=member.pk).exists()
    for secret in (member.email, member.number, member.phone, "Quirinus", "Blommaert", code):
        assert secret not in caplog.text
    for reference in (card, typed):
        assert reference.rsplit("/", 1)[-1] not in caplog.text


def test_after_five_wrong_codes_asking_again_sends_a_new_code(
    api, cashier, store, form_member, run_on_commit
):
    url = base(form_member, cashier, store)
    with run_on_commit():
        api.post(f"{url}/erasure/", {"store": "GNT01"}, format="json")
    first = mailed_code(form_member.email)
    body = {"store": "GNT01", "kind": "erasure"}
    for n in range(5):
        guess = f"{(int(first) + n + 1) % 10**6:06d}"
        api.post(f"{url}/confirm/", {**body, "code": guess}, format="json")

    with run_on_commit():
        again = api.post(f"{url}/erasure/", {"store": "GNT01"}, format="json")

    assert again.json()["confirmation"] == "email_code"
    assert len([m for m in mail.outbox if m.to == [form_member.email]]) == 2
    code = CODE.findall(mail.outbox[-1].body)[0]
    with run_on_commit():
        confirmed = api.post(f"{url}/confirm/", {**body, "code": code}, format="json")
    assert confirmed.status_code == 200
    assert not Member.objects.filter(pk=form_member.pk).exists()
