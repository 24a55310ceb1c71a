"""Erasure, access and withdrawal tickets: opening, verifying, scheduling, extending, rejecting.

Every change of state goes through `ticket_move`, which checks the one transition table below.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from itertools import pairwise

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.errors import (
    FourEyesRequired,
    InvalidInput,
    LinkInvalid,
    RateLimited,
    SubjectNotFound,
    TicketExtensionInvalid,
    TicketTransitionInvalid,
)
from privacy.hashing import identifier_normalise, requester_digest, token_hash, token_new
from privacy.models import (
    OPEN_STATES,
    PrivacyTicket,
    TicketKind,
    TicketSource,
    TicketState,
    TicketTask,
    TicketTransition,
    Verification,
)
from privacy.outbox import task_put_sealed, ticket_run_put, ticket_task_put
from privacy.ratelimit import ratelimit_hit
from privacy.registry import Subject, registry
from privacy.selectors import ticket_open_find
from stores.models import CustomerLanguage, Store

logger = logging.getLogger(__name__)

S = TicketState

# The whole state machine. A ticket moves only along these arrows.
TRANSITIONS: dict[str, frozenset[str]] = {
    S.RECEIVED: frozenset({S.AWAITING_VERIFICATION, S.VERIFIED, S.REJECTED}),
    S.AWAITING_VERIFICATION: frozenset({S.VERIFIED, S.REJECTED}),
    S.VERIFIED: frozenset({S.SCHEDULED, S.REJECTED}),
    S.SCHEDULED: frozenset({S.COMPLETED, S.REJECTED}),
    S.COMPLETED: frozenset(),
    S.REJECTED: frozenset(),
}

MAX_EXTENSION_MONTHS = 2
REASON_MAX = 500
RESEND_AFTER = timedelta(seconds=60)


def _user(user: AbstractBaseUser | None) -> AbstractBaseUser | None:
    return user if user is not None and user.is_authenticated else None


def ticket_due_on(received_at: datetime, *, extra_months: int = 0) -> date:
    """Return the legal due date: one calendar month after receipt, plus any extension."""
    return timezone.localdate(received_at) + relativedelta(months=1 + extra_months)


def ticket_move(
    ticket: PrivacyTicket,
    to: str,
    *,
    by: AbstractBaseUser | None = None,
    note: str = "",
    at: datetime | None = None,
) -> PrivacyTicket:
    """Move a (locked) ticket to `to` if the table allows it, and record the step."""
    if to not in TRANSITIONS[ticket.state]:
        raise TicketTransitionInvalid(details={"from": ticket.state, "to": to})
    at = at or timezone.now()
    TicketTransition.objects.create(
        ticket=ticket, from_state=ticket.state, to_state=to, at=at, by=_user(by), note=note[:500]
    )
    ticket.state = to
    ticket.save(update_fields=["state"])
    return ticket


def path_check(*states: str) -> None:
    """Raise unless the table allows moving through these states in this order."""
    for current, following in pairwise(states):
        if following not in TRANSITIONS[current]:
            raise TicketTransitionInvalid(details={"from": current, "to": following})


def _reason_clean(reason: str) -> str:
    """Return the reason given for a refusal or an extension on one line, or raise."""
    reason = " ".join((reason or "").split())
    if not reason or len(reason) > REASON_MAX:
        raise InvalidInput(details={"reason": ["Give the reason (up to 500 characters)."]})
    return reason


def _lock(ticket: PrivacyTicket) -> PrivacyTicket:
    return PrivacyTicket.objects.select_for_update().get(pk=ticket.pk)


def _create(
    *,
    kind: str,
    source: str,
    subject: Subject,
    language: str,
    store: Store | None = None,
    by: AbstractBaseUser | None = None,
) -> tuple[PrivacyTicket, bool]:
    """Open a ticket in `received`, or return the subject's open one of the same kind."""
    existing = ticket_open_find(kind=kind, subject_key=subject.key)
    if existing is not None:
        return existing, False
    now = timezone.now()
    try:
        with transaction.atomic():
            ticket = PrivacyTicket.objects.create(
                kind=kind,
                state=S.RECEIVED,
                source=source,
                subject_key=subject.key,
                requester_digest=(
                    requester_digest(subject.identifiers[0]) if subject.identifiers else ""
                ),
                language=language if language in CustomerLanguage.values else CustomerLanguage.NL,
                store=store,
                opened_by=_user(by),
                received_at=now,
                due_on=ticket_due_on(now),
            )
            TicketTransition.objects.create(
                ticket=ticket, from_state="", to_state=S.RECEIVED, at=now, by=_user(by)
            )
    except IntegrityError:
        # A concurrent double submission opened it first.
        existing = ticket_open_find(kind=kind, subject_key=subject.key)
        if existing is None:
            raise
        return existing, False
    logger.info("privacy ticket %s opened: %s via %s", ticket.pk, kind, source)
    return ticket, True


