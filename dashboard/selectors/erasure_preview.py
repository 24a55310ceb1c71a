"""An erasure seen before it is approved, and its re-scan after (privacy's preview, per app)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.apps import apps

from privacy.models import OPEN_STATES, PrivacyTicket, TicketKind, TicketState
from privacy.registry import registry
from privacy.services.erasure_preview import erasure_preview


@dataclass
class AppPreview:
    app: str  # the app's name as head office reads it
    removes: list[tuple[str, int]] = field(default_factory=list)
    keeps: list[tuple[str, int]] = field(default_factory=list)

    @property
    def removed(self) -> int:
        return sum(n for _, n in self.removes)

    @property
    def kept(self) -> int:
        return sum(n for _, n in self.keeps)


@dataclass
class ErasurePreview:
    apps: list[AppPreview]
    recipients: list[str]
    removed: int
    kept: int


def _app_name(label: str) -> str:
    try:
        return str(apps.get_app_config(label).verbose_name)
    except LookupError:
        return label


def ticket_erasure_preview(ticket: PrivacyTicket) -> ErasurePreview | None:
    """Return what an open erasure will remove and keep, per app, and who will be told."""
    if (
        ticket.kind != TicketKind.ERASURE
        or ticket.state not in OPEN_STATES
        or not ticket.subject_key
    ):
        return None
    found = erasure_preview(subject_key=ticket.subject_key)
    by_app: dict[str, AppPreview] = {}
    for step in found["erasers"]:
        row = by_app.setdefault(step["app"], AppPreview(_app_name(step["app"])))
        for part, counts in (("removes", step["removes"]), ("keeps", step["keeps"])):
            getattr(row, part).extend(
                (str(registry.count_label(step["eraser"], kind)), n)
                for kind, n in counts.items()
                if n
            )
    return ErasurePreview(
        apps=[row for row in by_app.values() if row.removes or row.keeps],
        recipients=found["recipients"],
        removed=found["removed"],
        kept=found["kept"],
    )


@dataclass
class Rescan:
    found: list[tuple[str, int]]  # only what the re-scan still found (nothing, after an erasure)
    checked: int  # how many counts the scan took


def ticket_rescan(ticket: PrivacyTicket) -> Rescan | None:
    """Return the re-scan a completed erasure ran after erasing (None before one ran)."""
    if ticket.kind != TicketKind.ERASURE or ticket.state != TicketState.COMPLETED:
        return None
    if not ticket.rescan_counts:
        return None
    found = []
    for key, n in ticket.rescan_counts.items():
        eraser, _, kind = key.rpartition(".")
        if n:
            found.append((str(registry.count_label(eraser, kind)), n))
    return Rescan(found=found, checked=len(ticket.rescan_counts))
