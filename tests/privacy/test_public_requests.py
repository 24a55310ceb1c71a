"""The public erasure/access form and the confirmation link, as a customer uses them."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from loyalty.models import Member
from privacy.models import PrivacyTicket, TicketKind, TicketState
from tests.factories import EidMemberFactory, MemberFactory
from tests.privacy.conftest import confirmation_link, outbox_to

STRANGER = "nobody.known@example.be"


def url(name: str, language: str = "nl", **kwargs) -> str:
    with translation.override(language):
        return reverse(f"privacy:{name}", kwargs=kwargs or None)


@pytest.fixture
def client() -> Client:
    return Client(REMOTE_ADDR="198.51.100.7")


def post_request(client, identifier, *, kind="erasure", language="nl", ip="198.51.100.7"):
    return client.post(url(f"{kind}-request", language), {"identifier": identifier}, REMOTE_ADDR=ip)


@pytest.mark.parametrize("language", ["nl", "fr", "en"])
def test_the_form_is_served_in_each_language(client, db, language):
    response = client.get(url("erasure-request", language))

    assert response.status_code == 200
    assert f'<html lang="{language}">' in response.content.decode()
    expected = {"nl": "Vraag ons uw gegevens te wissen", "fr": "Demandez-nous", "en": "Ask us"}
    assert expected[language] in response.content.decode()


def test_the_form_asks_for_one_field_only(client, db):
    response = client.get(url("access-request"))

    assert response.context["form"].fields.keys() == {"identifier"}


def test_no_enumeration_member_and_stranger_get_the_same_answer(client, member, run_on_commit):
    with run_on_commit():
        known = post_request(client, member.email)
    with run_on_commit():
        unknown = post_request(client, STRANGER)

    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"]
    assert client.get(known["Location"]).content == client.get(unknown["Location"]).content
    assert member.email not in known["Location"]
    # Only the member got mail, at the address on file.
    assert [m.to for m in mail.outbox] == [[member.email]]
    assert PrivacyTicket.objects.count() == 1


def test_member_number_also_works_and_mail_goes_to_the_address_on_file(
    client, member, run_on_commit
):
    with run_on_commit():
        post_request(client, f"{member.number[:4]} {member.number[4:8]} {member.number[8:]}")

    assert len(outbox_to(member.email)) == 1


def test_eid_member_without_email_gets_no_ticket_and_the_same_answer(client, db, run_on_commit):
    eid_member = EidMemberFactory()
    with run_on_commit():
        response = post_request(client, eid_member.number)

    assert response.status_code == 302
    assert mail.outbox == []
    assert not PrivacyTicket.objects.exists()


@pytest.mark.parametrize("language", ["nl", "fr", "en"])
def test_mail_is_in_the_language_of_the_form(client, member, run_on_commit, language):
    with run_on_commit():
        post_request(client, member.email, language=language)

    [message] = mail.outbox
    link_language, _ = confirmation_link(message)
    assert link_language == language
    greeting = {"nl": "Beste klant", "fr": "Bonjour", "en": "Hello"}[language]
    assert message.body.startswith(greeting)


def test_confirmation_link_verifies_and_erasure_runs(client, member, run_on_commit):
    with run_on_commit():
        post_request(client, member.email.upper())
    language, token = confirmation_link(mail.outbox[0])

    # Opening the link only shows a button: mail scanners follow links.
    page = client.get(url("confirm", language, token=token))
    assert page.status_code == 200
    assert PrivacyTicket.objects.get().state == TicketState.AWAITING_VERIFICATION

    with run_on_commit():
        done = client.post(url("confirm", language, token=token))

    assert done.status_code == 200
    ticket = PrivacyTicket.objects.get()
    assert ticket.state == TicketState.COMPLETED
    assert not Member.objects.filter(pk=member.pk).exists()
    assert [(s.from_state, s.to_state) for s in ticket.history.all()] == [
        ("", "received"),
        ("received", "awaiting_verification"),
        ("awaiting_verification", "verified"),
        ("verified", "scheduled"),
        ("scheduled", "completed"),
    ]


def test_the_link_is_single_use(client, member, settings, run_on_commit):
    settings.PRIVACY_ERASURE_AUTO_APPROVE = False
    with run_on_commit():
        post_request(client, member.email)
    language, token = confirmation_link(mail.outbox[0])
    client.post(url("confirm", language, token=token))

    again = client.post(url("confirm", language, token=token))
    looked = client.get(url("confirm", language, token=token))

    assert again.status_code == looked.status_code == 400
    assert "niet meer geldig" in again.content.decode()
    assert PrivacyTicket.objects.get().state == TicketState.VERIFIED


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),
        lambda t: t[:10],
        lambda t: t + "x" * 200,
        lambda t: "%00" + t,
        lambda t: "é" * 30,
    ],
)
def test_a_tampered_link_shows_a_clear_page_and_verifies_nothing(
    client, member, run_on_commit, mangle
):
    with run_on_commit():
        post_request(client, member.email)
    language, token = confirmation_link(mail.outbox[0])

    response = client.post(f"/{language}/privacy/confirm/{mangle(token)}/")

    assert response.status_code in (400, 404)
    assert PrivacyTicket.objects.get().state == TicketState.AWAITING_VERIFICATION
    # The real link still works afterwards: nothing was lost.
    assert client.get(url("confirm", language, token=token)).status_code == 200


def test_an_expired_link_shows_a_clear_page(client, member, run_on_commit):
    with run_on_commit():
        post_request(client, member.email)
    language, token = confirmation_link(mail.outbox[0])
    PrivacyTicket.objects.update(token_expires_at=timezone.now() - timedelta(seconds=1))

    response = client.post(url("confirm", language, token=token))

    assert response.status_code == 400
    assert PrivacyTicket.objects.get().state == TicketState.AWAITING_VERIFICATION


def test_double_submission_makes_one_ticket_and_one_mail(client, member, run_on_commit):
    with run_on_commit():
        post_request(client, member.email)
        post_request(client, member.email)
        post_request(client, member.number)

    assert PrivacyTicket.objects.count() == 1
    assert len(mail.outbox) == 1


def test_a_new_request_later_resends_a_fresh_link_and_the_old_one_dies(
    client, member, run_on_commit
):
    with run_on_commit():
        post_request(client, member.email)
    _, old = confirmation_link(mail.outbox[0])
    PrivacyTicket.objects.update(token_sent_at=timezone.now() - timedelta(minutes=5))

    with run_on_commit():
        post_request(client, member.email)

    assert PrivacyTicket.objects.count() == 1
    _, new = confirmation_link(mail.outbox[1])
    assert new != old
    assert client.get(url("confirm", token=old)).status_code == 400
    assert client.get(url("confirm", token=new)).status_code == 200


def test_erasure_and_access_are_separate_tickets(client, member, run_on_commit):
    with run_on_commit():
        post_request(client, member.email, kind="erasure")
        post_request(client, member.email, kind="access")

    assert set(PrivacyTicket.objects.values_list("kind", flat=True)) == {"erasure", "access"}


def test_flood_for_one_identifier_is_rate_limited_the_same_for_strangers(
    client, member, settings, run_on_commit
):
    settings.PRIVACY_RATE_LIMIT_PER_IDENTIFIER = 3
    answers = {}
    for who in (member.email, STRANGER):
        with run_on_commit():
            codes = [post_request(client, who, ip=f"203.0.113.{n}").status_code for n in range(5)]
        answers[who] = codes

    assert answers[member.email] == answers[STRANGER] == [302, 302, 302, 429, 429]
    assert PrivacyTicket.objects.count() == 1
    assert len(mail.outbox) == 1


def test_flood_from_one_address_is_rate_limited(client, db, settings):
    settings.PRIVACY_RATE_LIMIT_PER_IP = 5
    codes = [post_request(client, f"person{n}@example.be").status_code for n in range(7)]

    assert codes == [302] * 5 + [429] * 2
    page = post_request(client, "other@example.be")
    assert page.status_code == 429
    assert "Te veel aanvragen" in page.content.decode()
    # Another address is not affected.
    assert post_request(client, "other@example.be", ip="192.0.2.1").status_code == 302


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"identifier": ""},
        {"identifier": "   "},
        {"identifier": "not an address"},
        {"identifier": "a@b"},
        {"identifier": "x" * 5000},
        {"identifier": "abc\x00def@example.be"},
        {"identifier": "'; DROP TABLE privacy_privacyticket; --"},
        {"identifier": "<script>alert(1)</script>@example.be"},
        {"identifier": "\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18\uff19\uff10\uff11\uff12"},
        {"identifier": "12345"},
        {"identifier": "\u202etest@example.be"},
        {"other": "field"},
    ],
)
def test_garbage_gets_the_form_back_with_an_error_never_a_500(client, db, payload):
    response = client.post(url("erasure-request"), payload)

    assert response.status_code == 400
    assert 'role="alert"' in response.content.decode()
    assert "<script>alert" not in response.content.decode()
    assert not PrivacyTicket.objects.exists()


@pytest.mark.parametrize(
    "body",
    [b"\xff\xfe\xfa", b"identifier=%ff%fe", b"identifier=" + b"%" * 10],
)
def test_undecodable_bodies_are_handled(client, db, body):
    response = client.post(
        url("erasure-request"), body, content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 400


def test_unknown_language_prefix_and_kind_are_not_server_errors(client, db):
    assert client.get("/xx/privacy/erasure/").status_code == 404
    assert client.get(url("request-sent", kind="nonsense")).status_code == 200


def test_unverified_requests_are_dropped_leaving_nothing(client, member, run_on_commit):
    from privacy.services import tickets_drop_unverified

    with run_on_commit():
        post_request(client, member.email)
    later = timezone.now() + timedelta(days=8)

    assert tickets_drop_unverified(now=timezone.now()) == 0
    assert tickets_drop_unverified(now=later) == 1

    assert not PrivacyTicket.objects.exists()
    assert Member.objects.filter(pk=member.pk).exists()


def test_no_personal_data_in_logs(client, member, caplog, run_on_commit):
    caplog.set_level(logging.DEBUG)
    with run_on_commit():
        post_request(client, member.email, ip="203.0.113.99")
        post_request(client, STRANGER, ip="203.0.113.99")
        post_request(client, "garbage", ip="203.0.113.99")
    language, token = confirmation_link(mail.outbox[0])
    with run_on_commit():
        client.post(url("confirm", language, token=token))
        client.post(url("confirm", language, token=token))

    text = caplog.text + " ".join(str(r.args) for r in caplog.records)
    for secret in (
        member.email,
        STRANGER,
        member.number,
        member.given_name,
        member.surname,
        member.phone,
        "203.0.113.99",
    ):
        assert secret not in text
    assert "erasure completed" in caplog.text


def test_an_access_request_mails_the_export_to_the_member(client, member, run_on_commit):
    with run_on_commit():
        post_request(client, member.email, kind="access", language="fr")
    language, token = confirmation_link(mail.outbox[0])
    assert "copie de vos données" in mail.outbox[0].subject

    with run_on_commit():
        client.post(url("confirm", language, token=token))

    ticket = PrivacyTicket.objects.get(kind=TicketKind.ACCESS)
    assert ticket.state == TicketState.COMPLETED
    export = mail.outbox[1]
    assert export.to == [member.email]
    names = [a[0] for a in export.attachments]
    assert names[0] == "data.json"
    assert {"profile.csv", "ledger.csv", "consents.csv", "privacy_requests.csv"} <= set(names)
    assert member.email in export.attachments[0][1]
    assert ticket.result_counts["ledger"] == 3
    assert Member.objects.filter(pk=member.pk).exists()


def test_another_member_email_case_is_found(client, db, run_on_commit):
    other = MemberFactory(email="Mixed.Case@Example.be")
    with run_on_commit():
        post_request(client, "mixed.case@example.BE")

    assert len(outbox_to(other.email)) == 1