def _public_request_admit(*, kind: str, identifier: str, client_ip: str) -> str:
    """Check a public request and count it against the rate limits; return the identifier.

    Raises RateLimited, counted per client address and per identifier, before any look-up,
    so the limit itself tells nothing either.
    """
    if kind not in registry.ticket_kinds:
        raise InvalidInput()
    normalised = identifier_normalise(identifier)
    if normalised is None:
        raise InvalidInput(details={"identifier": ["Give an e-mail address or member number."]})
    ip_ok = ratelimit_hit(
        scope="ip", value=client_ip or "unknown", limit=settings.PRIVACY_RATE_LIMIT_PER_IP
    )
    ident_ok = ratelimit_hit(
        scope="identifier", value=normalised, limit=settings.PRIVACY_RATE_LIMIT_PER_IDENTIFIER
    )
    if not (ip_ok and ident_ok):
        logger.warning("privacy request refused: rate limit (%s)", "ip" if not ip_ok else "id")
        raise RateLimited()
    return normalised


def ticket_request_queue(*, kind: str, identifier: str, language: str, client_ip: str) -> None:
    """Take a request from the public form without finding out who made it.

    No look-up happens here: who is behind the identifier, and the mail to them, are a task's
    work (`ticket_request_take`, through the outbox), so the form answers in the same time for
    a member and a stranger. Raises RateLimited like `ticket_request_public`.
    """
    normalised = _public_request_admit(kind=kind, identifier=identifier, client_ip=client_ip)
    with transaction.atomic():
        task_put_sealed(
            task="privacy.tasks.public_request_take",
            payload={"kind": kind, "identifier": normalised, "language": language},
        )


def ticket_request_public(
    *, kind: str, identifier: str, language: str, client_ip: str
) -> PrivacyTicket | None:
    """Take an erasure, access or consent withdrawal request from the public form, at once.

    The public form itself uses `ticket_request_queue`, which does this in a task. The caller
    answers the same whatever this returns: whether the person is a member is never told.
    Raises RateLimited before any look-up.
    """
    normalised = _public_request_admit(kind=kind, identifier=identifier, client_ip=client_ip)
    return ticket_request_take(kind=kind, identifier=normalised, language=language)


def ticket_request_take(*, kind: str, identifier: str, language: str) -> PrivacyTicket | None:
    """Open the ticket a public request asks for, if the identifier is someone's.

    A member with an e-mail on file gets a single-use confirmation link there; anyone else,
    nothing. Idempotent: a second run finds the open ticket and sends no second mail within
    a minute.
    """
    normalised = identifier_normalise(identifier)
    if kind not in registry.ticket_kinds or normalised is None:
        raise InvalidInput()
    subject = registry.subject_find(normalised)
    if subject is None or not subject.email:
        logger.info("privacy request taken: %s (no action)", kind)
        return None
    with transaction.atomic():
        ticket, created = _create(
            kind=kind, source=TicketSource.PUBLIC_FORM, subject=subject, language=language
        )
        ticket = _lock(ticket)
        if created:
            ticket_move(ticket, S.AWAITING_VERIFICATION, note="confirmation link sent")
        if ticket.state != S.AWAITING_VERIFICATION:
            return ticket
        now = timezone.now()
        recently = ticket.token_sent_at and now - ticket.token_sent_at < RESEND_AFTER
        if created or not recently:
            # Noted now, not when the mail goes out, so a double click queues one mail.
            ticket.token_sent_at = now
            ticket.save(update_fields=["token_sent_at"])
            _send_link_on_commit(ticket.pk)
    logger.info("privacy request taken: %s (ticket %s)", kind, ticket.pk)
    return ticket


def _send_link_on_commit(ticket_id: int) -> None:
    ticket_task_put(task="privacy.tasks.ticket_link_send", ticket_id=ticket_id)


