"""Every write of the dashboard: its summary tables and chain checks.

The summary tables are derived data: `stats_recompute` rebuilds a range of days from the
ledger and the members table with a few GROUP BY queries, so running it twice, or over a
day that is already current, changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db import transaction
from django.db.models import Count, Max, Min, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from core.errors import InvalidInput
from dashboard.models import ChainCheck, MonthActiveMembers, RewardDayStats, StoreDayStats
from loyalty.models import EntryKind, JoinChannel, LedgerEntry, Member
from privacy.chain import consent_log_verify

ACTIVE_KINDS = (EntryKind.EARN, EntryKind.REDEEM)


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """Return the aware datetimes where local day `start` begins and the day after `end` begins."""
    tz = timezone.get_current_timezone()
    lo = timezone.make_aware(datetime.combine(start, time.min), tz)
    hi = timezone.make_aware(datetime.combine(end + timedelta(days=1), time.min), tz)
    return lo, hi


def _month_first(day: date) -> date:
    return day.replace(day=1)


def _months(start: date, end: date) -> Iterator[date]:
    month = _month_first(start)
    while month <= end:
        yield month
        month += relativedelta(months=1)


def _day_rows(lo: datetime, hi: datetime, now: datetime) -> list[StoreDayStats]:
    tz = timezone.get_current_timezone()
    day = TruncDate("created_at", tzinfo=tz)
    rows: dict[tuple[int, date], StoreDayStats] = {}

    def row(store_id: int, on: date) -> StoreDayStats:
        key = (store_id, on)
        if key not in rows:
            rows[key] = StoreDayStats(store_id=store_id, day=on, computed_at=now)
        return rows[key]

    def points(kind: str) -> Sum:
        return Sum("points", filter=Q(kind=kind), default=0)

    ledger = (
        LedgerEntry.objects.filter(created_at__gte=lo, created_at__lt=hi)
        .annotate(on=day)
        .values("store_id", "on")
        .annotate(
            purchases=Count("pk", filter=Q(kind=EntryKind.EARN)),
            issued=points(EntryKind.EARN),
            redeemed=points(EntryKind.REDEEM),
            expired=points(EntryKind.EXPIRE),
            adjusted=points(EntryKind.ADJUST),
            reversed=points(EntryKind.REVERSE),
            redemptions=Count("pk", filter=Q(kind=EntryKind.REDEEM)),
            active=Count("member_id", distinct=True, filter=Q(kind__in=ACTIVE_KINDS)),
        )
        .order_by()
    )
    for g in ledger:
        r = row(g["store_id"], g["on"])
        r.purchases = g["purchases"]
        r.points_issued = g["issued"]
        r.points_redeemed = -g["redeemed"]
        r.points_expired = -g["expired"]
        r.points_adjusted = g["adjusted"]
        r.points_reversed = g["reversed"]
        r.redemptions = g["redemptions"]
        r.active_members = g["active"]
    joined = (
        Member.objects.filter(created_at__gte=lo, created_at__lt=hi)
        .annotate(on=day)
        .values("home_store_id", "on", "joined_via")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for g in joined:
        r = row(g["home_store_id"], g["on"])
        if g["joined_via"] == JoinChannel.EID:
            r.new_members_eid = g["n"]
        else:
            r.new_members_form = g["n"]
    return list(rows.values())


def _reward_rows(lo: datetime, hi: datetime, now: datetime) -> list[RewardDayStats]:
    tz = timezone.get_current_timezone()
    groups = (
        LedgerEntry.objects.filter(
            created_at__gte=lo, created_at__lt=hi, kind=EntryKind.REDEEM, reward__isnull=False
        )
        .annotate(on=TruncDate("created_at", tzinfo=tz))
        .values("store_id", "on", "reward_id")
        .annotate(n=Count("pk"), spent=Sum("points"))
        .order_by()
    )
    return [
        RewardDayStats(
            store_id=g["store_id"],
            day=g["on"],
            reward_id=g["reward_id"],
            redemptions=g["n"],
            points=-g["spent"],
            computed_at=now,
        )
        for g in groups
    ]


def _month_rows(month: date, now: datetime) -> list[MonthActiveMembers]:
    lo, hi = _bounds(month, month + relativedelta(months=1) - timedelta(days=1))
    active = LedgerEntry.objects.filter(
        created_at__gte=lo, created_at__lt=hi, kind__in=ACTIVE_KINDS, member__isnull=False
    ).order_by()
    rows = [
        MonthActiveMembers(
            month=month, store_id=g["store_id"], active_members=g["n"], computed_at=now
        )
        for g in active.values("store_id").annotate(n=Count("member_id", distinct=True))
    ]
    chain = active.aggregate(n=Count("member_id", distinct=True))["n"]
    if chain:
        rows.append(
            MonthActiveMembers(month=month, store=None, active_members=chain, computed_at=now)
        )
    return rows


@transaction.atomic
def stats_recompute(*, start: date, end: date) -> int:
    """Recompute every store's figures for local days start..end and the months they touch.

    Returns the number of day rows written. Idempotent: the range's rows are replaced.
    """
    if end < start:
        raise InvalidInput("The end of the range comes before its start.")
    now = timezone.now()
    lo, hi = _bounds(start, end)
    days = _day_rows(lo, hi, now)
    rewards = _reward_rows(lo, hi, now)
    StoreDayStats.objects.filter(day__gte=start, day__lte=end).delete()
    RewardDayStats.objects.filter(day__gte=start, day__lte=end).delete()
    StoreDayStats.objects.bulk_create(days, batch_size=1000)
    RewardDayStats.objects.bulk_create(rewards, batch_size=1000)
    for month in _months(start, end):
        MonthActiveMembers.objects.filter(month=month).delete()
        MonthActiveMembers.objects.bulk_create(_month_rows(month, now))
    return len(days)


def stats_refresh_recent(*, days: int = 2, today: date | None = None) -> int:
    """Recompute the last `days` local days (today included): the beat task's routine job."""
    today = today or timezone.localdate()
    return stats_recompute(start=today - timedelta(days=days - 1), end=today)


