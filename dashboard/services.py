"""Every write of the dashboard: its summary tables, kept current incrementally, and chain checks.

Three ways in, one set of figures:

- `stats_refresh` (the beat task, every ten minutes): reads only the ledger entries and the
  members beyond the watermark (`FiguresWatermark`) and adds them to the tables, so its cost
  follows the day's work, not the history. Distinct counts (active members per day and per
  month) stay exact: a member is added to a day or a month only if none of their entries
  already counted falls in it.
- `stats_recompute` (a range of days) and `stats_rebuild` (everything): recompute from the
  ledger, for repair. The rebuild moves the watermark to now; a range recompute counts up to
  the watermark, so the next refresh neither misses nor repeats an entry.
- `figures_retract_members`: erasure unlinks a member's entries and deletes the member, which
  takes them out of the distinct and new-member counts a rebuild would give; this takes them
  out of the tables the same way, before the unlink.

Progress is kept by id, not by time: entries carry the time the counter saw them, which need
not follow the order they commit in. Before it moves past id N, the refresh waits (on
PostgreSQL) for every transaction that was writing when N was read, so no id at or below N
can commit afterwards. All writes to the tables happen with the watermark row locked.
"""

from __future__ import annotations

import logging
import time as clock
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime, time, timedelta

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db import connection, models, transaction
from django.db.models import Count, Exists, Max, Min, OuterRef, Q, Sum
from django.db.models.functions import Coalesce, TruncDate, TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import InvalidInput
from dashboard.models import (
    ChainCheck,
    FiguresWatermark,
    MonthActiveMembers,
    RewardDayStats,
    StoreDayStats,
)
from loyalty.models import EntryKind, JoinChannel, LedgerEntry, Member
from privacy.chain import consent_log_verify

logger = logging.getLogger(__name__)

ACTIVE_KINDS = (EntryKind.EARN, EntryKind.REDEEM)
MARK_PK = 1
DAY_FIELDS = (
    "new_members_form",
    "new_members_eid",
    "purchases",
    "points_issued",
    "points_redeemed",
    "points_expired",
    "points_adjusted",
    "points_reversed",
    "redemptions",
    "active_members",
)
REWARD_FIELDS = ("redemptions", "points")
MONTH_FIELDS = ("active_members",)

Figures = dict[tuple, Counter]


class FiguresBusy(Exception):
    """Writers that started before the refresh are still open; it tries again next time."""


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


def _local_day() -> TruncDate:
    return TruncDate("created_at", tzinfo=timezone.get_current_timezone())


def _local_month() -> TruncMonth:
    return TruncMonth(
        "created_at", tzinfo=timezone.get_current_timezone(), output_field=models.DateField()
    )


def _as_date(value) -> date:
    return value.date() if isinstance(value, datetime) else value


# What a set of rows adds to the figures: {key: Counter(field=n)}.
def _ledger_figures(entries) -> Figures:
    """Sums and counts per (store, local day) of these ledger entries (not the distinct ones)."""

    def points(kind: str) -> Sum:
        return Sum("points", filter=Q(kind=kind), default=0)

    groups = (
        entries.annotate(on=_local_day())
        .values("store_id", "on")
        .annotate(
            purchases=Count("pk", filter=Q(kind=EntryKind.EARN)),
            issued=points(EntryKind.EARN),
            redeemed=points(EntryKind.REDEEM),
            expired=points(EntryKind.EXPIRE),
            adjusted=points(EntryKind.ADJUST),
            reversed=points(EntryKind.REVERSE),
            redemptions=Count("pk", filter=Q(kind=EntryKind.REDEEM)),
        )
        .order_by()
    )
    out: Figures = defaultdict(Counter)
    for g in groups:
        out[(g["store_id"], _as_date(g["on"]))].update(
            purchases=g["purchases"],
            points_issued=g["issued"],
            points_redeemed=-g["redeemed"],
            points_expired=-g["expired"],
            points_adjusted=g["adjusted"],
            points_reversed=g["reversed"],
            redemptions=g["redemptions"],
        )
    return out


