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

import json
import logging
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import datetime

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db import transaction
from django.db.models import Count, F
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
from privacy.outbox import erasure_batch_put
from privacy.ratelimit import ratelimit_count_many, ratelimit_purge_many
from privacy.registry import registry
from privacy.services.erasure_log import erasure_log_record_many
from privacy.services.erasure_preview import erasure_rescan_many
from privacy.services.tickets import path_check, ticket_due_on
from stores.models import CustomerLanguage

logger = logging.getLogger(__name__)


def erasure_execute(*, ticket_id: int) -> PrivacyTicket | None:
    """Erase the subject of a scheduled erasure ticket in every registered app; complete it.

    Returns the ticket, or None if it does not exist. Does nothing to a ticket that is not
    scheduled (already completed, or rejected meanwhile), so running it twice is harmless.
    A batch of one (`erasure_execute_batch`): one way to erase, whatever the number.
    """
    tickets, done = _erasure_complete([ticket_id])
    for ticket in done:
        logger.info("privacy ticket %s: erasure completed %s", ticket.pk, ticket.result_counts)
    return tickets[0] if tickets else None


def erasure_execute_batch(*, ticket_ids: Iterable[int]) -> list[PrivacyTicket]:
    """Erase the subjects of these scheduled erasure tickets together, in one transaction.

    Every registered eraser is given the whole batch (`Eraser.erase_batch`: a few set-based
    statements instead of a few per subject); each ticket still gets its own proof (what was
    erased for its subject, the steps), its erasure-log line and its step to completed, as
    `erasure_execute` gives it. An eraser that fails rolls the whole batch back: every ticket
    stays scheduled, its outbox row waiting, and the batch or each ticket alone runs again.
    Tickets not scheduled any more (done meanwhile, rejected) are left alone.
    """
    tickets, done = _erasure_complete(ticket_ids)
    logger.info("privacy: %s erasure ticket(s) completed in one batch", len(done))
    return tickets


def _erasure_complete(
    ticket_ids: Iterable[int],
) -> tuple[list[PrivacyTicket], list[PrivacyTicket]]:
    """Erase and complete the scheduled ones of these tickets; return all of them, and those."""
    with transaction.atomic():
        tickets = list(
            PrivacyTicket.objects.select_for_update()
            .filter(pk__in=list(ticket_ids), kind=TicketKind.ERASURE)
            .order_by("pk")
        )
        due = [t for t in tickets if t.state == TicketState.SCHEDULED]
        if not due:
            return tickets, due
        path_check(TicketState.SCHEDULED, TicketState.COMPLETED)
        keys = [t.subject_key for t in due if t.subject_key]
        counts: dict[str, Counter[str]] = {key: Counter() for key in keys}
        steps = []
        for eraser in registry.erasers_in_order():
            erased = eraser.erase_batch(keys) if keys else {}
            for key, found in erased.items():
                counts[key].update({f"{eraser.name}.{kind}": n for kind, n in found.items()})
            steps.append(eraser.name)
        now = timezone.now()
        rescans = erasure_rescan_many(subject_keys=keys) if keys else {}
        # Before the keys go: a restored backup gets these erasures re-applied (rule 9b).
        erasure_log_record_many(
            entries=[(t.subject_key, t.pk) for t in due if t.subject_key], at=now
        )
        TicketTransition.objects.bulk_create(
            TicketTransition(
                ticket=t,
                from_state=TicketState.SCHEDULED,
                to_state=TicketState.COMPLETED,
                at=now,
                note="erased",
            )
            for t in due
        )
        for t in due:
            t.result_counts = dict(sorted(counts.get(t.subject_key, Counter()).items()))
            t.rescan_counts = dict(sorted(rescans.get(t.subject_key, {}).items()))
            t.state = TicketState.COMPLETED
            t.completed_at = now
            t.subject_key = None
            t.token_hash = t.token_expires_at = None
            t.code_hash = t.code_expires_at = None
            t.steps_done = steps
        # One UPDATE per distinct proof (members with the same history share one), not a
        # CASE per row: what differs between the tickets of a batch is their counts only.
        same: dict[str, list[int]] = {}
        for t in due:
            proof = json.dumps([t.result_counts, t.rescan_counts], sort_keys=True)
            same.setdefault(proof, []).append(t.pk)
        for proof, pks in same.items():
            result_counts, rescan_counts = json.loads(proof)
            PrivacyTicket.objects.filter(pk__in=pks).update(
                state=TicketState.COMPLETED,
                completed_at=now,
                subject_key=None,
                token_hash=None,
                token_expires_at=None,
                code_hash=None,
                code_expires_at=None,
                result_counts=result_counts,
                rescan_counts=rescan_counts,
                steps_done=steps,
            )
        retention_progress_add(due)
    return tickets, due


