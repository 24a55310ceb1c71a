"""Requests opened at the counter: they run only once the member has confirmed them.

A cashier's word is not enough to erase or export someone (rule 9): a stolen login must not be
able to wipe or copy the members. The member confirms in one of three ways, and the ticket
records which:

- by presenting a credential only they hold, at the counter, in this visit (the app says so:
  loyalty passes "card" when a scan of the member's eID card recognised them just now);
- with a one-time code sent to the e-mail address on file, which the cashier types in;
- where neither is possible, head office checks and verifies (another person than the one who
  opened it: four eyes).
"""

from __future__ import annotations

import hmac
import logging
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import ConfirmationCodeInvalid, ConfirmationRequired, SubjectNotFound
from privacy.hashing import token_hash
from privacy.models import PrivacyTicket, TicketKind, TicketSource, TicketState, Verification
from privacy.outbox import ticket_task_put
from privacy.registry import registry
from privacy.services.tickets import _after_verification, _create, _lock, ticket_move
from stores.models import Store

logger = logging.getLogger(__name__)

S = TicketState
CODE_DIGITS = 6
CODE_ATTEMPTS = 5
RESEND_AFTER = timedelta(seconds=60)


def ticket_open_at_counter(
    *,
    kind: str,
    subject_key: str,
    store: Store,
    by: AbstractBaseUser,
    presented: str | None = None,
    language: str | None = None,
) -> PrivacyTicket:
    """Open an erasure or access request at the counter; it waits for the member's confirmation.

    With `presented` (the credential the member showed in this visit, e.g. "card") it is
    verified at once. Otherwise a code goes to the e-mail on file, or, without one, the ticket
    waits for head office. Returns the member's open ticket of this kind if there is one.
    """
    subject = registry.subject_get(subject_key)
    if subject is None:
        raise SubjectNotFound()
    if kind == TicketKind.ACCESS and not presented and not subject.email:
        # Nowhere to send it, and nobody to hand it to but the member who shows their card.
        raise ConfirmationRequired(
            _("The member can receive their data here after presenting their card.")
        )
    send_code = False
    with transaction.atomic():
        ticket, created = _create(
            kind=kind,
            source=TicketSource.COUNTER,
            subject=subject,
            language=language or store.language,
            store=store,
            by=by,
        )
        ticket = _lock(ticket)
        waiting = ticket.state in (S.RECEIVED, S.AWAITING_VERIFICATION)
        if waiting and presented:
            if ticket.state == S.AWAITING_VERIFICATION:
                ticket.code_hash = None
                ticket.save(update_fields=["code_hash"])
            ticket_move(ticket, S.VERIFIED, by=by, note=f"member presented: {presented}"[:60])
            _verified(ticket, Verification.CREDENTIAL)
            if kind != TicketKind.ACCESS:  # an export is handed over at the counter instead
                _after_verification(ticket, by=by)
        elif created and subject.email:
            ticket_move(ticket, S.AWAITING_VERIFICATION, by=by, note="code sent to e-mail on file")
            send_code = True
        elif ticket.state == S.AWAITING_VERIFICATION and subject.email:
            # Asked again: a fresh code once the last one is used up, expired or a minute old.
            send_code = _code_resend_due(ticket)
        elif created:
            ticket_move(ticket, S.AWAITING_VERIFICATION, by=by, note="awaits head office")
        if send_code:
            # Through the outbox: a broker outage delays the code, never loses it.
            ticket_task_put(task="privacy.tasks.ticket_code_send", ticket_id=ticket.pk)
    return ticket


def ticket_counter_awaits(ticket: PrivacyTicket) -> str:
    """Return what a counter request waits for: "email_code", "head_office" or "none".

    The same rule `ticket_open_at_counter` applies: a code when the member has an e-mail on
    file, head office (four eyes) otherwise.
    """
    if ticket.state not in (S.RECEIVED, S.AWAITING_VERIFICATION):
        return "none"
    subject = registry.subject_get(ticket.subject_key) if ticket.subject_key else None
    return "email_code" if subject is not None and subject.email else "head_office"


def _code_resend_due(ticket: PrivacyTicket) -> bool:
    now = timezone.now()
    if ticket.code_hash and ticket.code_expires_at is not None:
        if ticket.code_attempts >= CODE_ATTEMPTS or ticket.code_expires_at <= now:
            return True  # used up or expired: a new one at once
        lifetime = timedelta(minutes=settings.PRIVACY_CONFIRMATION_CODE_MINUTES)
        sent_at = ticket.code_expires_at - lifetime
    else:
        sent_at = ticket.received_at  # the first code is on its way
    return now - sent_at >= RESEND_AFTER


def ticket_code_issue(*, ticket_id: int) -> tuple[PrivacyTicket, str, str] | None:
    """Give a counter ticket a fresh confirmation code; return it with the address to send to.

    Only the code's hash is kept; a previous code stops working. None when nothing is to send.
    """
    with transaction.atomic():
        ticket = PrivacyTicket.objects.select_for_update().filter(pk=ticket_id).first()
        if (
            ticket is None
            or ticket.source != TicketSource.COUNTER
            or ticket.state != S.AWAITING_VERIFICATION
            or not ticket.subject_key
        ):
            return None
        subject = registry.subject_get(ticket.subject_key)
        if subject is None or not subject.email:
            return None
        code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
        ticket.code_hash = _code_hash(ticket, code)
        ticket.code_expires_at = timezone.now() + timedelta(
            minutes=settings.PRIVACY_CONFIRMATION_CODE_MINUTES
        )
        ticket.code_attempts = 0
        ticket.save(update_fields=["code_hash", "code_expires_at", "code_attempts"])
    return ticket, code, subject.email


def _code_hash(ticket: PrivacyTicket, code: str) -> str:
    # Bound to the ticket, so a code cannot confirm another request.
    return token_hash(f"counter-code:{ticket.pk}:{ticket.received_at.isoformat()}:{code}")


def ticket_code_confirm(*, ticket: PrivacyTicket, code: str, by: AbstractBaseUser) -> PrivacyTicket:
    """Verify a counter ticket with the code the member received; raise if it is not theirs.

    After five wrong codes the code stops working (a new request sends a new one).
    """
    code = "".join(str(code or "").split())
    with transaction.atomic():
        ticket = _lock(ticket)
        usable = (
            ticket.source == TicketSource.COUNTER
            and ticket.state == S.AWAITING_VERIFICATION
            and ticket.code_hash
            and ticket.code_expires_at
            and ticket.code_expires_at > timezone.now()
            and ticket.code_attempts < CODE_ATTEMPTS
        )
        if not usable:
            raise ConfirmationCodeInvalid()
        if not (code.isascii() and code.isdigit()) or not hmac.compare_digest(
            ticket.code_hash, _code_hash(ticket, code)
        ):
            ticket.code_attempts += 1
            ticket.save(update_fields=["code_attempts"])
            ok = False
        else:
            ticket.code_hash = None
            ticket.save(update_fields=["code_hash"])
            ticket_move(ticket, S.VERIFIED, by=by, note="member confirmed with the e-mailed code")
            _verified(ticket, Verification.EMAIL_CODE)
            _after_verification(ticket, by=by)
            ok = True
    if not ok:
        raise ConfirmationCodeInvalid()
    return ticket


def _verified(ticket: PrivacyTicket, how: str) -> None:
    ticket.verification = how
    ticket.save(update_fields=["verification"])
