"""The erasure log (rule 9b): which subjects were erased, as keyed hashes, and re-applying it
to a database restored from a backup taken before some of those erasures.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator
from datetime import datetime

from django.db import transaction
from django.utils.dateparse import parse_datetime

from privacy.hashing import keyed_digest
from privacy.models import (
    ConsentRecord,
    ErasureRecord,
    PrivacyTicket,
    TicketKind,
    TicketSource,
    TicketState,
    TicketTask,
)
from privacy.registry import registry

logger = logging.getLogger(__name__)


def erasure_log_hash(subject_key: str) -> str:
    """Return the keyed hash the erasure log keeps instead of the subject key."""
    return keyed_digest(subject_key, domain="erasure-log")


def erasure_log_record_many(*, entries: Iterable[tuple[str, int | None]], at: datetime) -> None:
    """Note that these subjects were erased, each (subject key, ticket id) pair once, in one
    statement (idempotent: a subject is logged once)."""
    ErasureRecord.objects.bulk_create(
        [
            ErasureRecord(subject_hash=erasure_log_hash(key), erased_at=at, ticket_number=ticket_id)
            for key, ticket_id in entries
        ],
        ignore_conflicts=True,
        batch_size=1000,
    )


def erasure_log_lines(*, since: datetime | None = None) -> Iterator[str]:
    """Yield the log as JSON lines (hash, time, ticket number): nothing else is in it."""
    records = ErasureRecord.objects.order_by("erased_at", "pk")
    if since is not None:
        records = records.filter(erased_at__gte=since)
    for record in records.iterator(chunk_size=2000):
        yield json.dumps(
            {
                "subject_hash": record.subject_hash,
                "erased_at": record.erased_at.isoformat(),
                "ticket": record.ticket_number,
            }
        )


def _parse(lines: Iterable[str]) -> list[ErasureRecord]:
    records = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
            digest = entry["subject_hash"]
            erased_at = parse_datetime(entry["erased_at"])
        except (ValueError, KeyError, TypeError):
            raise ValueError(f"line {number} is not an erasure log entry") from None
        if not isinstance(digest, str) or len(digest) != 64 or erased_at is None:
            raise ValueError(f"line {number} is not an erasure log entry")
        ticket = entry.get("ticket")
        records.append(
            ErasureRecord(
                subject_hash=digest,
                erased_at=erased_at,
                ticket_number=ticket if isinstance(ticket, int) else None,
            )
        )
    return records


def _subject_keys() -> Iterator[str]:
    """Every subject key the database still holds, in any registered app or in privacy's tables."""
    seen: set[str] = set()
    sources = [source() for source in registry.subject_sources.values()]
    sources.append(
        ConsentRecord.objects.exclude(subject_key=None).values_list("subject_key", flat=True)
    )
    sources.append(
        PrivacyTicket.objects.exclude(subject_key=None).values_list("subject_key", flat=True)
    )
    for source in sources:
        for key in source:
            if key not in seen:
                seen.add(key)
                yield key


def erasures_reapply(*, lines: Iterable[str]) -> dict[str, int]:
    """Erase again every subject the log names that this (restored) database still holds.

    Merges the log into this database's own, then, for each subject found, completes an
    erasure ticket (source `restore`) at once, in this process: run it before the system
    serves again. Safe to run twice: the second run finds nobody. Returns counts only.
    """
    from privacy.services.erasure import erasure_execute
    from privacy.services.tickets import ticket_approve, ticket_move, ticket_open_for_subject

    records = _parse(lines)
    ErasureRecord.objects.bulk_create(records, ignore_conflicts=True)
    wanted = {record.subject_hash for record in records}
    wanted |= set(ErasureRecord.objects.values_list("subject_hash", flat=True))
    found = [key for key in _subject_keys() if erasure_log_hash(key) in wanted]
    erased = 0
    for key in found:
        with transaction.atomic():
            ticket = ticket_open_for_subject(
                kind=TicketKind.ERASURE, subject_key=key, source=TicketSource.RESTORE, approve=True
            )
            ticket = PrivacyTicket.objects.select_for_update().get(pk=ticket.pk)
            if ticket.state in (TicketState.RECEIVED, TicketState.AWAITING_VERIFICATION):
                ticket_move(ticket, TicketState.VERIFIED, note="erased before the restore")
            if ticket.state == TicketState.VERIFIED:
                ticket_approve(ticket=ticket)
            ticket_id = ticket.pk
        done = erasure_execute(ticket_id=ticket_id)
        if done is not None and done.state == TicketState.COMPLETED:
            erased += 1
            # Done here, not by a worker: the outbox has nothing left to send for it.
            TicketTask.objects.filter(ticket_id=ticket_id).delete()
    logger.info(
        "privacy: erasure log re-applied: %s entries, %s subject(s) erased again",
        len(wanted),
        erased,
    )
    return {"log_entries": len(wanted), "subjects_erased_again": erased}
