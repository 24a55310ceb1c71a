"""The privacy queue: states, deadlines, actions through privacy's services, the deadline mail."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from dashboard.tasks import tickets_deadline_mail
from loyalty.models import EidCard
from loyalty.privacy import member_subject_key
from privacy import services as privacy_services
from privacy.models import PrivacyTicket, TicketState
from privacy.selectors import consent_latest
from tests.factories import (
    EidCardFactory,
    HeadOfficeFactory,
    MemberFactory,
    PrivacyTicketFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def today():
    return timezone.localdate()


@pytest.fixture
def tickets(db):
    return {
        "overdue": PrivacyTicketFactory(state="verified", due_on=today() - timedelta(days=2)),
        "soon": PrivacyTicketFactory(state="received", due_on=today() + timedelta(days=5)),
        "later": PrivacyTicketFactory(kind="access", due_on=today() + timedelta(days=25)),
        "done": PrivacyTicketFactory(state="completed", due_on=today() - timedelta(days=40)),
    }


def test_open_tickets_come_nearest_deadline_first_and_are_highlighted(office, tickets):
    response = office.get(reverse("dashboard:tickets"))

    shown = response.context["tickets"]
    assert [t.pk for t in shown] == [tickets[k].pk for k in ("overdue", "soon", "later")]
    assert [t.urgency for t in shown] == ["overdue", "soon", ""]
    html = response.content.decode()
    assert 'class="dash-overdue"' in html
    assert 'class="dash-soon"' in html


def test_tickets_by_state_and_kind(office, tickets):
    completed = office.get(reverse("dashboard:tickets"), {"state": "completed"})
    access = office.get(reverse("dashboard:tickets"), {"kind": "access"})

    assert [t.pk for t in completed.context["tickets"]] == [tickets["done"].pk]
    assert [t.pk for t in access.context["tickets"]] == [tickets["later"].pk]


def test_the_queue_exports_as_csv(office, tickets):
    response = office.get(reverse("dashboard:tickets_csv"), {"state": "open"})

    body = b"".join(response.streaming_content).decode("utf-8-sig")
    lines = body.strip().splitlines()
    assert lines[0].startswith("aanvraag,soort,status")
    assert len(lines) == 4
    assert lines[1].endswith("overdue")


def test_the_queue_query_count_does_not_grow(office, tickets):
    def count():
        with CaptureQueriesContext(connection) as q:
            office.get(reverse("dashboard:tickets"))
        return len(q)

    count()  # the first call also fills the cache (the caller's access)
    small = count()
    for _ in range(30):
        PrivacyTicketFactory(state="verified")

    assert count() == small


def test_verify_then_approve(
    office, tickets, head_office, django_capture_on_commit_callbacks, settings
):
    # given: a chain where head office approves each verified erasure itself
    settings.PRIVACY_ERASURE_AUTO_APPROVE = False
    ticket = tickets["soon"]

    office.post(
        reverse("dashboard:ticket_action", args=[ticket.pk, "verify"]),
        {"note": "member card and ID shown at the counter"},
    )
    ticket.refresh_from_db()
    assert ticket.state == TicketState.VERIFIED

    with django_capture_on_commit_callbacks() as callbacks:
        office.post(reverse("dashboard:ticket_action", args=[ticket.pk, "approve"]))
    ticket.refresh_from_db()
    assert ticket.state == TicketState.SCHEDULED
    assert ticket.approved_by == head_office
    assert len(callbacks) == 1  # the erasure goes to Celery once committed
    steps = list(ticket.history.values_list("to_state", "by__username"))
    assert steps[-2:] == [("verified", "headoffice"), ("scheduled", "headoffice")]


def test_verify_schedules_at_once_where_approval_is_automatic(
    office, tickets, django_capture_on_commit_callbacks, settings
):
    settings.PRIVACY_ERASURE_AUTO_APPROVE = True
    ticket = tickets["soon"]
    with django_capture_on_commit_callbacks() as callbacks:
        office.post(reverse("dashboard:ticket_action", args=[ticket.pk, "verify"]), {"note": ""})
    ticket.refresh_from_db()
    assert ticket.state == TicketState.SCHEDULED
    assert len(callbacks) == 1


def test_extend_with_a_reason(office, tickets):
    ticket = tickets["soon"]
    due = ticket.due_on

    response = office.post(
        reverse("dashboard:ticket_action", args=[ticket.pk, "extend"]),
        {"months": "2", "reason": "Data held by a recipient must be traced"},
        follow=True,
    )

    ticket.refresh_from_db()
    assert ticket.extended_at is not None
    assert ticket.due_on > due
    assert "Data held by a recipient" in ticket.extension_reason
    assert "Data held by a recipient" in response.content.decode()  # in the history


def test_extending_twice_shows_privacy_s_error(office, tickets):
    ticket = tickets["soon"]
    url = reverse("dashboard:ticket_action", args=[ticket.pk, "extend"])
    office.post(url, {"months": "1", "reason": "first"})

    response = office.post(url, {"months": "1", "reason": "again"}, follow=True)

    messages = [str(m) for m in response.context["messages"]]
    # nl, the default: "can only be extended once" (core.errors.TicketExtensionInvalid)
    assert any("maar één keer worden verlengd" in m for m in messages)


def test_reject_needs_a_reason(office, tickets):
    ticket = tickets["soon"]
    url = reverse("dashboard:ticket_action", args=[ticket.pk, "reject"])

    office.post(url, {"reason": ""})
    ticket.refresh_from_db()
    assert ticket.state == TicketState.RECEIVED

    office.post(url, {"reason": "Not the person's own request"})
    ticket.refresh_from_db()
    assert ticket.state == TicketState.REJECTED
    assert ticket.reject_reason == "Not the person's own request"


def test_an_invalid_move_is_refused(office, tickets):
    ticket = tickets["done"]

    response = office.post(
        reverse("dashboard:ticket_action", args=[ticket.pk, "approve"]), follow=True
    )

    ticket.refresh_from_db()
    assert ticket.state == TicketState.COMPLETED
    assert response.context["messages"]


def test_the_ticket_page_shows_history_and_only_allowed_actions(office, tickets):
    response = office.get(reverse("dashboard:ticket", args=[tickets["overdue"].pk]))

    assert response.context["actions"] == {
        "verify": False,
        "approve": True,
        "extend": True,
        "reject": True,
    }
    assert response.context["urgency"] == "overdue"
    done = office.get(reverse("dashboard:ticket", args=[tickets["done"].pk]))
    assert not any(done.context["actions"].values())


def test_actions_are_post_only_and_head_office_only(office, manager, tickets):
    from tests.dashboard.conftest import client_for

    url = reverse("dashboard:ticket_action", args=[tickets["soon"].pk, "reject"])
    assert office.get(url).status_code == 405
    assert client_for(manager).post(url, {"reason": "x"}).status_code == 403
    assert PrivacyTicket.objects.get(pk=tickets["soon"].pk).state == TicketState.RECEIVED


def test_the_deadline_mail_goes_to_head_office(tickets, head_office):
    HeadOfficeFactory(username="ho2", email="")  # no address: skipped
    UserFactory(username="not-staff", email="someone@example.be")

    listed = tickets_deadline_mail.delay().get()

    assert listed == 2
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["ho@example.be"]
    assert f"#{tickets['overdue'].pk}" in message.body
    assert f"#{tickets['soon'].pk}" in message.body
    assert f"#{tickets['later'].pk}" not in message.body
    assert reverse("dashboard:ticket", args=[tickets["soon"].pk]) in message.body
    assert "member:" not in message.body  # no subject keys


def test_no_mail_when_nothing_is_close(head_office):
    PrivacyTicketFactory(due_on=today() + timedelta(days=20))

    assert tickets_deadline_mail() == 0
    assert mail.outbox == []


def test_the_deadline_mail_is_scheduled_daily(settings):
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}

    assert {
        "dashboard.tasks.tickets_deadline_mail",
        "dashboard.tasks.stats_refresh",
        "dashboard.tasks.consent_chain_check",
    } <= tasks


@pytest.mark.parametrize(
    ("language", "label"),
    [
        ("en", "Withdrawal of eID consent"),
        ("nl", "Intrekking van de eID-toestemming"),
        ("fr", "Retrait du consentement eID"),
    ],
)
def test_the_queue_lists_eid_withdrawals_with_their_label(
    office, tickets, settings, language, label
):
    # given: a customer's online request to stop recognising their eID card, not yet verified
    withdrawal = PrivacyTicketFactory(kind="eid_withdrawal", state="awaiting_verification")
    office.cookies[settings.LANGUAGE_COOKIE_NAME] = language

    # when
    queue = office.get(reverse("dashboard:tickets"))
    only = office.get(reverse("dashboard:tickets"), {"kind": "eid_withdrawal"})
    page = office.get(reverse("dashboard:ticket", args=[withdrawal.pk]))

    # then: listed among the open tickets, filterable, with its label everywhere
    assert withdrawal.pk in [t.pk for t in queue.context["tickets"]]
    assert f"<td>{label}</td>" in queue.content.decode()
    assert [t.pk for t in only.context["tickets"]] == [withdrawal.pk]
    assert f'<option value="eid_withdrawal">{label}</option>' in queue.content.decode()
    assert label in page.content.decode()
    assert page.context["actions"]["verify"]


def test_the_queue_csv_names_the_eid_withdrawal_kind(office, db):
    PrivacyTicketFactory(kind="eid_withdrawal", state="received")

    response = office.get(reverse("dashboard:tickets_csv"), {"kind": "eid_withdrawal"})

    lines = b"".join(response.streaming_content).decode("utf-8-sig").strip().splitlines()
    assert len(lines) == 2
    assert ",Intrekking van de eID-toestemming," in lines[1]


def test_verifying_an_eid_withdrawal_withdraws_at_once(
    office, head_office, gent, settings, django_capture_on_commit_callbacks
):
    # given: a member whose online request waits for verification, in a chain that otherwise
    # has head office approve each verified erasure
    settings.PRIVACY_ERASURE_AUTO_APPROVE = False
    # Rate-limit counters in a cache of this test's own, never the Redis the broker uses.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "dashboard-withdrawal-test",
        }
    }
    member = MemberFactory(home_store=gent, email="staff.check@example.be")
    EidCardFactory(member=member)
    with django_capture_on_commit_callbacks(execute=True):
        ticket = privacy_services.ticket_request_public(
            kind="eid_withdrawal", identifier=member.email, language="nl", client_ip="192.0.2.9"
        )

    # when: head office verifies it (the customer showed their card at a counter)
    with django_capture_on_commit_callbacks(execute=True):
        response = office.post(
            reverse("dashboard:ticket_action", args=[ticket.pk, "verify"]),
            {"note": "identity card shown at GNT01"},
            follow=True,
        )

    # then: no approval step; the card link is gone, the member and their number stay
    ticket.refresh_from_db()
    member.refresh_from_db()
    assert ticket.state == TicketState.COMPLETED
    assert not EidCard.objects.filter(member=member).exists()
    latest = consent_latest(subject_key=member_subject_key(member), purpose="eid_recognition")
    assert latest.action == "withdrawn"
    messages = [str(m) for m in response.context["messages"]]
    assert messages == [f"Verzoek #{ticket.pk} geverifieerd: het werk is ingepland."]
    assert "Intrekking van de eID-toestemming" in response.content.decode()
