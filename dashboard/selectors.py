"""Reads with a rule in them: who sees what, the figures of a period, queues, logs, checks.

Every page starts from `office_access(user)`: head office sees the chain, a store manager the
stores they manage (figures only), anyone else nothing. Figures come from the summary tables
(`dashboard.models`), never from the ledger, so each page runs a fixed number of queries.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import models
from django.db.models import Count, Max, Q, QuerySet, Sum
from django.db.models.functions import TruncWeek
from django.utils import timezone

from core.errors import Forbidden
from dashboard.models import ChainCheck, MonthActiveMembers, RewardDayStats, StoreDayStats
from privacy.chain import ChainReport, consent_log_verify
from privacy.models import (
    OPEN_STATES,
    ConsentLogHead,
    ConsentRecord,
    PrivacyTicket,
    RetentionRun,
    TicketSource,
    TicketState,
)
from privacy.selectors import tickets_overdue
from stores.models import StaffAssignment, StaffRole, Store
from stores.selectors import staff_is_head_office, stores_for_staff

DUE_SOON_DAYS = 7
# Verify the consent chain while a page renders up to this many records (about 70 ms).
CHAIN_LIVE_LIMIT = 1000


@dataclass(frozen=True)
class OfficeAccess:
    """What a staff member may see in the dashboard."""

    head_office: bool
    stores: tuple[Store, ...]

    @property
    def store_ids(self) -> set[int]:
        return {s.pk for s in self.stores}


def office_access(user: AbstractBaseUser) -> OfficeAccess:
    """Return what this user may see: head office everything, a manager their stores' figures.

    Raises Forbidden for anyone else (cashiers, users without a role).
    """
    if staff_is_head_office(user):
        return OfficeAccess(head_office=True, stores=tuple(Store.objects.order_by("code")))
    managed = tuple(stores_for_staff(user, roles=(StaffRole.STORE_MANAGER,)).order_by("code"))
    if not managed:
        raise Forbidden("The dashboard is for head office and store managers.")
    return OfficeAccess(head_office=False, stores=managed)


def office_head_required(access: OfficeAccess) -> None:
    """Raise unless the user is head office (the privacy queue, consent log, configuration)."""
    if not access.head_office:
        raise Forbidden("Only head office may open this page.")


# Figures
@dataclass(frozen=True)
class Table:
    """A table a page shows and the CSV export writes: the same rows for both."""

    key: str
    title: str
    headers: tuple[str, ...]
    rows: list[tuple[Any, ...]]


@dataclass
class Figures:
    start: date
    end: date
    stores: tuple[Store, ...]
    totals: dict[str, int]
    per_store: list[dict[str, Any]]
    weeks: list[dict[str, Any]]
    rewards: list[dict[str, Any]]
    months: list[dict[str, Any]]
    computed_at: Any = None
    chain_wide: bool = False
    tables: dict[str, Table] = field(default_factory=dict)

    @property
    def form_share(self) -> float | None:
        joined = self.totals["new_members_form"] + self.totals["new_members_eid"]
        return self.totals["new_members_form"] / joined if joined else None


SUMMED = (
    "new_members_form",
    "new_members_eid",
    "purchases",
    "points_issued",
    "points_redeemed",
    "points_expired",
    "points_adjusted",
    "points_reversed",
    "redemptions",
)


def figures_for(
    *, access: OfficeAccess, start: date, end: date, store_ids: Iterable[int] | None = None
) -> Figures:
    """Return the period's figures for the stores asked for, within what `access` allows."""
    allowed = access.store_ids
    wanted = set(store_ids or ()) & allowed or allowed
    stores = tuple(s for s in access.stores if s.pk in wanted)
    chain_wide = access.head_office and wanted == allowed
    days = StoreDayStats.objects.filter(store_id__in=wanted, day__gte=start, day__lte=end)
    sums = {name: Sum(name, default=0) for name in SUMMED}

    by_store = {
        g["store_id"]: g
        for g in days.values("store_id").annotate(**sums, computed=Max("computed_at")).order_by()
    }
    per_store = []
    totals = dict.fromkeys(SUMMED, 0)
    computed_at = None
    for store in stores:
        g = by_store.get(store.pk) or dict.fromkeys(SUMMED, 0)
        per_store.append({"store": store, **{k: g[k] for k in SUMMED}})
        for k in SUMMED:
            totals[k] += g[k]
        if g.get("computed") and (computed_at is None or g["computed"] > computed_at):
            computed_at = g["computed"]

    weeks = list(
        days.annotate(week=TruncWeek("day")).values("week").annotate(**sums).order_by("week")
    )
    rewards = list(
        RewardDayStats.objects.filter(store_id__in=wanted, day__gte=start, day__lte=end)
        .values("reward_id", "reward__name")
        .annotate(redemptions=Sum("redemptions"), points=Sum("points"))
        .order_by("-redemptions", "reward__name")
    )
    month_rows = MonthActiveMembers.objects.filter(
        month__gte=start.replace(day=1), month__lte=end
    ).select_related("store")
    if chain_wide:
        month_rows = month_rows.filter(Q(store__isnull=True) | Q(store_id__in=wanted))
    else:
        month_rows = month_rows.filter(store_id__in=wanted)
    months: dict[date, dict[str, Any]] = {}
    for m in month_rows.order_by("month", "store__code"):
        entry = months.setdefault(m.month, {"month": m.month, "chain": None, "stores": {}})
        if m.store_id is None:
            entry["chain"] = m.active_members
        else:
            entry["stores"][m.store_id] = m.active_members
    figures = Figures(
        start=start,
        end=end,
        stores=stores,
        totals=totals,
        per_store=per_store,
        weeks=weeks,
        rewards=rewards,
        months=list(months.values()),
        computed_at=computed_at,
        chain_wide=chain_wide,
    )
    figures.tables = _figure_tables(figures)
    return figures


