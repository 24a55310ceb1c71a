"""Stop recognising my eID card, asked online: form, link, withdrawal, proof, mail."""

from __future__ import annotations

import logging

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import translation

from loyalty.models import EidCard, LedgerEntry, Member
from loyalty.privacy import member_subject_key
from loyalty.purposes import EID_WITHDRAWAL, Channel, Purpose
from privacy import services
from privacy.chain import consent_log_verify
from privacy.models import Channel as PrivacyChannel
from privacy.models import (
    ConsentAction,
    ConsentRecord,
    PrivacyTicket,
    TicketSource,
    TicketState,
)
from privacy.selectors import consent_latest, ticket_proof, withdrawal_found_nothing
from tests.factories import EidMemberFactory, HeadOfficeFactory, MemberFactory
from tests.privacy.conftest import confirmation_link, erase_at_counter, outbox_to

STRANGER = "nobody.known@example.be"
EID = Purpose.EID_RECOGNITION


def url(name: str, language: str = "nl", **kwargs) -> str:
    with translation.override(language):
        return reverse(f"privacy:{name}", kwargs=kwargs or None)


@pytest.fixture
def client() -> Client:
    return Client(REMOTE_ADDR="198.51.100.7")


def ask(client, identifier, *, language="nl", ip="198.51.100.7"):
    """Send the public form's "stop recognising my eID card" request."""
    return client.post(
        url("eid-withdrawal-request", language), {"identifier": identifier}, REMOTE_ADDR=ip
    )


def confirm(client, run_on_commit, message):
    """Open the link in a mail and press the button, running what is queued on commit."""
    language, token = confirmation_link(message)
    with run_on_commit():
        return client.post(url("confirm", language, token=token))


@pytest.fixture
def consented(member, store, cashier):
    """The fixture member, who gave eID consent at the counter when the card was linked."""
    services.consent_give(
        subject_key=member_subject_key(member),
        purpose=EID,
        channel=Channel.COUNTER_EID,
        language="nl",
        store=store,
        staff=cashier,
    )
    return member


@pytest.mark.parametrize(
    ("language", "title"),
    [
        ("nl", "Herken mij niet meer aan mijn eID-kaart"),
        ("fr", "Ne plus me reconnaître grâce à ma carte eID"),
        ("en", "Stop recognising my eID card"),
    ],
)
def test_the_form_offers_the_request_in_each_language(client, db, language, title):
    response = client.get(url("eid-withdrawal-request", language))

    html = response.content.decode()
    assert response.status_code == 200
    assert f"<h1>{title}</h1>" in html
    assert response.context["form"].fields.keys() == {"identifier"}
    # The other requests are one link away, and the language links stay on this request.
    assert url("erasure-request", language) in html
    assert url("access-request", language) in html
    assert url("eid-withdrawal-request", "fr" if language != "fr" else "nl") in html


def test_the_erasure_form_points_to_the_lighter_request(client, db):
    html = client.get(url("erasure-request", "en")).content.decode()

    assert "You keep your membership and points" in html
    assert url("eid-withdrawal-request", "en") in html


