"""My membership: signing in by a link, the member's own figures, consents and requests."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from loyalty.models import EidCard, Member
from loyalty.privacy import member_subject_key
from membership.mail import marketing_mail_send
from membership.models import SignInLink
from privacy.models import ConsentRecord, PrivacyTicket, TicketSource, TicketState, TicketTask
from privacy.selectors import consent_latest
from tests.factories import RewardFactory
from tests.membership.conftest import link_in

pytestmark = pytest.mark.django_db


def _member_queries(queries) -> list[str]:
    return [q["sql"] for q in queries if "loyalty_member" in q["sql"]]


# Signing in
def test_the_sign_in_form_answers_the_same_and_looks_nobody_up(
    client, shopper, django_capture_on_commit_callbacks
):
    # when: a member's address and a stranger's are sent, each captured up to the answer
    answers = []
    for email in (shopper.email, "nobody.here@example.be"):
        with (
            django_capture_on_commit_callbacks() as callbacks,
            CaptureQueriesContext(connection) as queries,
        ):
            response = client.post("/nl/membership/", {"email": email})
        answers.append((response.status_code, response["Location"], _member_queries(queries)))
        # then, after the answer: the task does the look-up and mails a member only
        for callback in callbacks:
            callback()

    assert answers[0] == answers[1] == (302, "/nl/membership/sent/", [])
    assert [m.to for m in mail.outbox] == [[shopper.email]]
    assert not TicketTask.objects.exists()  # the outbox rows went once done
    page = client.get("/nl/membership/sent/").content.decode()
    assert shopper.email not in page


def test_the_outbox_keeps_the_address_sealed_never_in_clear(
    client, shopper, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks():
        client.post("/en/membership/", {"email": shopper.email})

    row = TicketTask.objects.get()
    assert row.ticket_id is None and row.args == []
    assert shopper.email not in row.sealed and "janssens" not in row.sealed


def test_the_link_signs_in_once_and_is_kept_as_a_hash(
    client, shopper, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/de/membership/", {"email": shopper.email.upper()})
    [message] = mail.outbox
    path = link_in(message)
    assert "Anmeldung" in message.subject or "Mitgliedschaft" in message.subject
    token = path.rstrip("/").rsplit("/", 1)[1]
    assert not SignInLink.objects.filter(token_hash=token).exists()

    # a GET (a mail scanner) does not use it
    assert client.get(path).status_code == 200
    assert client.get("/de/membership/me/")["Location"] == "/de/membership/"
    response = client.post(path)
    assert response["Location"] == "/de/membership/me/"
    assert client.get("/de/membership/me/").status_code == 200

    other = client.__class__()
    assert other.post(path).status_code == 400
    assert SignInLink.objects.get().used_at is not None


def test_an_expired_link_does_not_sign_in(client, shopper, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/en/membership/", {"email": shopper.email})
    SignInLink.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    assert client.post(link_in(mail.outbox[0])).status_code == 400
    assert client.get("/en/membership/me/").status_code == 302


def test_the_visit_ends_after_its_time(signed_in, settings):
    settings.MEMBERSHIP_SESSION_MINUTES = 0

    assert signed_in.get("/en/membership/me/").status_code == 302


def test_the_sign_in_form_is_rate_limited(client, settings):
    settings.PRIVACY_RATE_LIMIT_PER_IDENTIFIER = 2
    for _ in range(2):
        assert client.post("/en/membership/", {"email": "x@example.be"}).status_code == 302

    assert client.post("/en/membership/", {"email": "x@example.be"}).status_code == 429


# The page
def test_the_page_shows_balance_history_expiry_rewards_and_card(signed_in, shopper, settings):
    RewardFactory(name="Koffie", point_cost=50, stores=[shopper.home_store])
    RewardFactory(name="Weekendtas", point_cost=100, stores=[shopper.home_store])

    page = signed_in.get("/en/membership/me/").content.decode()

    assert f'data-testid="balance">{shopper.points_balance}<' in page
    assert shopper.points_balance == 65
    # the 40 points earned 550 days ago expire 24 months after they were earned
    due = timezone.localdate(timezone.now() - timedelta(days=550))
    assert "Koffie: 50 points, yours at the counter" in page
    assert "Weekendtas: 100 points, 35 more to go" in page
    assert "<svg" in page and shopper.number in page
    assert str(due.year + 2) in page
    assert page.count("+40") == 1 and page.count("+25") == 1


def test_expiring_points_use_the_oldest_credits_first(shopper):
    from loyalty.selectors import points_expiring
    from loyalty.services import points_redeem

    reward = RewardFactory(point_cost=30, stores=[shopper.home_store])
    points_redeem(member=shopper, store=shopper.home_store, staff=None, reward=reward)

    expiring = points_expiring(member=shopper)

    assert [e.points for e in expiring] == [10, 25]
    assert expiring[0].on < expiring[1].on


def test_withdrawing_eid_recognition_keeps_everything_else(signed_in, shopper):
    response = signed_in.post("/fr/membership/me/eid/")

    assert response.status_code == 302
    shopper.refresh_from_db()
    assert not EidCard.objects.filter(member=shopper).exists()
    assert shopper.points_balance == 65
    latest = consent_latest(subject_key=member_subject_key(shopper), purpose="eid_recognition")
    assert latest.action == "withdrawn" and latest.channel == "web" and latest.language == "fr"


def test_offers_by_mail_need_the_click_in_the_mail_and_stop_at_once(
    signed_in, shopper, django_capture_on_commit_callbacks
):
    key = member_subject_key(shopper)

    # asking records nothing yet: a mail goes out
    with django_capture_on_commit_callbacks(execute=True):
        signed_in.post("/de/membership/me/offers/", {"action": "give"})
    assert consent_latest(subject_key=key, purpose="marketing_email") is None
    [message] = mail.outbox
    path = link_in(message, "offers/confirm")
    assert "Möchten Sie unsere Angebote" in message.body  # the notice, in German

    # the click records the consent against the German notice
    assert signed_in.get(path).status_code == 200
    signed_in.post(path)
    given = consent_latest(subject_key=key, purpose="marketing_email")
    assert given.action == "given" and given.language == "de" and given.notice.language == "de"
    assert signed_in.post(path).status_code == 400  # once

    # every offer carries its own unsubscribe link, which works without signing in
    mail.outbox.clear()
    assert marketing_mail_send(member=shopper, language="de", subject="Angebot", text="-20 %")
    [offer] = mail.outbox
    assert offer.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = link_in(offer, "offers/unsubscribe")
    assert offer.extra_headers["List-Unsubscribe"].endswith(unsubscribe + ">")
    anonymous = signed_in.__class__()
    assert anonymous.post(unsubscribe).status_code == 200
    assert consent_latest(subject_key=key, purpose="marketing_email").action == "withdrawn"
    assert not marketing_mail_send(member=shopper, language="de", subject="Angebot", text="x")
    assert ConsentRecord.objects.filter(subject_key=key, purpose="marketing_email").count() == 2


def test_a_forged_unsubscribe_link_does_nothing(client, shopper):
    assert (
        client.post("/en/membership/offers/unsubscribe/bm90LWEtdG9rZW4tYXQtYWxs/").status_code
        == 400
    )


def test_the_member_downloads_their_data_as_json_and_csv(signed_in, shopper):
    data = json.loads(signed_in.get("/en/membership/me/my-data.json").content)
    csv_zip = signed_in.get("/en/membership/me/my-data-csv.zip").content
    archive = zipfile.ZipFile(io.BytesIO(csv_zip))

    assert data["sections"]["profile"][0]["email"] == shopper.email
    assert len(data["sections"]["ledger"]) == 2
    assert data["sections"]["sign_ins"][0]["signed_in_at"]
    assert {"profile.csv", "ledger.csv", "sign_ins.csv"} <= set(archive.namelist())
    assert shopper.number in archive.read("profile.csv").decode("utf-8-sig")


def test_erasure_from_the_page_is_verified_by_the_sign_in(
    signed_in, shopper, settings, django_capture_on_commit_callbacks
):
    settings.PRIVACY_ERASURE_AUTO_APPROVE = True

    assert signed_in.get("/en/membership/me/erasure/").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in.post("/en/membership/me/erasure/")

    assert response.status_code == 200
    ticket = PrivacyTicket.objects.get()
    assert ticket.source == TicketSource.SIGNED_IN and ticket.verification == "email_link"
    assert ticket.state == TicketState.COMPLETED
    assert not Member.objects.filter(pk=shopper.pk).exists()
    assert not SignInLink.objects.exists()
    assert signed_in.get("/en/membership/me/").status_code == 302


def test_every_page_needs_a_sign_in(client, shopper):
    for path in ("me/", "me/my-data.json", "me/my-data-csv.zip", "me/erasure/"):
        assert client.get(f"/en/membership/{path}")["Location"] == "/en/membership/"
    for path in ("me/eid/", "me/offers/", "me/erasure/"):
        assert client.post(f"/en/membership/{path}")["Location"] == "/en/membership/"
    assert EidCard.objects.filter(member=shopper).exists()
    assert not PrivacyTicket.objects.exists()


def test_a_refused_link_is_logged_without_its_token(client, caplog):
    token = "x" * 43

    with caplog.at_level("WARNING", logger="django.request"):
        assert client.post(f"/en/membership/link/{token}/").status_code == 400
        assert client.post(f"/en/membership/offers/unsubscribe/{token}/").status_code == 400

    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "/membership/link/[redacted]" in logged
    assert token not in logged