def _new_members_figures(members) -> Figures:
    groups = (
        members.annotate(on=_local_day())
        .values("home_store_id", "on", "joined_via")
        .annotate(n=Count("pk"))
        .order_by()
    )
    out: Figures = defaultdict(Counter)
    for g in groups:
        field = "new_members_eid" if g["joined_via"] == JoinChannel.EID else "new_members_form"
        out[(g["home_store_id"], _as_date(g["on"]))][field] += g["n"]
    return out


def _reward_figures(entries) -> Figures:
    groups = (
        entries.filter(kind=EntryKind.REDEEM, reward__isnull=False)
        .annotate(on=_local_day())
        .values("store_id", "on", "reward_id")
        .annotate(n=Count("pk"), spent=Sum("points"))
        .order_by()
    )
    out: Figures = defaultdict(Counter)
    for g in groups:
        out[(g["store_id"], _as_date(g["on"]), g["reward_id"])].update(
            redemptions=g["n"], points=-g["spent"]
        )
    return out


def _active_figures(
    entries,
    *,
    period: Callable[[], models.Func],
    per_store: bool,
    counted_upto: int | None = None,
    counted_since: datetime | None = None,
) -> Figures:
    """Distinct members active (earn, redeem) per period (and store) among these entries.

    With `counted_upto`, a member whose entries up to that id already make them active in the
    same period (and store) is left out: the result is what these entries add to the counts.
    """
    active = entries.filter(kind__in=ACTIVE_KINDS, member__isnull=False).annotate(on=period())
    if counted_upto is not None:
        counted = LedgerEntry.objects.filter(
            member_id=OuterRef("member_id"),
            kind__in=ACTIVE_KINDS,
            pk__lte=counted_upto,
            created_at__gte=counted_since,
        )
        if per_store:
            counted = counted.filter(store_id=OuterRef("store_id"))
        counted = counted.annotate(counted_on=period()).filter(counted_on=OuterRef("on"))
        active = active.exclude(Exists(counted))
    keys = ("store_id", "on") if per_store else ("on",)
    groups = active.values(*keys).annotate(n=Count("member_id", distinct=True)).order_by()
    out: Figures = defaultdict(Counter)
    for g in groups:
        key = (g["store_id"], _as_date(g["on"])) if per_store else (None, _as_date(g["on"]))
        out[key]["active_members"] += g["n"]
    return out


def _merge(*parts: Figures) -> Figures:
    out: Figures = defaultdict(Counter)
    for part in parts:
        for key, counts in part.items():
            out[key].update(counts)
    return out


# Writing figures.
def _add(model, keys: tuple[str, ...], fields: tuple[str, ...], deltas: Figures, now) -> int:
    """Add `deltas` to the rows of `model` (created at 0 where missing); drop rows left at 0."""
    deltas = {k: v for k, v in deltas.items() if any(v.values())}
    if not deltas:
        return 0
    lookup = {f"{name}__in": {k[i] for k in deltas} for i, name in enumerate(keys)}
    if None in lookup.get("store_id__in", ()):
        stores = lookup.pop("store_id__in") - {None}
        rows = model.objects.filter(Q(store_id__in=stores) | Q(store__isnull=True), **lookup)
    else:
        rows = model.objects.filter(**lookup)
    existing = {tuple(getattr(r, name) for name in keys): r for r in rows}
    changed, created, emptied = [], [], []
    for key, counts in deltas.items():
        row = existing.get(key)
        if row is None:
            row = model(**dict(zip(keys, key, strict=True)), computed_at=now)
            created.append(row)
        else:
            changed.append(row)
        for field, n in counts.items():
            setattr(row, field, getattr(row, field) + n)
        row.computed_at = now
        if not any(getattr(row, field) for field in fields):
            emptied.append(row)
    emptied_ids = [r.pk for r in emptied if r.pk is not None]
    if emptied_ids:
        model.objects.filter(pk__in=emptied_ids).delete()
    model.objects.bulk_update(
        [r for r in changed if r not in emptied], [*fields, "computed_at"], batch_size=1000
    )
    model.objects.bulk_create([r for r in created if r not in emptied], batch_size=1000)
    return len(deltas)