def test_a_member_confirms_by_the_link_and_keeps_number_and_points(
    client, consented, run_on_commit
):
    # given: a member with an eID link, points, and the consent given at the counter
    member = consented
    number, balance = member.number, member.points_balance
    ledger = list(LedgerEntry.objects.filter(member=member).values_list("pk", "points"))
    assert balance > 0 and EidCard.objects.filter(member=member).exists()

    # when: they ask online, in French, and confirm by the link sent to the address on file
    with run_on_commit():
        sent = ask(client, member.email, language="fr")
    [link_mail] = mail.outbox
    assert link_mail.to == [member.email]
    assert "carte eID" in link_mail.subject
    page = client.get(url("confirm", "fr", token=confirmation_link(link_mail)[1]))
    assert "Vous gardez votre affiliation" in page.content.decode()
    done = confirm(client, run_on_commit, link_mail)

    # then: the card link is gone; membership, number, points and ledger are untouched
    assert sent.status_code == 302
    assert done.status_code == 200
    assert "ne vous reconnaîtront plus" in done.content.decode()
    member.refresh_from_db()
    assert not EidCard.objects.filter(member=member).exists()
    assert (member.number, member.points_balance) == (number, balance)
    assert list(LedgerEntry.objects.filter(member=member).values_list("pk", "points")) == ledger
    # the consent log holds the withdrawal, made on the website, in the request's language
    latest = consent_latest(subject_key=member_subject_key(member), purpose=EID)
    assert (latest.action, latest.channel, latest.language) == (
        ConsentAction.WITHDRAWN,
        PrivacyChannel.WEB,
        "fr",
    )
    assert latest.staff is None
    assert consent_log_verify().ok
    # one ticket, completed along the same steps as the other kinds, and no erasure opened
    ticket = PrivacyTicket.objects.get()
    assert (ticket.kind, ticket.source, ticket.state) == (
        EID_WITHDRAWAL,
        TicketSource.PUBLIC_FORM,
        TicketState.COMPLETED,
    )
    assert [(s.from_state, s.to_state) for s in ticket.history.all()] == [
        ("", "received"),
        ("received", "awaiting_verification"),
        ("awaiting_verification", "verified"),
        ("verified", "scheduled"),
        ("scheduled", "completed"),
    ]
    assert ticket.history.last().note == "consent withdrawn"
    assert ticket.result_counts == {
        "consent_given_before": 1,
        "consent_records_appended": 1,
        "eid_cards_unlinked": 1,
    }
    # the proof says what was done, without personal data
    proof = ticket_proof(ticket)
    assert proof["kind"] == "eid_withdrawal"
    assert proof["counts"]["eid_cards_unlinked"] == 1
    assert proof["completed_at"]
    for personal in (member.email, member.number, member.given_name, member.surname):
        assert personal not in str(proof)
    # the member is told, in French, at the address on file
    told = mail.outbox[1]
    assert told.to == [member.email]
    assert told.subject == "Nous ne vous reconnaissons plus grâce à votre carte eID"
    assert told.body.startswith("Bonjour")
    assert "supprimé le lien avec votre carte" in told.body
    assert len(mail.outbox) == 2


def test_the_member_number_works_too(client, consented, run_on_commit):
    with run_on_commit():
        ask(client, consented.number)
    confirm(client, run_on_commit, outbox_to(consented.email)[0])

    assert not EidCard.objects.filter(member=consented).exists()
    assert Member.objects.filter(pk=consented.pk).exists()


def test_member_and_stranger_get_the_same_answer(client, member, run_on_commit):
    with run_on_commit():
        known = ask(client, member.email)
    with run_on_commit():
        unknown = ask(client, STRANGER)

    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"] == url("request-sent", kind="eid_withdrawal")
    assert client.get(known["Location"]).content == client.get(unknown["Location"]).content
    assert member.email not in known["Location"]
    assert [m.to for m in mail.outbox] == [[member.email]]
    assert PrivacyTicket.objects.count() == 1


def test_a_member_without_an_email_gets_no_ticket_and_the_same_answer(
    client, member, run_on_commit
):
    # given: a member who joined with the eID card and left no e-mail address
    eid_member = EidMemberFactory()

    # when
    with run_on_commit():
        theirs = ask(client, eid_member.number)
    with run_on_commit():
        stranger = ask(client, STRANGER)

    # then: the same page as anyone; nothing is sent and nothing changes (as for erasure,
    # the way left is the counter, where staff see the card and withdraw in one action)
    assert theirs["Location"] == stranger["Location"]
    assert mail.outbox == []
    assert not PrivacyTicket.objects.exists()
    assert EidCard.objects.filter(member=eid_member).exists()