def _figure_tables(f: Figures) -> dict[str, Table]:
    stores = Table(
        key="stores",
        title="Figures per store",
        headers=(
            "store",
            "new members (form)",
            "new members (eID)",
            "purchases",
            "points issued",
            "points redeemed",
            "points expired",
            "points adjusted (net)",
            "points reversed (net)",
            "redemptions",
        ),
        rows=[
            (
                r["store"].code,
                r["new_members_form"],
                r["new_members_eid"],
                r["purchases"],
                r["points_issued"],
                r["points_redeemed"],
                r["points_expired"],
                r["points_adjusted"],
                r["points_reversed"],
                r["redemptions"],
            )
            for r in f.per_store
        ],
    )
    weeks = Table(
        key="weeks",
        title="Per week",
        headers=(
            "week starting",
            "new members (form)",
            "new members (eID)",
            "points issued",
            "points redeemed",
            "points expired",
            "redemptions",
        ),
        rows=[
            (
                w["week"].isoformat(),
                w["new_members_form"],
                w["new_members_eid"],
                w["points_issued"],
                w["points_redeemed"],
                w["points_expired"],
                w["redemptions"],
            )
            for w in f.weeks
        ],
    )
    rewards = Table(
        key="rewards",
        title="Redemptions per reward",
        headers=("reward", "redemptions", "points"),
        rows=[(r["reward__name"], r["redemptions"], r["points"]) for r in f.rewards],
    )
    store_codes = [s.code for s in f.stores]
    active = Table(
        key="active",
        title="Active members per month",
        headers=("month", *(["chain"] if f.chain_wide else []), *store_codes),
        rows=[
            (
                m["month"].strftime("%Y-%m"),
                *([m["chain"] or 0] if f.chain_wide else []),
                *(m["stores"].get(s.pk, 0) for s in f.stores),
            )
            for m in f.months
        ],
    )
    return {t.key: t for t in (stores, weeks, rewards, active)}


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


# Compliance
FORBIDDEN_FIELD = {
    "national number": re.compile(
        r"national|rijksregister|registre national|register\s*(number|nr|no)\b|\bnrn\b|niss|insz"
        r"|\bssin\b|\bnn\b",
        re.I,
    ),
    "birth date": re.compile(r"birth|\bdob\b|born|geboorte|naissance|\bage\b", re.I),
    "gender": re.compile(r"gender|\bsex\b|geslacht|\bsexe\b", re.I),
    "address": re.compile(r"address|street|straat|\brue\b|postcode|postal|\bzip\b|adres", re.I),
    "photo": re.compile(r"photo|picture|portrait|\bimage\b|foto|selfie", re.I),
}


# An e-mail or network address is not where someone lives.
NOT_POSTAL = re.compile(r"\b(e ?mail|ip|mac|network|web) address(es)?\b", re.I)


@dataclass(frozen=True)
class FieldFinding:
    model: str
    field: str
    category: str