# Privacy's own erasers, each given a batch of subjects (one erasure is a batch of one).
def _erase_cached_many(subject_keys: list[str]) -> dict[str, dict[str, int]]:
    subjects = registry.subjects_get(subject_keys)
    purged = ratelimit_purge_many(
        {key: subjects[key].identifiers if key in subjects else () for key in subject_keys}
    )
    return {key: {"rate_limit_counters": purged[key]} for key in subject_keys}


def _pseudonymise_consent_many(subject_keys: list[str]) -> dict[str, dict[str, int]]:
    """Clear the clear-text subject keys; the chain covers only their keyed digests."""
    own = ConsentRecord.objects.filter(subject_key__in=subject_keys)
    counts = Counter()
    provisional_owner: dict[int, str] = {}
    for key, refers_to in own.exclude(refers_to=None).values_list("subject_key", "refers_to_id"):
        provisional_owner.setdefault(refers_to, key)
    provisional = ConsentRecord.objects.filter(
        pk__in=list(provisional_owner), subject_key__isnull=False
    )
    for pk in provisional.values_list("pk", flat=True):
        counts[provisional_owner[pk]] += 1
    provisional.update(subject_key=None)
    for key, n in own.values("subject_key").annotate(n=Count("pk")).values_list("subject_key", "n"):
        counts[key] += n
    own.update(subject_key=None)
    return {key: {"consent_records_pseudonymised": counts[key]} for key in subject_keys}


def _unlink_tickets_many(subject_keys: list[str]) -> dict[str, dict[str, int]]:
    """Take the subject keys and any live link or code off the subjects' other tickets, and
    drop the outbox work queued for the subjects (a consent receipt's mail)."""
    # The open erasure is the one running (or previewed): it completes with its own proof.
    others = PrivacyTicket.objects.filter(subject_key__in=subject_keys).exclude(
        kind=TicketKind.ERASURE, state__in=OPEN_STATES
    )
    counts = dict(
        others.values("subject_key").annotate(n=Count("pk")).values_list("subject_key", "n")
    )
    others.update(
        subject_key=None,
        token_hash=None,
        token_expires_at=None,
        code_hash=None,
        code_expires_at=None,
    )
    # Work of no ticket waiting in the outbox for these subjects (a consent receipt's mail).
    waiting = TicketTask.objects.filter(ticket=None, args__0__in=list(subject_keys))
    rows = list(waiting.values_list("pk", "args"))
    dropped = Counter(args[0] for _, args in rows)
    TicketTask.objects.filter(pk__in=[pk for pk, _ in rows]).delete()
    return {
        key: {"tickets_unlinked": counts.get(key, 0), "outbox_rows_dropped": dropped[key]}
        for key in subject_keys
    }


def _count_cached_many(subject_keys: list[str]) -> dict[str, dict[str, int]]:
    subjects = registry.subjects_get(subject_keys)
    found = ratelimit_count_many(
        {key: subjects[key].identifiers if key in subjects else () for key in subject_keys}
    )
    return {key: {"rate_limit_counters": found[key]} for key in subject_keys}