def _add_all(day: Figures, reward: Figures, month: Figures, now) -> int:
    return (
        _add(StoreDayStats, ("store_id", "day"), DAY_FIELDS, day, now)
        + _add(RewardDayStats, ("store_id", "day", "reward_id"), REWARD_FIELDS, reward, now)
        + _add(MonthActiveMembers, ("store_id", "month"), MONTH_FIELDS, month, now)
    )


# The watermark.
def _mark_locked(*, create: bool = False) -> FiguresWatermark | None:
    """Return the watermark row locked for this transaction (created at 0 if asked), or None."""
    if create:
        now = timezone.now()
        FiguresWatermark.objects.get_or_create(
            pk=MARK_PK, defaults={"refreshed_at": now, "rebuilt_at": now}
        )
    return FiguresWatermark.objects.select_for_update().filter(pk=MARK_PK).first()


def _open_writers() -> list[tuple[int, datetime]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid, xact_start FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            " AND backend_type = 'client backend' AND xact_start IS NOT NULL"
            " AND (backend_xid IS NOT NULL OR state = 'active')"
        )
        return [tuple(row) for row in cursor.fetchall()]


def _settled_marks(*, wait: float) -> tuple[int, int]:
    """Return the highest ledger entry and member ids below which nothing can still commit.

    On PostgreSQL an id is taken from a sequence when a row is inserted, not when it commits:
    a transaction still open may hold a lower id than the highest one visible. So wait, up
    to `wait` seconds, for the transactions writing when the ids were read; raise
    FiguresBusy if some are still open then. (SQLite has one writer at a time.)
    """
    entries = LedgerEntry.objects.order_by().aggregate(n=Max("pk"))["n"] or 0
    members = Member.objects.order_by().aggregate(n=Max("pk"))["n"] or 0
    if connection.vendor != "postgresql":
        return entries, members
    writers = _open_writers()
    deadline = clock.monotonic() + wait
    while writers:
        still = set(_open_writers())
        writers = [w for w in writers if w in still]
        if not writers:
            break
        if clock.monotonic() >= deadline:
            raise FiguresBusy(f"{len(writers)} transaction(s) still open")
        clock.sleep(0.02)
    return entries, members


# Full recomputation.
def _recompute(*, start: date, end: date, entries_upto: int | None, members_upto: int | None):
    now = timezone.now()
    lo, hi = _bounds(start, end)
    entries = LedgerEntry.objects.filter(created_at__gte=lo, created_at__lt=hi)
    members = Member.objects.filter(created_at__gte=lo, created_at__lt=hi)
    if entries_upto is not None:
        entries = entries.filter(pk__lte=entries_upto)
    if members_upto is not None:
        members = members.filter(pk__lte=members_upto)
    days = _merge(
        _ledger_figures(entries),
        _active_figures(entries, period=_local_day, per_store=True),
        _new_members_figures(members),
    )
    rewards = _reward_figures(entries)
    StoreDayStats.objects.filter(day__gte=start, day__lte=end).delete()
    RewardDayStats.objects.filter(day__gte=start, day__lte=end).delete()
    written = _add(StoreDayStats, ("store_id", "day"), DAY_FIELDS, days, now)
    _add(RewardDayStats, ("store_id", "day", "reward_id"), REWARD_FIELDS, rewards, now)
    for month in _months(start, end):
        m_lo, m_hi = _bounds(month, month + relativedelta(months=1) - timedelta(days=1))
        in_month = LedgerEntry.objects.filter(created_at__gte=m_lo, created_at__lt=m_hi)
        if entries_upto is not None:
            in_month = in_month.filter(pk__lte=entries_upto)
        active = _merge(
            _active_figures(in_month, period=_local_month, per_store=True),
            _active_figures(in_month, period=_local_month, per_store=False),
        )
        MonthActiveMembers.objects.filter(month=month).delete()
        _add(MonthActiveMembers, ("store_id", "month"), MONTH_FIELDS, active, now)
    return written


@transaction.atomic
def stats_recompute(*, start: date, end: date) -> int:
    """Recompute every store's figures for local days start..end and the months they touch.

    Counts what the watermark covers (everything, before the first refresh). Returns the
    number of day rows written. Idempotent: the range's rows are replaced.
    """
    if end < start:
        raise InvalidInput(_("The end of the range comes before its start."))
    mark = _mark_locked()
    return _recompute(
        start=start,
        end=end,
        entries_upto=mark.entries_upto if mark else None,
        members_upto=mark.members_upto if mark else None,
    )


