"""Reads with a rule in them: current notices, consent state, tickets due, proofs, the record."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.apps import apps
from django.db.models import QuerySet
from django.utils import timezone

from core.errors import NoticeMissing, PurposeInvalid
from privacy.models import (
    OPEN_STATES,
    ConsentAction,
    ConsentRecord,
    NoticeVersion,
    PrivacyTicket,
    TicketState,
)
from privacy.registry import registry
from stores.selectors import chain_settings


def notice_current(*, purpose: str, language: str) -> NoticeVersion:
    """Return the latest published notice for a purpose and language, or raise NoticeMissing."""
    if purpose not in registry.purposes:
        raise PurposeInvalid()
    notice = (
        NoticeVersion.objects.filter(purpose=purpose, language=language)
        .order_by("-version")
        .first()
    )
    if notice is None:
        raise NoticeMissing(details={"purpose": purpose, "language": language})
    return notice


def consent_latest(*, subject_key: str, purpose: str) -> ConsentRecord | None:
    """Return the subject's latest consent record for a purpose, or None."""
    return (
        ConsentRecord.objects.filter(subject_key=subject_key, purpose=purpose)
        .select_related("notice", "store")
        .order_by("-seq")
        .first()
    )


def consent_in_force(*, subject_key: str, purpose: str) -> ConsentRecord | None:
    """Return the record of the subject's consent for a purpose if it stands (given, not
    withdrawn since), or None."""
    latest = consent_latest(subject_key=subject_key, purpose=purpose)
    return latest if latest is not None and latest.action == ConsentAction.GIVEN else None


def consent_state(*, subject_key: str) -> dict[str, ConsentRecord | None]:
    """Return, per purpose, the subject's latest consent record (None: never asked)."""
    return {
        purpose: consent_latest(subject_key=subject_key, purpose=purpose)
        for purpose in registry.purposes
    }


def consent_history(*, subject_key: str) -> QuerySet[ConsentRecord]:
    """Return the subject's consent records, oldest first, with what was shown and where."""
    return (
        ConsentRecord.objects.filter(subject_key=subject_key)
        .select_related("notice", "store")
        .order_by("seq")
    )


def ticket_open_find(*, kind: str, subject_key: str) -> PrivacyTicket | None:
    """Return the subject's open ticket of this kind, if any (there is at most one)."""
    return PrivacyTicket.objects.filter(
        kind=kind, subject_key=subject_key, state__in=OPEN_STATES
    ).first()


def tickets_overdue(*, today: date | None = None) -> QuerySet[PrivacyTicket]:
    """Return open tickets past their legal due date, oldest deadline first."""
    today = today or timezone.localdate()
    return PrivacyTicket.objects.filter(state__in=OPEN_STATES, due_on__lt=today).order_by(
        "due_on", "pk"
    )


# The one count a withdrawal ticket keeps that says nothing about what was withdrawn or undone.
WITHDRAWAL_RECORDS_APPENDED = "consent_records_appended"


def withdrawal_found_nothing(ticket: PrivacyTicket) -> bool:
    """Return whether a completed withdrawal found no consent in force and nothing to undo."""
    return not any(
        n for kind, n in ticket.result_counts.items() if kind != WITHDRAWAL_RECORDS_APPENDED
    )


def ticket_proof(ticket: PrivacyTicket) -> dict[str, Any]:
    """Return what a completed ticket proves, without personal data."""
    approved = ticket.history.filter(to_state=TicketState.SCHEDULED).select_related("by").first()
    return {
        "ticket": ticket.pk,
        "kind": ticket.kind,
        "source": ticket.source,
        "state": ticket.state,
        "received_at": ticket.received_at.isoformat(),
        "due_on": ticket.due_on.isoformat(),
        "completed_at": ticket.completed_at.isoformat() if ticket.completed_at else None,
        "approved_by": (approved.by.get_username() if approved and approved.by else "system"),
        "counts": dict(ticket.result_counts),
        # The erasure's scan run again after it: what it still found (all 0).
        "rescan": dict(ticket.rescan_counts),
        "recipients_to_notify": list(ticket.recipients),
        "requester_digest": ticket.requester_digest,
    }


def _stored_fields(label: str) -> list[str]:
    model = apps.get_model(label)
    return [f.name for f in model._meta.concrete_fields if not f.primary_key]


def processing_record() -> dict:
    """Return the record: controller, and each declared activity with where its data live."""
    activities = []
    for declaration in registry.declarations.values():
        activities.append(
            {
                "code": str(declaration.code),
                # In the active language (a declaration's words are translatable).
                "title": str(declaration.title),
                "declared_by": declaration.app,
                "legal_basis": str(declaration.legal_basis),
                "data_categories": [str(c) for c in declaration.data_categories],
                "stored_in": {label: _stored_fields(label) for label in declaration.stored_in},
                "recipients": [str(r) for r in declaration.recipients_list()],
                "retention": str(declaration.retention_text()),
            }
        )
    return {
        "controller": chain_settings().name,
        "generated_at": timezone.now().isoformat(timespec="seconds"),
        "activities": activities,
        "erasure": [e.name for e in registry.erasers_in_order()],
        "access_export": list(registry.exporters),
    }