def ticket_link_issue(*, ticket_id: int) -> tuple[PrivacyTicket, str, Subject] | None:
    """Give an unverified ticket a fresh link token; return it with the subject to write to.

    The previous token, if any, stops working. Returns None when there is nothing to send.
    """
    with transaction.atomic():
        ticket = PrivacyTicket.objects.select_for_update().filter(pk=ticket_id).first()
        if ticket is None or ticket.state != S.AWAITING_VERIFICATION or not ticket.subject_key:
            return None
        subject = registry.subject_get(ticket.subject_key)
        if subject is None or not subject.email:
            return None
        token, hashed = token_new()
        now = timezone.now()
        ticket.token_hash = hashed
        ticket.token_sent_at = now
        ticket.token_expires_at = now + timedelta(hours=settings.PRIVACY_LINK_EXPIRY_HOURS)
        ticket.save(update_fields=["token_hash", "token_sent_at", "token_expires_at"])
    return ticket, token, subject


def _ticket_by_token(token: str, *, lock: bool) -> PrivacyTicket:
    if not isinstance(token, str) or not 20 <= len(token) <= 100 or not token.isascii():
        raise LinkInvalid()
    tickets = PrivacyTicket.objects.all()
    if lock:
        tickets = tickets.select_for_update()
    ticket = tickets.filter(token_hash=token_hash(token)).first()
    if (
        ticket is None
        or ticket.state != S.AWAITING_VERIFICATION
        or ticket.token_expires_at is None
        or ticket.token_expires_at <= timezone.now()
    ):
        raise LinkInvalid()
    return ticket


def ticket_link_check(*, token: str) -> PrivacyTicket:
    """Return the ticket a confirmation link belongs to without using it, or raise LinkInvalid."""
    return _ticket_by_token(token, lock=False)


@transaction.atomic
def ticket_link_confirm(*, token: str) -> PrivacyTicket:
    """Verify the request a confirmation link belongs to; the link works once."""
    ticket = _ticket_by_token(token, lock=True)
    ticket.token_hash = None
    ticket.token_expires_at = None
    ticket.verification = Verification.EMAIL_LINK
    ticket.save(update_fields=["token_hash", "token_expires_at", "verification"])
    ticket_move(ticket, S.VERIFIED, note="confirmed by the link sent to the address on file")
    _after_verification(ticket)
    return ticket


@transaction.atomic
def ticket_verify(*, ticket: PrivacyTicket, by: AbstractBaseUser, note: str = "") -> PrivacyTicket:
    """Mark a request verified by staff who checked the requester another way.

    The confirmation link, if one is out, stops working; approval follows as after a link.
    """
    ticket = _lock(ticket)
    counter = ticket.source == TicketSource.COUNTER
    if (
        counter
        and ticket.opened_by_id is not None
        and ticket.opened_by_id == getattr(by, "pk", None)
    ):
        # Four eyes: whoever opened a counter request cannot also vouch for the member.
        raise FourEyesRequired()
    note = " ".join((note or "").split())[:400]
    ticket_move(ticket, S.VERIFIED, by=by, note=f"verified by staff: {note}".strip(": "))
    ticket.token_hash = None
    ticket.token_expires_at = None
    ticket.code_hash = None
    ticket.verification = Verification.HEAD_OFFICE if counter else Verification.STAFF_CHECK
    ticket.save(update_fields=["token_hash", "token_expires_at", "code_hash", "verification"])
    _after_verification(ticket, by=by)
    return ticket


def _after_verification(ticket: PrivacyTicket, *, by: AbstractBaseUser | None = None) -> None:
    # Access is the customer's own data back to them, and withdrawing consent must be as easy
    # as giving it (Art. 7(3)): nothing to approve. Erasure waits for head office unless the
    # deployment schedules it at once.
    if (
        ticket.kind == TicketKind.ACCESS
        or ticket.kind in registry.withdrawal_kinds
        or settings.PRIVACY_ERASURE_AUTO_APPROVE
    ):
        ticket_approve(ticket=ticket, by=by)


def ticket_open_for_subject(
    *,
    kind: str,
    subject_key: str,
    source: str,
    store: Store | None = None,
    by: AbstractBaseUser | None = None,
    language: str | None = None,
    approve: bool | None = None,
    verification: str = Verification.AUTOMATIC,
) -> PrivacyTicket:
    """Open a ticket already verified: on withdrawal, by retention, by a signed-in subject.

    Returns the subject's open ticket of that kind instead when there is one. Schedules the
    work at once when `approve` is true (default: the deployment's auto-approve setting, and
    always for access). `verification` says how the subject was known to be who they are
    (a sign-in by a link to their address: EMAIL_LINK).
    """
    if source == TicketSource.COUNTER:
        # Counter requests wait for the member's confirmation: privacy.services.counter.
        raise ValueError("open counter requests with ticket_open_at_counter")
    subject = registry.subject_get(subject_key)
    if subject is None:
        raise SubjectNotFound()
    with transaction.atomic():
        ticket, created = _create(
            kind=kind,
            source=source,
            subject=subject,
            language=language or (store.language if store else subject.language),
            store=store,
            by=by,
        )
        ticket = _lock(ticket)
        if created:
            ticket_move(ticket, S.VERIFIED, by=by, note=source)
            ticket.verification = verification
            ticket.save(update_fields=["verification"])
            if approve is None:
                _after_verification(ticket, by=by)
            elif approve:
                ticket_approve(ticket=ticket, by=by)
    return ticket


