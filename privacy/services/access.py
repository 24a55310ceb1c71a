"""Access and portability (Art. 15, 20): a subject's data from every app, as JSON and CSV."""

from __future__ import annotations

import csv
import io
import json
import logging
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from core.errors import ConfirmationRequired
from core.inputs import csv_cell
from privacy.models import PrivacyTicket, TicketKind, TicketSource, TicketState, Verification
from privacy.registry import registry
from privacy.selectors import consent_history
from privacy.services.tickets import ticket_move

logger = logging.getLogger(__name__)

Export = dict[str, Any]


def access_export_build(*, subject_key: str) -> Export:
    """Return the subject's data from every registered exporter, by section."""
    sections: dict[str, list[dict[str, Any]]] = {}
    for exporter in registry.exporters.values():
        for section, rows in exporter(subject_key).items():
            sections.setdefault(section, []).extend(rows)
    return {"generated_at": timezone.now().isoformat(), "sections": sections}


def access_export_json(export: Export) -> str:
    """Return the export as one JSON document."""
    return json.dumps(export, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)


def access_export_csv(export: Export) -> dict[str, str]:
    """Return the export as one CSV text per section, named `<section>.csv`."""
    files = {}
    for section, rows in export["sections"].items():
        columns = list(dict.fromkeys(key for row in rows for key in row))
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=columns or ["empty"], extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            # A name or reference starting with `=` stays text in the member's spreadsheet.
            writer.writerow({k: "" if v is None else csv_cell(v) for k, v in row.items()})
        files[f"{section}.csv"] = out.getvalue()
    return files


def _counts(export: Export) -> dict[str, int]:
    return {section: len(rows) for section, rows in sorted(export["sections"].items())}


def access_execute(*, ticket_id: int) -> PrivacyTicket | None:
    """Send a scheduled access ticket's export to the address on file; complete the ticket."""
    from privacy.mail import mail_send

    ticket = PrivacyTicket.objects.filter(pk=ticket_id, kind=TicketKind.ACCESS).first()
    if ticket is None or ticket.state != TicketState.SCHEDULED:
        return ticket
    subject = registry.subject_get(ticket.subject_key) if ticket.subject_key else None
    export = access_export_build(subject_key=ticket.subject_key) if subject else None
    if subject is not None and subject.email:
        attachments = [("data.json", access_export_json(export), "application/json")]
        attachments += [
            (name, text, "text/csv") for name, text in access_export_csv(export).items()
        ]
        mail_send(
            to=subject.email,
            language=ticket.language,
            template="access_export",
            context={"ticket": ticket},
            attachments=attachments,
        )
    with transaction.atomic():
        ticket = PrivacyTicket.objects.select_for_update().get(pk=ticket_id)
        if ticket.state != TicketState.SCHEDULED:
            return ticket
        now = timezone.now()
        sent = export is not None and subject is not None and bool(subject.email)
        ticket_move(
            ticket, TicketState.COMPLETED, at=now, note="sent" if sent else "nothing to send"
        )
        ticket.completed_at = now
        ticket.result_counts = _counts(export) if export else {}
        ticket.save(update_fields=["completed_at", "result_counts"])
    logger.info("privacy ticket %s: access export completed", ticket.pk)
    return ticket


@transaction.atomic
def access_export_at_counter(
    *, ticket: PrivacyTicket, staff: AbstractBaseUser
) -> tuple[PrivacyTicket, Export]:
    """Hand a member their export at the counter, once they confirmed it is them there.

    The ticket must be a counter request verified by the credential the member presented
    (`privacy.services.counter`); the ticket says so when it completes.
    """
    with transaction.atomic():
        ticket = PrivacyTicket.objects.select_for_update().get(pk=ticket.pk)
        if not (
            ticket.kind == TicketKind.ACCESS
            and ticket.source == TicketSource.COUNTER
            and ticket.state == TicketState.VERIFIED
            and ticket.verification == Verification.CREDENTIAL
            and ticket.subject_key
        ):
            raise ConfirmationRequired()
        ticket_move(ticket, TicketState.SCHEDULED, by=staff, note="export at the counter")
        export = access_export_build(subject_key=ticket.subject_key)
        now = timezone.now()
        ticket_move(
            ticket,
            TicketState.COMPLETED,
            by=staff,
            at=now,
            note="handed over at the counter after the member presented their card",
        )
        ticket.completed_at = now
        ticket.result_counts = _counts(export)
        ticket.save(update_fields=["completed_at", "result_counts"])
    return ticket, export


def _export_privacy(subject_key: str) -> dict[str, list[dict[str, Any]]]:
    consents = [
        {
            "purpose": r.purpose,
            "action": r.action,
            "notice_version": r.notice.version,
            "notice_hash": r.notice.content_hash,
            "language": r.language,
            "channel": r.channel,
            "store": r.store.code if r.store else None,
            "at": r.created_at.isoformat(),
        }
        for r in consent_history(subject_key=subject_key)
    ]
    requests = [
        {
            "kind": t.kind,
            "state": t.state,
            "source": t.source,
            "received_at": t.received_at.isoformat(),
            "due_on": t.due_on.isoformat(),
        }
        for t in PrivacyTicket.objects.filter(subject_key=subject_key).order_by("received_at")
    ]
    return {"consents": consents, "privacy_requests": requests}


registry.register_exporter("privacy", _export_privacy)