def _words(name: str) -> str:
    return " ".join(name.replace("_", " ").split())


def schema_forbidden_fields(
    fields: Iterable[models.Field] | None = None,
) -> list[FieldFinding]:
    """Return the fields that look as if they may hold a national number, birth date, gender,
    address or photo. `fields` defaults to every concrete field of every installed model.

    An e-mail address is allowed (the form channel asks for it), and an IP address is not a
    postal one; an image or file field is always reported as a possible photo.
    """
    if fields is None:
        fields = [f for model in apps.get_models() for f in model._meta.concrete_fields]
    findings = []
    for f in fields:
        label = f"{f.model._meta.label}" if getattr(f, "model", None) else "?"
        if isinstance(f, models.FileField):
            findings.append(FieldFinding(label, f.name, "photo"))
            continue
        if isinstance(f, models.EmailField | models.GenericIPAddressField):
            continue
        text = f"{_words(f.name)} {_words(str(f.verbose_name))} {_words(f.db_column or '')}"
        text = NOT_POSTAL.sub(" ", text)
        for category, pattern in FORBIDDEN_FIELD.items():
            if pattern.search(text):
                findings.append(FieldFinding(label, f.name, category))
                break
    return findings


@dataclass
class RetentionSummary:
    """The retention job's last run and what the erasures it opened have erased so far."""

    started_at: Any
    finished_at: Any
    cutoff: Any
    tickets: int
    completed: int
    erased: dict[str, int]


def retention_last_run() -> RetentionSummary | None:
    """Return the retention job's last run, or None if it never ran.

    The run records how many erasures it opened; those tickets were received at the run's start
    and carry what they erased once completed.
    """
    run = RetentionRun.objects.order_by("-started_at", "-pk").first()
    if run is None:
        return None
    tickets = PrivacyTicket.objects.filter(
        source=TicketSource.RETENTION, received_at=run.started_at
    ).values_list("state", "result_counts")
    erased: dict[str, int] = {}
    completed = 0
    for state, counts in tickets:
        completed += state == TicketState.COMPLETED
        for key, n in (counts or {}).items():
            erased[key] = erased.get(key, 0) + int(n)
    return RetentionSummary(
        started_at=run.started_at,
        finished_at=run.finished_at,
        cutoff=run.cutoff,
        tickets=run.tickets_opened,
        completed=completed,
        erased=dict(sorted(erased.items())),
    )


@dataclass
class ComplianceReport:
    forbidden_fields: list[FieldFinding]
    chain: ChainStatus | None
    overdue: list[PrivacyTicket]
    retention: RetentionSummary | None

    @property
    def ok(self) -> bool:
        return (
            not self.forbidden_fields
            and self.chain is not None
            and self.chain.ok
            and not self.overdue
        )


def compliance_report(*, fields: Iterable[models.Field] | None = None) -> ComplianceReport:
    """Return the live compliance self-check."""
    return ComplianceReport(
        forbidden_fields=schema_forbidden_fields(fields),
        chain=consent_chain_status(),
        overdue=list(tickets_overdue()[:50]),
        retention=retention_last_run(),
    )


# Stores and configuration
def stores_overview() -> QuerySet[Store]:
    """Return every store with its earning rule and its counts of devices and staff."""
    now = timezone.now()
    return (
        Store.objects.select_related("earning_rule")
        .annotate(
            devices_active=Count(
                "reader_devices", filter=Q(reader_devices__revoked_at__isnull=True), distinct=True
            ),
            staff_count=Count("staff_assignments", distinct=True),
            campaigns_running=Count(
                "campaigns",
                filter=Q(campaigns__starts_at__lte=now, campaigns__ends_at__gt=now),
                distinct=True,
            ),
        )
        .order_by("code")
    )


def staff_overview() -> QuerySet[StaffAssignment]:
    """Return every staff role, chain-wide ones first, then by store and user name."""
    return StaffAssignment.objects.select_related("user", "store").order_by(
        "store__code", "role", "user__username"
    )


def staff_user_find(username: str) -> AbstractBaseUser | None:
    """Return the active user with this user name, or None."""
    return (
        get_user_model().objects.filter(username=(username or "").strip(), is_active=True).first()
    )


def store_for_office(access: OfficeAccess, code: str) -> Store | None:
    """Return the store with this code among those the user may see, or None."""
    code = (code or "").strip().upper()
    return next((s for s in access.stores if s.code == code), None)
