"""The privacy queue, the consent log and the state of its chain."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Count, QuerySet
from django.utils import timezone

from dashboard.models import ChainCheck
from privacy.chain import ChainReport, consent_log_verify
from privacy.models import (
    OPEN_STATES,
    ConsentLogHead,
    ConsentRecord,
    PrivacyTicket,
    TicketState,
)
from stores.models import StaffAssignment, StaffRole

DUE_SOON_DAYS = 7
# Verify the consent chain while a page renders up to this many records (about 70 ms).
CHAIN_LIVE_LIMIT = 1000


# Privacy queue
def ticket_urgency(ticket: PrivacyTicket, *, today: date) -> str:
    """Return "overdue", "soon" (due within 7 days) or "" for an open ticket; "" once closed."""
    if ticket.state not in OPEN_STATES:
        return ""
    if ticket.due_on < today:
        return "overdue"
    if ticket.due_on <= today + timedelta(days=DUE_SOON_DAYS):
        return "soon"
    return ""


def tickets_queue(*, state: str = "open", kind: str = "") -> QuerySet[PrivacyTicket]:
    """Return tickets in a state ("open": every open state), nearest deadline first."""
    tickets = PrivacyTicket.objects.select_related("store")
    if state == "open":
        tickets = tickets.filter(state__in=OPEN_STATES).order_by("due_on", "pk")
    else:
        tickets = tickets.filter(state=state).order_by("-received_at", "-pk")
    if kind:
        tickets = tickets.filter(kind=kind)
    return tickets


def tickets_count_by_state() -> dict[str, int]:
    """Return how many tickets are in each state, and "open" for all open ones."""
    counts = dict.fromkeys(TicketState.values, 0)
    counts.update(
        {
            g["state"]: g["n"]
            for g in PrivacyTicket.objects.values("state").annotate(n=Count("pk")).order_by()
        }
    )
    counts["open"] = sum(counts[s] for s in OPEN_STATES)
    return counts


def tickets_due_soon(*, today: date | None = None) -> QuerySet[PrivacyTicket]:
    """Return open tickets due within 7 days or overdue, nearest deadline first."""
    today = today or timezone.localdate()
    return PrivacyTicket.objects.filter(
        state__in=OPEN_STATES, due_on__lte=today + timedelta(days=DUE_SOON_DAYS)
    ).order_by("due_on", "pk")


def head_office_emails() -> list[str]:
    """Return the e-mail addresses of active head-office users."""
    user_ids = StaffAssignment.objects.filter(role=StaffRole.HEAD_OFFICE).values("user_id")
    return sorted(
        set(
            get_user_model()
            .objects.filter(pk__in=user_ids, is_active=True)
            .exclude(email="")
            .values_list("email", flat=True)
        )
    )


def ticket_for_office(ticket_id: int) -> PrivacyTicket | None:
    return (
        PrivacyTicket.objects.select_related("store", "opened_by", "approved_by")
        .filter(pk=ticket_id)
        .first()
    )


# Consent log
CONSENT_PAGE = 50


def consent_records(
    *,
    purpose: str = "",
    store_id: int | None = None,
    start: date | None = None,
    end: date | None = None,
    action: str = "",
    before_seq: int | None = None,
) -> QuerySet[ConsentRecord]:
    """Return consent records matching the filters, newest first (page with `before_seq`)."""
    records = ConsentRecord.objects.select_related("notice", "store", "staff", "device")
    if purpose:
        records = records.filter(purpose=purpose)
    if store_id:
        records = records.filter(store_id=store_id)
    if action:
        records = records.filter(action=action)
    if start:
        records = records.filter(created_at__gte=_day_start(start))
    if end:
        records = records.filter(created_at__lt=_day_start(end + timedelta(days=1)))
    if before_seq:
        records = records.filter(seq__lt=before_seq)
    return records.order_by("-seq")


def _day_start(day: date):
    from datetime import datetime, time

    return timezone.make_aware(datetime.combine(day, time.min))


@dataclass(frozen=True)
class ChainStatus:
    ok: bool
    checked: int
    at: Any
    live: bool
    broken_seq: int | None = None
    reason: str = ""
    records_total: int = 0

    @property
    def behind(self) -> int:
        """Records appended since the stored check."""
        return max(0, self.records_total - self.checked) if self.ok else 0


def consent_chain_status() -> ChainStatus | None:
    """Return the consent chain's state: verified now if the log is small, else the last check.

    Verifying walks every record (HMAC per record), which does not fit in a page's time once
    the log is large; the hourly task and the "verify now" button keep a recent check then.
    """
    head = ConsentLogHead.objects.filter(pk=1).first()
    total = head.seq if head else 0
    if total <= getattr(settings, "DASHBOARD_CHAIN_LIVE_LIMIT", CHAIN_LIVE_LIMIT):
        report: ChainReport = consent_log_verify()
        return ChainStatus(
            ok=report.ok,
            checked=report.checked,
            at=timezone.now(),
            live=True,
            broken_seq=report.broken_seq,
            reason=report.reason,
            records_total=total,
        )
    check = ChainCheck.objects.order_by("-checked_at", "-pk").first()
    if check is None:
        return None
    return ChainStatus(
        ok=check.ok,
        checked=check.records_checked,
        at=check.checked_at,
        live=False,
        broken_seq=check.broken_seq,
        reason=check.reason,
        records_total=total,
    )