registry.register_eraser(
    "privacy.cache",
    order=10,
    preview_many=_count_cached_many,
    labels={"rate_limit_counters": _("request counters in the cache")},
    erase_many=_erase_cached_many,
)
registry.register_eraser(
    "privacy.consent",
    order=900,
    covers=("privacy.ConsentRecord",),
    keeps=("consent_records_pseudonymised",),
    labels={"consent_records_pseudonymised": _("consent records, without the person's key")},
    erase_many=_pseudonymise_consent_many,
)
registry.register_eraser(
    "privacy.tickets",
    order=910,
    covers=("privacy.PrivacyTicket", "privacy.TicketTransition", "privacy.TicketTask"),
    keeps=("tickets_unlinked",),
    labels={
        "tickets_unlinked": _("other requests, without the person's key"),
        "outbox_rows_dropped": _("mails still waiting to be sent to the person"),
    },
    erase_many=_unlink_tickets_many,
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


def retention_open_tickets(
    *,
    now: datetime | None = None,
    batch_size: int | None = None,
    erase_here: bool = False,
    progress: Callable[[int], None] | None = None,
    subject_keys: list[str] | None = None,
) -> list[int]:
    """Open a scheduled system erasure ticket for each inactive subject; return their ids.

    Tickets go received -> verified -> scheduled (checked against the transition table), a
    batch of `batch_size` (PRIVACY_RETENTION_BATCH) per transaction, and each batch is queued
    as one batch erasure (`erasure_execute_batch`) once it commits; with `erase_here` the
    batches are erased in this process instead, one after the other (the command), and
    `progress` is told how many subjects each batch erased. The run is recorded (a
    `RetentionRun`) from its start, also one that opens nothing, and keeps count of the
    tickets opened and, as their erasures complete, of what they erased; its tickets are
    received at the run's start. `subject_keys`: the run's `retention_subjects(now=now)`,
    when the caller has them already (the command, to size its progress bar).
    """
    path = (TicketState.RECEIVED, TicketState.VERIFIED, TicketState.SCHEDULED)
    path_check(*path)
    now = now or timezone.now()
    size = batch_size or settings.PRIVACY_RETENTION_BATCH
    run = RetentionRun.objects.create(
        started_at=now, finished_at=None, cutoff=retention_cutoff(now=now), tickets_opened=0
    )
    ticket_ids: list[int] = []
    due = retention_subjects(now=now) if subject_keys is None else subject_keys
    for batch in _batched(due, size):
        with transaction.atomic():
            tickets = PrivacyTicket.objects.bulk_create(
                PrivacyTicket(
                    kind=TicketKind.ERASURE,
                    state=TicketState.SCHEDULED,
                    source=TicketSource.RETENTION,
                    subject_key=key,
                    language=CustomerLanguage.NL,
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
            erasure_batch_put(tickets, send=not erase_here)
            RetentionRun.objects.filter(pk=run.pk).update(
                tickets_opened=F("tickets_opened") + len(tickets)
            )
        batch_ids = [t.pk for t in tickets]
        ticket_ids.extend(batch_ids)
        if erase_here:
            erasure_execute_batch(ticket_ids=batch_ids)
            TicketTask.objects.filter(ticket_id__in=batch_ids).delete()
        if progress is not None:
            progress(len(batch_ids))
    RetentionRun.objects.filter(pk=run.pk).update(finished_at=timezone.now())
    logger.info("privacy retention: %s erasure ticket(s) opened", len(ticket_ids))
    return ticket_ids


def retention_progress_add(tickets: Iterable[PrivacyTicket]) -> None:
    """Count these just-completed erasures in the retention runs that opened them (in the
    erasures' transaction: the count and the erasure commit together)."""
    by_run: dict[datetime, tuple[int, Counter[str]]] = {}
    for ticket in tickets:
        if ticket.source != TicketSource.RETENTION or ticket.state != TicketState.COMPLETED:
            continue
        done, erased = by_run.get(ticket.received_at, (0, Counter()))
        erased.update(ticket.result_counts or {})
        by_run[ticket.received_at] = (done + 1, erased)
    for started_at, (done, erased) in sorted(by_run.items()):
        run = (
            RetentionRun.objects.select_for_update()
            .filter(started_at=started_at)
            .order_by("-pk")
            .first()
        )
        if run is None:
            continue
        total = Counter(run.erased_counts or {})
        total.update(erased)
        run.tickets_completed += done
        run.erased_counts = dict(sorted(total.items()))
        run.save(update_fields=["tickets_completed", "erased_counts"])


def _batched(items: Iterable[str], size: int) -> Iterable[list[str]]:
    batch: list[str] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