def _data_range(entries_upto: int, members_upto: int) -> tuple[date, date] | None:
    firsts, lasts = [], []
    for model, upto in ((LedgerEntry, entries_upto), (Member, members_upto)):
        span = (
            model.objects.filter(pk__lte=upto)
            .order_by()
            .aggregate(first=Min("created_at"), last=Max("created_at"))
        )
        if span["first"] is not None:
            firsts.append(timezone.localdate(span["first"]))
            lasts.append(timezone.localdate(span["last"]))
    if not firsts:
        return None
    return min(firsts), max(max(lasts), timezone.localdate())


def _rebuild_locked(mark: FiguresWatermark, entries_upto: int, members_upto: int, progress):
    span = _data_range(entries_upto, members_upto)
    total = 0
    if span is None:
        StoreDayStats.objects.all().delete()
        RewardDayStats.objects.all().delete()
        MonthActiveMembers.objects.all().delete()
    else:
        first, last = span
        StoreDayStats.objects.exclude(day__gte=first, day__lte=last).delete()
        RewardDayStats.objects.exclude(day__gte=first, day__lte=last).delete()
        MonthActiveMembers.objects.exclude(month__gte=_month_first(first), month__lte=last).delete()
        for month in _months(first, last):
            start = max(first, month)
            end = min(last, month + relativedelta(months=1) - timedelta(days=1))
            written = _recompute(
                start=start, end=end, entries_upto=entries_upto, members_upto=members_upto
            )
            total += written
            if progress is not None:
                progress(month, written)
    now = timezone.now()
    mark.entries_upto, mark.members_upto = entries_upto, members_upto
    mark.refreshed_at = mark.rebuilt_at = now
    mark.save()
    return total


def stats_rebuild(*, progress=None, wait: float | None = None) -> int:
    """Recompute every figure from the first ledger entry on and move the watermark to now.

    The repair path: one transaction (erasures wait for it). Rows outside the data's range are
    removed. `progress(month, rows)` is called per month. Returns the day rows written.
    """
    entries_upto, members_upto = _settled_marks(wait=_wait(wait))
    with transaction.atomic():
        mark = _mark_locked(create=True)
        return _rebuild_locked(
            mark,
            max(entries_upto, mark.entries_upto),
            max(members_upto, mark.members_upto),
            progress,
        )


def _wait(wait: float | None) -> float:
    return settings.DASHBOARD_REFRESH_WAIT_SECONDS if wait is None else wait


# The incremental refresh.
def stats_refresh(*, wait: float | None = None) -> int:
    """Add the ledger entries and members written since the last run to the figures.

    Returns the number of entries and members read. The first run (no watermark yet) is a
    full rebuild. If writers that started earlier are still open after `wait` seconds, it
    leaves the figures as they are (logged) and the next run catches up.
    """
    try:
        entries_upto, members_upto = _settled_marks(wait=_wait(wait))
    except FiguresBusy as busy:
        logger.warning("dashboard figures not refreshed: %s", busy)
        return 0
    with transaction.atomic():
        mark = _mark_locked()
        if mark is None:
            mark = _mark_locked(create=True)
            _rebuild_locked(mark, entries_upto, members_upto, None)
            return entries_upto + members_upto
        now = timezone.now()
        entries = LedgerEntry.objects.filter(
            pk__gt=mark.entries_upto, pk__lte=max(entries_upto, mark.entries_upto)
        )
        members = Member.objects.filter(
            pk__gt=mark.members_upto, pk__lte=max(members_upto, mark.members_upto)
        )
        read = entries.count() + members.count()
        if read:
            # Coalesce(x, x) is x, but not an indexed column: PostgreSQL reads the new rows by
            # their ids instead of walking the created_at index from the ledger's first day
            # until it meets one of them (10 s at 4M entries, 25 ms this way, for 10,000 new).
            first = entries.order_by().aggregate(at=Min(Coalesce("created_at", "created_at")))["at"]
            day, month = _active_since(first)
            days = _merge(
                _ledger_figures(entries),
                _active_figures(
                    entries,
                    period=_local_day,
                    per_store=True,
                    counted_upto=mark.entries_upto,
                    counted_since=day,
                ),
                _new_members_figures(members),
            )
            months = _merge(
                *(
                    _active_figures(
                        entries,
                        period=_local_month,
                        per_store=per_store,
                        counted_upto=mark.entries_upto,
                        counted_since=month,
                    )
                    for per_store in (True, False)
                )
            )
            _add_all(days, _reward_figures(entries), months, now)
        mark.entries_upto = max(entries_upto, mark.entries_upto)
        mark.members_upto = max(members_upto, mark.members_upto)
        mark.refreshed_at = now
        mark.save(update_fields=["entries_upto", "members_upto", "refreshed_at"])
    return read


