"""The figures of a period, from the summary tables (`dashboard.models`), never the ledger.

A page of figures runs a fixed number of queries, however many purchases the period holds.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db.models import Max, Q, Sum
from django.db.models.functions import TruncWeek
from django.utils.translation import gettext as _

from dashboard.models import MonthActiveMembers, RewardDayStats, StoreDayStats
from dashboard.selectors.common import OfficeAccess
from stores.models import Store


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
    """Return the tables in the active language: the page and its CSV read the same words."""
    stores = Table(
        key="stores",
        title=_("Figures per store"),
        headers=(
            _("store"),
            _("new members (form)"),
            _("new members (eID)"),
            _("purchases"),
            _("points issued"),
            _("points redeemed"),
            _("points expired"),
            _("points adjusted (net)"),
            _("points reversed (net)"),
            _("redemptions"),
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
        title=_("Per week"),
        headers=(
            _("week starting"),
            _("new members (form)"),
            _("new members (eID)"),
            _("points issued"),
            _("points redeemed"),
            _("points expired"),
            _("redemptions"),
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
        title=_("Redemptions per reward"),
        headers=(_("reward"), _("redemptions"), _("points")),
        rows=[(r["reward__name"], r["redemptions"], r["points"]) for r in f.rewards],
    )
    store_codes = [s.code for s in f.stores]
    active = Table(
        key="active",
        title=_("Active members per month"),
        headers=(_("month"), *([_("chain")] if f.chain_wide else []), *store_codes),
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
