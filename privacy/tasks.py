"""Celery entry points of the privacy app. They take ids, look rows up, call one service.

Each is safe to run twice: a finished ticket is left alone, an erasure resumes where it
stopped. The ticket tasks come from the outbox (`privacy.outbox`): each deletes its outbox
row when it finishes (`outbox_id`), and `ticket_tasks_sweep` sends again the rows that did
not. Queued work holds ticket ids only, never personal data, so purging a member's data needs
nothing taken out of the queue: a task for an erased subject finds nothing to do.
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings

from privacy import outbox, services
from privacy.models import PrivacyTicket, TicketState, TicketTask
from privacy.outbox import ticket_task_done
from privacy.registry import registry

logger = logging.getLogger(__name__)


@shared_task(name="privacy.tasks.erasure_run")
def erasure_run(ticket_id: int, outbox_id: int | None = None) -> str | None:
    """Erase the subject of a scheduled erasure ticket; return the ticket's state."""
    ticket = services.erasure_execute(ticket_id=ticket_id)
    ticket_task_done(outbox_id)
    return ticket.state if ticket else None


@shared_task(name="privacy.tasks.erasure_run_batch")
def erasure_run_batch(ticket_ids: list[int], outbox_ids: list[int] | None = None) -> int:
    """Erase the subjects of a batch of scheduled erasure tickets; return how many completed."""
    tickets = services.erasure_execute_batch(ticket_ids=ticket_ids)
    if outbox_ids:
        TicketTask.objects.filter(pk__in=outbox_ids).delete()
    return sum(t.state == TicketState.COMPLETED for t in tickets)


@shared_task(name="privacy.tasks.access_run")
def access_run(ticket_id: int, outbox_id: int | None = None) -> str | None:
    """Send a scheduled access ticket's export; return the ticket's state."""
    ticket = services.access_execute(ticket_id=ticket_id)
    ticket_task_done(outbox_id)
    return ticket.state if ticket else None


@shared_task(name="privacy.tasks.withdrawal_run")
def withdrawal_run(ticket_id: int, outbox_id: int | None = None) -> str | None:
    """Withdraw the consent a scheduled withdrawal ticket asks for; return the ticket's state."""
    ticket = services.withdrawal_execute(ticket_id=ticket_id)
    ticket_task_done(outbox_id)
    return ticket.state if ticket else None


@shared_task(name="privacy.tasks.public_request_take")
def public_request_take(outbox_id: int | None = None) -> bool:
    """Find who a public request is from and mail them its link (after the form answered)."""
    payload = outbox.task_payload(outbox_id)
    if payload is None:
        return False
    ticket = services.ticket_request_take(**payload)
    ticket_task_done(outbox_id)
    return ticket is not None


@shared_task(name="privacy.tasks.ticket_link_send")
def ticket_link_send(ticket_id: int, outbox_id: int | None = None) -> bool:
    """Mail a fresh confirmation link for an unverified ticket; return whether one went out."""
    from privacy.mail import mail_send, site_url

    issued = services.ticket_link_issue(ticket_id=ticket_id)
    if issued is None:
        ticket_task_done(outbox_id)
        return False
    ticket, token, subject = issued
    mail_send(
        to=subject.email,
        language=ticket.language,
        template=f"confirm_{ticket.kind}",
        context={
            "link": site_url("privacy:confirm", language=ticket.language, token=token),
            "ticket": ticket,
            "hours": settings.PRIVACY_LINK_EXPIRY_HOURS,
        },
    )
    logger.info("privacy ticket %s: confirmation link sent", ticket.pk)
    ticket_task_done(outbox_id)
    return True


@shared_task(name="privacy.tasks.ticket_code_send")
def ticket_code_send(ticket_id: int, outbox_id: int | None = None) -> bool:
    """Mail a fresh confirmation code for a counter request; return whether one went out."""
    from privacy.mail import mail_send

    issued = services.ticket_code_issue(ticket_id=ticket_id)
    if issued is None:
        ticket_task_done(outbox_id)
        return False
    ticket, code, email = issued
    mail_send(
        to=email,
        language=ticket.language,
        template="confirm_code",
        context={
            "code": code,
            "ticket": ticket,
            "minutes": settings.PRIVACY_CONFIRMATION_CODE_MINUTES,
        },
    )
    logger.info("privacy ticket %s: confirmation code sent", ticket.pk)
    ticket_task_done(outbox_id)
    return True


def _completed_mail(kind: str) -> str | None:
    """Return the mail that tells a request is done: withdrawals only (erasure leaves no
    address; access sends the data)."""
    return f"completed_{kind}" if kind in registry.withdrawal_kinds else None


@shared_task(name="privacy.tasks.ticket_notify")
def ticket_notify(ticket_id: int, event: str, outbox_id: int | None = None) -> bool:
    """Tell the customer their deadline was extended, their request refused or done, if we can."""
    told = _notify(ticket_id, event)
    ticket_task_done(outbox_id)
    return told


def _notify(ticket_id: int, event: str) -> bool:
    from privacy.mail import mail_send
    from privacy.selectors import withdrawal_found_nothing

    ticket = PrivacyTicket.objects.filter(pk=ticket_id).first()
    if (
        ticket is None
        or not ticket.subject_key
        or event not in ("extended", "rejected", "completed")
    ):
        return False
    if event == "rejected" and ticket.state != TicketState.REJECTED:
        return False
    if event == "completed" and (
        ticket.state != TicketState.COMPLETED or _completed_mail(ticket.kind) is None
    ):
        return False
    subject = registry.subject_get(ticket.subject_key)
    if subject is None or not subject.email:
        return False
    context = {"ticket": ticket}
    if event == "completed" and ticket.kind in registry.withdrawal_kinds:
        context["nothing_to_withdraw"] = withdrawal_found_nothing(ticket)
    mail_send(
        to=subject.email,
        language=ticket.language,
        template=_completed_mail(ticket.kind) if event == "completed" else event,
        context=context,
    )
    logger.info("privacy ticket %s: customer told (%s)", ticket.pk, event)
    return True


@shared_task(name="privacy.tasks.retention_run")
def retention_run() -> int:
    """Open and run an erasure ticket for each subject inactive past the retention period."""
    return len(services.retention_open_tickets())


@shared_task(name="privacy.tasks.consent_receipt_send")
def consent_receipt_send(subject_key: str, outbox_id: int | None = None) -> bool:
    """Mail a subject their consent receipt; return whether one went out."""
    from privacy.receipts import consent_receipt_mail_send

    sent = consent_receipt_mail_send(subject_key=subject_key)
    if sent:
        logger.info("consent receipt sent")
    ticket_task_done(outbox_id)
    return sent


@shared_task(name="privacy.tasks.ticket_tasks_sweep")
def ticket_tasks_sweep() -> int:
    """Send again the ticket work a broker outage, a dead worker or a mail server left undone."""
    return outbox.ticket_tasks_sweep()


@shared_task(name="privacy.tasks.tickets_drop_unverified")
def tickets_drop_unverified() -> int:
    """Delete requests nobody verified within the set period."""
    return services.tickets_drop_unverified()
