"""The ticket state machine, legal due dates, extension and rejection (privacy.services.tickets)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.utils import timezone

from core.errors import InvalidInput, TicketExtensionInvalid, TicketTransitionInvalid
from loyalty.privacy import member_subject_key
from privacy import services
from privacy.models import (
    PrivacyTicket,
    TicketKind,
    TicketSource,
    TicketState,
    TicketTransition,
    Verification,
)
from privacy.services.tickets import TRANSITIONS, path_check, ticket_due_on, ticket_move
from tests.privacy.conftest import erase_at_counter

BRUSSELS = ZoneInfo("Europe/Brussels")
ALL_STATES = list(TicketState.values)


def _ticket(member, state: str) -> PrivacyTicket:
    now = timezone.now()
    return PrivacyTicket.objects.create(
        kind=TicketKind.ERASURE,
        state=state,
        source=TicketSource.COUNTER,
        subject_key=member_subject_key(member),
        language="nl",
        received_at=now,
        due_on=ticket_due_on(now),
    )


@pytest.mark.parametrize(
    ("origin", "target"),
    [(a, b) for a in ALL_STATES for b in ALL_STATES if b not in TRANSITIONS[a]],
)
def test_every_move_outside_the_table_raises(member, origin, target):
    ticket = _ticket(member, origin)

    with pytest.raises(TicketTransitionInvalid) as raised:
        ticket_move(ticket, target)

    assert raised.value.code == "ticket_transition_invalid"
    assert raised.value.details == {"from": origin, "to": target}
    ticket.refresh_from_db()
    assert ticket.state == origin
    assert not TicketTransition.objects.filter(ticket=ticket).exists()


@pytest.mark.parametrize(
    ("origin", "target"), [(a, b) for a in ALL_STATES for b in sorted(TRANSITIONS[a])]
)
def test_every_move_in_the_table_is_recorded(member, origin, target, cashier):
    ticket = _ticket(member, origin)

    ticket_move(ticket, target, by=cashier, note="why")

    ticket.refresh_from_db()
    assert ticket.state == target
    step = ticket.history.get()
    assert (step.from_state, step.to_state, step.by, step.note) == (origin, target, cashier, "why")


def test_final_states_are_final():
    assert TRANSITIONS[TicketState.COMPLETED] == frozenset()
    assert TRANSITIONS[TicketState.REJECTED] == frozenset()
    with pytest.raises(TicketTransitionInvalid):
        path_check(TicketState.RECEIVED, TicketState.COMPLETED)


@pytest.mark.parametrize(
    ("received", "due"),
    [
        (datetime(2026, 1, 15, 10, 0, tzinfo=BRUSSELS), date(2026, 2, 15)),
        (datetime(2026, 1, 31, 10, 0, tzinfo=BRUSSELS), date(2026, 2, 28)),
        (datetime(2028, 1, 31, 10, 0, tzinfo=BRUSSELS), date(2028, 2, 29)),
        (datetime(2026, 12, 31, 23, 30, tzinfo=BRUSSELS), date(2027, 1, 31)),
        # 23:30 UTC on 31 March is already 1 April in Brussels.
        (datetime(2026, 3, 31, 23, 30, tzinfo=ZoneInfo("UTC")), date(2026, 5, 1)),
    ],
)
def test_due_date_is_one_calendar_month_after_receipt_in_brussels(received, due):
    assert ticket_due_on(received) == due


def test_counter_ticket_carries_due_date_and_full_history(member, cashier, store, run_on_commit):
    with run_on_commit():
        ticket = erase_at_counter(member, store, cashier)

    ticket.refresh_from_db()
    assert ticket.due_on == ticket_due_on(ticket.received_at)
    assert ticket.state == TicketState.COMPLETED
    assert ticket.source == TicketSource.COUNTER
    assert ticket.verification == Verification.CREDENTIAL
    assert [(s.from_state, s.to_state) for s in ticket.history.all()] == [
        ("", "received"),
        ("received", "verified"),
        ("verified", "scheduled"),
        ("scheduled", "completed"),
    ]


def test_without_auto_approve_a_verified_ticket_waits_for_head_office(
    member, cashier, store, settings, run_on_commit
):
    settings.PRIVACY_ERASURE_AUTO_APPROVE = False
    with run_on_commit():
        ticket = erase_at_counter(member, store, cashier)
    assert ticket.state == TicketState.VERIFIED

    with run_on_commit():
        services.ticket_approve(ticket=ticket, by=cashier)

    ticket.refresh_from_db()
    assert ticket.state == TicketState.COMPLETED


@pytest.fixture
def waiting(member, cashier, store, settings):
    settings.PRIVACY_ERASURE_AUTO_APPROVE = False
    return erase_at_counter(member, store, cashier)


def test_extension_moves_the_due_date_records_the_reason_and_tells_the_customer(
    waiting, member, run_on_commit
):
    with run_on_commit():
        services.ticket_extend(ticket=waiting, months=2, reason="Backup restore needed")

    waiting.refresh_from_db()
    assert waiting.due_on == ticket_due_on(waiting.received_at, extra_months=2)
    assert waiting.extension_reason == "Backup restore needed"
    assert waiting.state == TicketState.VERIFIED
    step = waiting.history.last()
    assert step.from_state == step.to_state == TicketState.VERIFIED
    assert "Backup restore needed" in step.note
    [message] = mail.outbox
    assert message.to == [member.email]
    assert "Backup restore needed" in message.body


@pytest.mark.parametrize("months", [0, 3, -1, 1.5, True, "2"])
def test_extension_is_one_or_two_months(waiting, months):
    with pytest.raises(TicketExtensionInvalid):
        services.ticket_extend(ticket=waiting, months=months, reason="Because")


def test_extension_needs_a_reason(waiting):
    with pytest.raises(InvalidInput):
        services.ticket_extend(ticket=waiting, months=1, reason="   ")


def test_extension_happens_once(waiting):
    services.ticket_extend(ticket=waiting, months=1, reason="Because")
    with pytest.raises(TicketExtensionInvalid):
        services.ticket_extend(ticket=waiting, months=1, reason="Again")


def test_extension_only_within_the_first_month(waiting):
    PrivacyTicket.objects.filter(pk=waiting.pk).update(
        received_at=timezone.now() - timezone.timedelta(days=40)
    )
    waiting.refresh_from_db()
    with pytest.raises(TicketExtensionInvalid):
        services.ticket_extend(ticket=waiting, months=1, reason="Too late")


def test_a_closed_ticket_cannot_be_extended(waiting):
    services.ticket_reject(ticket=waiting, reason="Legal hold on the accounts")
    with pytest.raises(TicketTransitionInvalid):
        services.ticket_extend(ticket=waiting, months=1, reason="Because")


def test_rejection_keeps_the_reason_tells_the_customer_and_is_final(waiting, member, run_on_commit):
    with run_on_commit():
        services.ticket_reject(ticket=waiting, reason="Open fraud investigation")

    waiting.refresh_from_db()
    assert waiting.state == TicketState.REJECTED
    assert waiting.reject_reason == "Open fraud investigation"
    assert "Open fraud investigation" in mail.outbox[0].body
    with pytest.raises(TicketTransitionInvalid):
        services.ticket_approve(ticket=waiting)


def test_overdue_tickets_are_listed(waiting):
    from privacy.selectors import tickets_overdue

    assert list(tickets_overdue()) == []
    assert list(tickets_overdue(today=waiting.due_on + timezone.timedelta(days=1))) == [waiting]