def _active_since(first: datetime | None) -> tuple[datetime, datetime]:
    """Where the local day and the local month of `first` begin (the counted rows to consult)."""
    if first is None:
        now = timezone.now()
        return now, now
    on = timezone.localdate(first)
    return _bounds(on, on)[0], _bounds(_month_first(on), on)[0]


def stats_refresh_if_no_scheduler(*, max_age: timedelta = timedelta(minutes=1)) -> None:
    """Keep today's figures current where no Celery beat runs (tasks in-process, `make run`).

    With a broker, beat refreshes them every ten minutes and this does nothing.
    """
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        return
    mark = FiguresWatermark.objects.filter(pk=MARK_PK).first()
    if mark is not None:
        latest = mark.refreshed_at
    else:
        latest = StoreDayStats.objects.aggregate(at=Max("computed_at"))["at"]
    if latest is None or timezone.now() - latest > max_age:
        stats_refresh()


# Erasure.
@transaction.atomic
def figures_retract_members(*, member_ids: Iterable[int]) -> dict[int, int]:
    """Take members about to be erased out of the counts that know them, in one pass over the
    tables; return for each member the rows its erasure alone changes (its share of the proof).

    Erasure unlinks a member's ledger entries and deletes the member: a rebuild afterwards no
    longer counts them among a day's or a month's active members, nor among the members who
    joined that day. This gives the tables the same figures now, for what the watermark has
    counted; what lies beyond it is read after the unlink. Call it in the erasure's
    transaction, before the unlink. Idempotent once the members are gone.
    """
    ids = list(member_ids)
    mark = _mark_locked() if ids else None
    if mark is None:
        return dict.fromkeys(ids, 0)
    days, months, touched = _retractions(ids, mark)
    _add_all(days, {}, months, timezone.now())
    return {pk: len(touched.get(pk, ())) for pk in ids}


def _retractions(ids: list[int], mark: FiguresWatermark) -> tuple[Figures, Figures, dict]:
    """Return the day and month deltas that take these members out, and per member the
    (table, key) pairs it touches."""
    rows = (
        LedgerEntry.objects.filter(
            member_id__in=ids, kind__in=ACTIVE_KINDS, pk__lte=mark.entries_upto
        )
        .order_by()
        .values_list("member_id", "store_id", "created_at")
    )
    store_days, store_months, chain_months = set(), set(), set()
    for member_id, store_id, created_at in rows:
        on = timezone.localdate(created_at)
        store_days.add((member_id, store_id, on))
        store_months.add((member_id, store_id, _month_first(on)))
        chain_months.add((member_id, None, _month_first(on)))
    touched: dict[int, set] = defaultdict(set)
    days: Figures = defaultdict(Counter)
    for member_id, store_id, on in store_days:
        days[(store_id, on)]["active_members"] -= 1
        touched[member_id].add(("day", store_id, on))
    joined = Member.objects.filter(pk__in=ids, pk__lte=mark.members_upto).values_list(
        "pk", "home_store_id", "created_at", "joined_via"
    )
    for member_id, store_id, created_at, via in joined:
        field = "new_members_eid" if via == JoinChannel.EID else "new_members_form"
        on = timezone.localdate(created_at)
        days[(store_id, on)][field] -= 1
        touched[member_id].add(("day", store_id, on))
    months: Figures = defaultdict(Counter)
    for member_id, store_id, month in store_months | chain_months:
        months[(store_id, month)]["active_members"] -= 1
        touched[member_id].add(("month", store_id, month))
    return days, months, touched


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