@transaction.atomic
def ticket_approve(*, ticket: PrivacyTicket, by: AbstractBaseUser | None = None) -> PrivacyTicket:
    """Schedule a verified ticket's work (erasure, export, withdrawal); list who must be told."""
    ticket = _lock(ticket)
    erasure = ticket.kind == TicketKind.ERASURE and ticket.subject_key
    recipients = registry.recipients_of(ticket.subject_key) if erasure else []
    ticket_move(ticket, S.SCHEDULED, by=by, note="approved")
    ticket.recipients = recipients
    ticket.approved_by = _user(by)
    ticket.save(update_fields=["recipients", "approved_by"])
    ticket_run_on_commit(ticket)
    return ticket


def ticket_run_on_commit(ticket: PrivacyTicket) -> None:
    """Queue a scheduled ticket's work through the outbox: sent once the transaction commits."""
    ticket_run_put(ticket)


@transaction.atomic
def ticket_reject(
    *, ticket: PrivacyTicket, reason: str, by: AbstractBaseUser | None = None
) -> PrivacyTicket:
    """Refuse a request, with the reason (told to the customer where an address is on file)."""
    reason = _reason_clean(reason)
    ticket = _lock(ticket)
    ticket_move(ticket, S.REJECTED, by=by, note=reason)
    ticket.reject_reason = reason
    ticket.token_hash = None
    ticket.token_expires_at = None
    ticket.save(update_fields=["reject_reason", "token_hash", "token_expires_at"])
    _notify_on_commit(ticket.pk, "rejected")
    return ticket


@transaction.atomic
def ticket_extend(
    *,
    ticket: PrivacyTicket,
    months: int,
    reason: str,
    by: AbstractBaseUser | None = None,
) -> PrivacyTicket:
    """Extend the deadline by one or two months, once, before it passes; tell the customer."""
    reason = _reason_clean(reason)
    ticket = _lock(ticket)
    if ticket.state not in OPEN_STATES:
        raise TicketTransitionInvalid(details={"from": ticket.state, "to": "extended"})
    if (
        isinstance(months, bool)
        or not isinstance(months, int)
        or not 1 <= months <= MAX_EXTENSION_MONTHS
        or ticket.extended_at is not None
        or timezone.localdate() > ticket_due_on(ticket.received_at)
    ):
        raise TicketExtensionInvalid()
    now = timezone.now()
    ticket.due_on = ticket_due_on(ticket.received_at, extra_months=months)
    ticket.extended_at = now
    ticket.extension_reason = reason
    ticket.save(update_fields=["due_on", "extended_at", "extension_reason"])
    TicketTransition.objects.create(
        ticket=ticket,
        from_state=ticket.state,
        to_state=ticket.state,
        at=now,
        by=_user(by),
        note=f"deadline extended by {months} month(s) to {ticket.due_on.isoformat()}: {reason}"[
            :500
        ],
    )
    _notify_on_commit(ticket.pk, "extended")
    return ticket


def _notify_on_commit(ticket_id: int, event: str) -> None:
    ticket_task_put(task="privacy.tasks.ticket_notify", ticket_id=ticket_id, args=(event,))


def tickets_drop_unverified(*, now: datetime | None = None) -> int:
    """Delete requests never verified within the set period; nothing of them is kept."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.PRIVACY_UNVERIFIED_DROP_DAYS)
    stale = PrivacyTicket.objects.filter(
        state__in=[S.RECEIVED, S.AWAITING_VERIFICATION], received_at__lt=cutoff
    ).exclude(source__in=[TicketSource.COUNTER, TicketSource.WITHDRAWAL, TicketSource.RETENTION])
    ids = list(stale.values_list("pk", flat=True))
    _, per_model = PrivacyTicket.objects.filter(pk__in=ids).delete()
    count = per_model.get(PrivacyTicket._meta.label, 0)
    # A sealed request no worker could finish in that time (a mail server down for days)
    # goes too: the address typed is not kept waiting for ever.
    TicketTask.objects.filter(ticket__isnull=True, created_at__lt=cutoff).exclude(
        sealed=""
    ).delete()
    if count:
        logger.info("privacy: dropped %s unverified request(s)", count)
    return count
