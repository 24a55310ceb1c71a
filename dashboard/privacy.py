"""What erasure does to the dashboard: the erased member leaves the figures that count them.

The summary tables hold counts only; but a member erased today must no longer be counted
among last March's active members, as a rebuild after the erasure would not count them.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from dashboard.services import figures_retract_members
from loyalty.models import Member
from loyalty.privacy import member_ids_from_subject_keys
from privacy.registry import Traces, registry

# Before loyalty's eraser (100), which unlinks the entries this reads.
ORDER = 50


def erase_from_figures(subject_keys: list[str]) -> dict[str, dict[str, int]]:
    """Take the members behind these keys out of the counts that know them, the tables
    updated once (idempotent: a member already gone counts 0)."""
    key_of = {pk: key for key, pk in member_ids_from_subject_keys(subject_keys).items()}
    present = Member.objects.filter(pk__in=list(key_of)).values_list("pk", flat=True)
    each = figures_retract_members(member_ids=list(present))
    found = {key_of[pk]: n for pk, n in each.items()}
    return {key: {"figures_adjusted": found.get(key, 0)} for key in subject_keys}


def register() -> None:
    """Plug the dashboard into privacy's registry (called once, from DashboardConfig.ready)."""
    registry.register_eraser(
        "dashboard",
        order=ORDER,
        covers=("dashboard.StoreDayStats", "dashboard.MonthActiveMembers"),
        labels={"figures_adjusted": _("figures that counted the member")},
        erase_many=erase_from_figures,
    )
    registry.declare_traces(
        "dashboard.RewardDayStats",
        "dashboard.FiguresWatermark",
        "dashboard.ChainCheck",
        traces=Traces.NONE,
        reason=(
            "redemptions per reward, store and day (the sales the ledger keeps anyway), the "
            "figures' position, the consent log's checks: counts only"
        ),
    )
