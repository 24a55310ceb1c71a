"""Summary tables the dashboard reads instead of the ledger, and the consent chain's checks.

Every row here is derived: `dashboard.services.stats_refresh` adds the entries and members
written since its last run (the watermark in `FiguresWatermark`), and `stats_rebuild` /
`stats_recompute` recompute any range from the ledger and the members table, so a row can
always be thrown away and recomputed. They hold counts only, never a member.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from loyalty.models import Reward
from stores.models import Store


class StoreDayStats(models.Model):
    """One store's figures for one local day (Europe/Brussels)."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    new_members_form = models.PositiveIntegerField(default=0)
    new_members_eid = models.PositiveIntegerField(default=0)
    purchases = models.PositiveIntegerField(default=0)
    points_issued = models.BigIntegerField(default=0)
    points_redeemed = models.BigIntegerField(default=0)
    points_expired = models.BigIntegerField(default=0)
    points_adjusted = models.BigIntegerField(default=0, help_text="Net of manual adjustments.")
    points_reversed = models.BigIntegerField(default=0, help_text="Net of reversals.")
    redemptions = models.PositiveIntegerField(default=0)
    active_members = models.PositiveIntegerField(
        default=0, help_text="Members who earned or redeemed here that day."
    )
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["day", "store"]
        verbose_name_plural = "store day stats"
        constraints = [
            models.UniqueConstraint(fields=["store", "day"], name="store_day_stats_unique"),
        ]
        indexes = [models.Index(fields=["day", "store"], name="store_day_stats_day")]

    def __str__(self) -> str:
        return f"{self.store_id} {self.day}"


class RewardDayStats(models.Model):
    """How often a reward was redeemed at one store on one local day."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    reward = models.ForeignKey(Reward, on_delete=models.CASCADE, related_name="+")
    redemptions = models.PositiveIntegerField(default=0)
    points = models.BigIntegerField(default=0)
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["day", "store", "reward"]
        verbose_name_plural = "reward day stats"
        constraints = [
            models.UniqueConstraint(
                fields=["store", "day", "reward"], name="reward_day_stats_unique"
            ),
        ]
        indexes = [models.Index(fields=["day", "store"], name="reward_day_stats_day")]

    def __str__(self) -> str:
        return f"{self.store_id} {self.day} reward {self.reward_id}"


class MonthActiveMembers(models.Model):
    """Distinct members who earned or redeemed in a calendar month, at a store or chain-wide.

    Distinct counts do not add up across days or stores, so they are kept per month, per store
    and for the whole chain (store NULL).
    """

    month = models.DateField(help_text="The first day of the month.")
    store = models.ForeignKey(
        Store, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    active_members = models.PositiveIntegerField(default=0)
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["month", "store"]
        verbose_name_plural = "month active members"
        constraints = [
            models.UniqueConstraint(
                fields=["month", "store"],
                condition=Q(store__isnull=False),
                name="month_active_store_unique",
            ),
            models.UniqueConstraint(
                fields=["month"], condition=Q(store__isnull=True), name="month_active_chain_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.store_id or 'chain'}"


class FiguresWatermark(models.Model):
    """How far the summary tables have read the ledger and the members table (one row).

    Every ledger entry with id <= `entries_upto` and every member with id <= `members_upto`
    is counted in the figures; the next refresh reads only what lies beyond.
    """

    entries_upto = models.BigIntegerField(default=0)
    members_upto = models.BigIntegerField(default=0)
    refreshed_at = models.DateTimeField(help_text="The last incremental refresh.")
    rebuilt_at = models.DateTimeField(help_text="The last full rebuild.")

    def __str__(self) -> str:
        return f"figures up to entry {self.entries_upto}, member {self.members_upto}"


class ChainCheck(models.Model):
    """One verification of the consent log's hash chain (by the hourly task or on demand)."""

    checked_at = models.DateTimeField()
    ok = models.BooleanField()
    records_checked = models.PositiveBigIntegerField()
    broken_seq = models.PositiveBigIntegerField(null=True, blank=True)
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-checked_at", "-pk"]

    def __str__(self) -> str:
        return f"chain check {self.checked_at:%Y-%m-%d %H:%M} {'ok' if self.ok else 'broken'}"