def stats_refresh_if_no_scheduler(*, max_age: timedelta = timedelta(minutes=1)) -> None:
    """Keep today's figures current where no Celery beat runs (tasks in-process, `make run`).

    With a broker, beat refreshes them every ten minutes and this does nothing.
    """
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        return
    latest = StoreDayStats.objects.aggregate(at=Max("computed_at"))["at"]
    if latest is None or timezone.now() - latest > max_age:
        stats_refresh_recent(days=2)


def stats_data_range() -> tuple[date, date] | None:
    """Return the first and last local day that has ledger entries or new members, or None."""
    firsts, lasts = [], []
    for model in (LedgerEntry, Member):
        span = model.objects.order_by().aggregate(first=Min("created_at"), last=Max("created_at"))
        if span["first"] is not None:
            firsts.append(timezone.localdate(span["first"]))
            lasts.append(timezone.localdate(span["last"]))
    if not firsts:
        return None
    return min(firsts), max(max(lasts), timezone.localdate())


def stats_rebuild(*, progress=None) -> int:
    """Recompute every figure from the first ledger entry on, a month per transaction.

    Rows outside the data's range are removed. `progress(month, rows)` is called per month.
    """
    span = stats_data_range()
    if span is None:
        StoreDayStats.objects.all().delete()
        RewardDayStats.objects.all().delete()
        MonthActiveMembers.objects.all().delete()
        return 0
    first, last = span
    StoreDayStats.objects.exclude(day__gte=first, day__lte=last).delete()
    RewardDayStats.objects.exclude(day__gte=first, day__lte=last).delete()
    MonthActiveMembers.objects.exclude(month__gte=_month_first(first), month__lte=last).delete()
    total = 0
    for month in _months(first, last):
        start = max(first, month)
        end = min(last, month + relativedelta(months=1) - timedelta(days=1))
        written = stats_recompute(start=start, end=end)
        total += written
        if progress is not None:
            progress(month, written)
    return total


def chain_check_run() -> ChainCheck:
    """Verify the consent log's hash chain now and keep the result."""
    report = consent_log_verify()
    return ChainCheck.objects.create(
        checked_at=timezone.now(),
        ok=report.ok,
        records_checked=report.checked,
        broken_seq=report.broken_seq,
        reason=report.reason[:200],
    )