def test_a_member_without_an_eid_link_hears_there_was_nothing_to_withdraw(
    client, store, run_on_commit
):
    # given: a member who joined with the form and never let the card be read
    member = MemberFactory(home_store=store, email="only.form@example.be")

    # when
    with run_on_commit():
        ask(client, member.email, language="en")
    confirm(client, run_on_commit, mail.outbox[0])

    # then: the ticket completes, saying there was nothing to withdraw
    ticket = PrivacyTicket.objects.get()
    assert ticket.state == TicketState.COMPLETED
    assert ticket.history.last().note.startswith("nothing to withdraw")
    assert ticket.result_counts["consent_given_before"] == 0
    assert ticket.result_counts["eid_cards_unlinked"] == 0
    assert withdrawal_found_nothing(ticket)
    # as at the counter, the withdrawal is still recorded: the customer's word is kept
    latest = consent_latest(subject_key=member_subject_key(member), purpose=EID)
    assert latest.action == ConsentAction.WITHDRAWN
    told = mail.outbox[1]
    assert "No eID card was linked to your membership" in told.body
    assert "removed the link" not in told.body
    assert Member.objects.filter(pk=member.pk).exists()


def test_staff_can_verify_instead_of_the_link_and_the_withdrawal_runs_at_once(
    client, consented, run_on_commit
):
    # given: a request whose link the customer never used
    with run_on_commit():
        ask(client, consented.email)
    ticket = PrivacyTicket.objects.get()
    office = HeadOfficeFactory(username="dpo")

    # when: staff who checked the customer another way mark it verified
    with run_on_commit():
        services.ticket_verify(ticket=ticket, by=office, note="card shown at the counter")

    # then: no approval step is needed to withdraw consent (Art. 7(3))
    ticket.refresh_from_db()
    assert ticket.state == TicketState.COMPLETED
    assert not EidCard.objects.filter(member=consented).exists()
    steps = list(ticket.history.values_list("to_state", "by__username"))
    assert steps[2:] == [("verified", "dpo"), ("scheduled", "dpo"), ("completed", None)]
    # the old link no longer works
    language, token = confirmation_link(mail.outbox[0])
    assert client.post(url("confirm", language, token=token)).status_code == 400


def test_running_the_withdrawal_twice_does_nothing_more(client, consented, run_on_commit):
    with run_on_commit():
        ask(client, consented.email)
    confirm(client, run_on_commit, mail.outbox[0])
    ticket = PrivacyTicket.objects.get()
    records = ConsentRecord.objects.count()

    with run_on_commit():
        again = services.withdrawal_execute(ticket_id=ticket.pk)

    assert again.state == TicketState.COMPLETED
    assert ConsentRecord.objects.count() == records
    assert len(mail.outbox) == 2


def test_a_member_erased_before_the_withdrawal_ran_is_not_mailed(
    client, consented, store, cashier, run_on_commit
):
    # given: a verified withdrawal whose work has not run yet
    with run_on_commit():
        ask(client, consented.email)
    language, token = confirmation_link(mail.outbox[0])
    client.post(url("confirm", language, token=token))  # its work stays queued
    ticket = PrivacyTicket.objects.get()
    assert ticket.state == TicketState.SCHEDULED
    # and the member is erased at the counter meanwhile
    with run_on_commit():
        erase_at_counter(consented, store, cashier)

    # when
    with run_on_commit():
        services.withdrawal_execute(ticket_id=ticket.pk)

    # then: nothing left to withdraw, nobody to write to
    ticket.refresh_from_db()
    assert ticket.state == TicketState.COMPLETED
    assert ticket.history.last().note == "nothing to withdraw: the person is no longer known"
    assert ticket.result_counts == {}
    assert len(mail.outbox) == 1


def test_no_personal_data_in_logs(client, consented, caplog, run_on_commit):
    caplog.set_level(logging.DEBUG)
    with run_on_commit():
        ask(client, consented.email, ip="203.0.113.99")
        ask(client, STRANGER, ip="203.0.113.99")
    confirm(client, run_on_commit, mail.outbox[0])

    text = caplog.text + " ".join(str(r.args) for r in caplog.records)
    for secret in (
        consented.email,
        STRANGER,
        consented.number,
        consented.given_name,
        consented.surname,
        "203.0.113.99",
    ):
        assert secret not in text
    assert "withdrawal completed" in caplog.text
