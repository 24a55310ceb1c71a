"""Running an erasure, and the retention job that opens erasures for inactive subjects.

`erasure_execute` runs every registered eraser and completes the ticket in one transaction,
with the ticket row locked. A worker that dies half way leaves nothing half done: the database
rolls the transaction back, and the redelivered task (acks_late) does it all again. Erasers
that reach outside the database (the cache) must therefore be idempotent, and all of them are
(a second call finds nothing and counts 0). Privacy's own erasers bracket the apps': caches
first (they need the subject's identifiers, which the apps then delete), consent records and
other tickets last.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable
from datetime import datetime

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from privacy.models import (
    OPEN_STATES,
    ConsentRecord,
    PrivacyTicket,
    RetentionRun,
    TicketKind,
    TicketSource,
    TicketState,
    TicketTask,
    TicketTransition,
)
from privacy.ratelimit import ratelimit_count, ratelimit_purge
from privacy.registry import registry
from privacy.services.erasure_log import erasure_log_record
from privacy.services.erasure_preview import erasure_rescan
from privacy.services.tickets import path_check, ticket_due_on, ticket_move, ticket_run_on_commit
from stores.models import Language

logger = logging.getLogger(__name__)

RETENTION_BATCH = 500


def erasure_execute(*, ticket_id: int) -> PrivacyTicket | None:
    """Erase the subject of a scheduled erasure ticket in every registered app; complete it.

    Returns the ticket, or None if it does not exist. Does nothing to a ticket that is not
    scheduled (already completed, or rejected meanwhile), so running it twice is harmless.
    """
    with transaction.atomic():
        ticket = (
            PrivacyTicket.objects.select_for_update()
            .filter(pk=ticket_id, kind=TicketKind.ERASURE)
            .first()
        )
        if ticket is None or ticket.state != TicketState.SCHEDULED:
            return ticket
        counts: Counter[str] = Counter()
        steps = []
        for eraser in registry.erasers_in_order():
            erased = eraser.erase(ticket.subject_key) if ticket.subject_key else {}
            counts.update({f"{eraser.name}.{kind}": n for kind, n in erased.items()})
            steps.append(eraser.name)
        now = timezone.now()
        rescan = erasure_rescan(subject_key=ticket.subject_key) if ticket.subject_key else {}
        if ticket.subject_key:
            # Before the key goes: a restored backup gets this erasure re-applied (rule 9b).
            erasure_log_record(subject_key=ticket.subject_key, ticket_id=ticket.pk, at=now)
        ticket_move(ticket, TicketState.COMPLETED, note="erased", at=now)
        ticket.completed_at = now
        ticket.subject_key = None
        # Its confirmation link and code are per-person keys too, with nothing left to confirm.
        ticket.token_hash = ticket.token_expires_at = None
        ticket.code_hash = ticket.code_expires_at = None
        ticket.result_counts = dict(sorted(counts.items()))
        ticket.steps_done = steps
        ticket.rescan_counts = dict(sorted(rescan.items()))
        ticket.save(
            update_fields=[
                "completed_at",
                "subject_key",
                "token_hash",
                "token_expires_at",
                "code_hash",
                "code_expires_at",
                "result_counts",
                "steps_done",
                "rescan_counts",
            ]
        )
    logger.info("privacy ticket %s: erasure completed %s", ticket.pk, ticket.result_counts)
    return ticket


# Privacy's own erasers.
def _erase_cached(subject_key: str) -> dict[str, int]:
    subject = registry.subject_get(subject_key)
    return {"rate_limit_counters": ratelimit_purge(subject.identifiers if subject else ())}


def _pseudonymise_consent(subject_key: str) -> dict[str, int]:
    """Clear the clear-text subject key; the chain covers only its keyed digest."""
    own = ConsentRecord.objects.filter(subject_key=subject_key)
    # Records given under a provisional key (an armed scan) and carried over to this subject.
    provisional = ConsentRecord.objects.filter(
        pk__in=own.exclude(refers_to=None).values("refers_to_id"), subject_key__isnull=False
    )
    count = provisional.update(subject_key=None)
    count += own.update(subject_key=None)
    return {"consent_records_pseudonymised": count}


def _unlink_tickets(subject_key: str) -> dict[str, int]:
    """Take the subject key and any live link or code off the subject's other tickets, and
    drop the outbox work queued for the subject (a consent receipt's mail)."""
    # The open erasure is the one running (or previewed): it completes with its own proof.
    others = PrivacyTicket.objects.filter(subject_key=subject_key).exclude(
        kind=TicketKind.ERASURE, state__in=OPEN_STATES
    )
    count = others.update(
        subject_key=None,
        token_hash=None,
        token_expires_at=None,
        code_hash=None,
        code_expires_at=None,
    )
    # Work of no ticket waiting in the outbox for this subject (a consent receipt's mail).
    dropped, _ = TicketTask.objects.filter(ticket=None, args__0=subject_key).delete()
    return {"tickets_unlinked": count, "outbox_rows_dropped": dropped}


def _count_cached(subject_key: str) -> dict[str, int]:
    subject = registry.subject_get(subject_key)
    return {"rate_limit_counters": ratelimit_count(subject.identifiers if subject else ())}


registry.register_eraser(
    "privacy.cache",
    _erase_cached,
    order=10,
    preview=_count_cached,
    labels={"rate_limit_counters": _("request counters in the cache")},
)
registry.register_eraser(
    "privacy.consent",
    _pseudonymise_consent,
    order=900,
    covers=("privacy.ConsentRecord",),
    keeps=("consent_records_pseudonymised",),
    labels={"consent_records_pseudonymised": _("consent records, without the person's key")},
)
registry.register_eraser(
    "privacy.tickets",
    _unlink_tickets,
    order=910,
    covers=("privacy.PrivacyTicket", "privacy.TicketTransition", "privacy.TicketTask"),
    keeps=("tickets_unlinked",),
    labels={
        "tickets_unlinked": _("other requests, without the person's key"),
        "outbox_rows_dropped": _("mails still waiting to be sent to the person"),
    },
)


def retention_cutoff(*, now: datetime) -> datetime:
    """Return the moment before which a subject's last activity makes them due for erasure."""
    return now - relativedelta(months=settings.PRIVACY_RETENTION_MONTHS)


def retention_subjects(*, now: datetime | None = None) -> list[str]:
    """Return the keys of subjects inactive for the retention period, without an open erasure."""
    cutoff = retention_cutoff(now=now or timezone.now())
    keys: list[str] = []
    for source in registry.retention_sources.values():
        keys.extend(source(cutoff))
    open_keys = set(
        PrivacyTicket.objects.filter(
            kind=TicketKind.ERASURE, state__in=OPEN_STATES, subject_key__isnull=False
        ).values_list("subject_key", flat=True)
    )
    return [key for key in dict.fromkeys(keys) if key not in open_keys]


def retention_open_tickets(*, now: datetime | None = None) -> list[int]:
    """Open a scheduled system erasure ticket for each inactive subject; return their ids.

    Tickets go received -> verified -> scheduled (checked against the transition table) and
    each is sent to the erasure task once its batch commits. Every run that gets to the end
    records itself (a `RetentionRun`), also one that opens nothing; its tickets are received
    at the run's start.
    """
    path = (TicketState.RECEIVED, TicketState.VERIFIED, TicketState.SCHEDULED)
    path_check(*path)
    now = now or timezone.now()
    cutoff = retention_cutoff(now=now)
    ticket_ids: list[int] = []
    for batch in _batched(retention_subjects(now=now), RETENTION_BATCH):
        with transaction.atomic():
            tickets = PrivacyTicket.objects.bulk_create(
                PrivacyTicket(
                    kind=TicketKind.ERASURE,
                    state=TicketState.SCHEDULED,
                    source=TicketSource.RETENTION,
                    subject_key=key,
                    language=Language.NL,
                    received_at=now,
                    due_on=ticket_due_on(now),
                )
                for key in batch
            )
            if any(t.pk is None for t in tickets):  # backends that do not return ids
                tickets = list(
                    PrivacyTicket.objects.filter(
                        source=TicketSource.RETENTION,
                        state=TicketState.SCHEDULED,
                        subject_key__in=batch,
                    )
                )
            TicketTransition.objects.bulk_create(
                TicketTransition(
                    ticket=ticket,
                    from_state=before,
                    to_state=after,
                    at=now,
                    note="retention period ended" if after == TicketState.RECEIVED else "",
                )
                for ticket in tickets
                for before, after in zip(("", *path), path, strict=False)
            )
            for ticket in tickets:
                ticket_run_on_commit(ticket)
        ticket_ids.extend(t.pk for t in tickets)
    RetentionRun.objects.create(
        started_at=now, finished_at=timezone.now(), cutoff=cutoff, tickets_opened=len(ticket_ids)
    )
    logger.info("privacy retention: %s erasure ticket(s) opened", len(ticket_ids))
    return ticket_ids


def _batched(items: Iterable[str], size: int) -> Iterable[list[str]]:
    batch: list[str] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
