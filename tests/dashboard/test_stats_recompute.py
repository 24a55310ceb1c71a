"""dashboard.services.stats_recompute: the summary tables agree with the raw ledger."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.management import call_command
from django.db.models import Sum

from dashboard.models import MonthActiveMembers, RewardDayStats, StoreDayStats
from dashboard.services import stats_rebuild, stats_recompute
from loyalty.models import EidCard, JoinChannel, LedgerEntry
from tests.dashboard.conftest import EntryKind, at, entry, member_joined
from tests.factories import RewardFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def ledger(gent, liege):
    """Two stores, three members, a month of movements crossing midnight and a month end."""
    coffee = RewardFactory(name="Coffee", point_cost=50, stores=[gent, liege])
    bag = RewardFactory(name="Bag", point_cost=120, stores=[gent])
    ann = member_joined(gent, at("2026-01-30 10:00"))
    bob = member_joined(gent, at("2026-01-31 23:30"), joined_via=JoinChannel.EID, email=None)
    EidCard.objects.create(member=bob, token="b" * 64)
    cleo = member_joined(liege, at("2026-02-01 00:10"))
    rows = [
        (ann, gent, EntryKind.EARN, 40, "2026-01-30 10:05"),
        (ann, gent, EntryKind.EARN, 25, "2026-01-31 23:59"),
        (bob, gent, EntryKind.EARN, 70, "2026-02-01 00:01"),  # after midnight: 1 February
        (ann, liege, EntryKind.EARN, 12, "2026-02-01 09:00"),
        (cleo, liege, EntryKind.EARN, 0, "2026-02-01 09:30"),  # below the minimum: 0 points
        (ann, gent, EntryKind.ADJUST, -5, "2026-02-01 11:00"),
        (bob, gent, EntryKind.EXPIRE, -20, "2026-02-02 03:15"),
        (ann, gent, EntryKind.REVERSE, -25, "2026-02-02 12:00"),
    ]
    for member, store, kind, points, when in rows:
        entry(member, store, kind, points, at(when))
    entry(ann, gent, EntryKind.REDEEM, -50, at("2026-02-01 10:00"), reward=coffee)
    entry(bob, gent, EntryKind.REDEEM, -50, at("2026-02-01 10:30"), reward=coffee)
    entry(cleo, liege, EntryKind.REDEEM, -120, at("2026-02-02 10:00"), reward=bag)
    return {"ann": ann, "bob": bob, "cleo": cleo, "coffee": coffee, "bag": bag}


def day(store, on):
    return StoreDayStats.objects.get(store=store, day=on)


def test_a_day_is_counted_from_the_ledger_in_local_time(ledger, gent, liege):
    stats_recompute(start=date(2026, 1, 30), end=date(2026, 2, 2))

    jan31 = day(gent, date(2026, 1, 31))
    assert (jan31.points_issued, jan31.purchases, jan31.active_members) == (25, 1, 1)
    assert (jan31.new_members_form, jan31.new_members_eid) == (0, 1)
    feb1 = day(gent, date(2026, 2, 1))
    assert feb1.points_issued == 70
    assert (feb1.points_redeemed, feb1.redemptions) == (100, 2)
    assert feb1.points_adjusted == -5
    assert feb1.active_members == 2
    liege_feb1 = day(liege, date(2026, 2, 1))
    assert (liege_feb1.purchases, liege_feb1.points_issued, liege_feb1.new_members_form) == (
        2,
        12,
        1,
    )
    feb2 = day(gent, date(2026, 2, 2))
    assert (feb2.points_expired, feb2.points_reversed, feb2.active_members) == (20, -25, 0)


def test_totals_match_the_raw_ledger(ledger):
    stats_recompute(start=date(2026, 1, 1), end=date(2026, 2, 28))

    def raw(kind):
        return LedgerEntry.objects.filter(kind=kind).aggregate(s=Sum("points"))["s"]

    sums = StoreDayStats.objects.aggregate(
        issued=Sum("points_issued"),
        redeemed=Sum("points_redeemed"),
        expired=Sum("points_expired"),
        members=Sum("new_members_form") + Sum("new_members_eid"),
    )
    assert sums["issued"] == raw(EntryKind.EARN)
    assert sums["redeemed"] == -raw(EntryKind.REDEEM)
    assert sums["expired"] == -raw(EntryKind.EXPIRE)
    assert sums["members"] == 3


def test_redemptions_per_reward(ledger, gent, liege):
    stats_recompute(start=date(2026, 2, 1), end=date(2026, 2, 2))

    rows = {
        (r.store.code, r.reward.name): (r.redemptions, r.points)
        for r in RewardDayStats.objects.select_related("store", "reward")
    }
    assert rows == {("GNT01", "Coffee"): (2, 100), ("LIE01", "Bag"): (1, 120)}


def test_active_members_are_distinct_per_month_per_store_and_chain_wide(ledger, gent, liege):
    stats_recompute(start=date(2026, 1, 30), end=date(2026, 2, 2))

    def active(month, store):
        return MonthActiveMembers.objects.get(month=month, store=store).active_members

    assert active(date(2026, 1, 1), gent) == 1  # ann
    assert active(date(2026, 1, 1), None) == 1
    assert active(date(2026, 2, 1), gent) == 2  # ann and bob
    assert active(date(2026, 2, 1), liege) == 2  # ann and cleo
    assert active(date(2026, 2, 1), None) == 3  # ann counted once across both stores


def test_recompute_is_idempotent_and_follows_changes(ledger, gent):
    stats_recompute(start=date(2026, 2, 1), end=date(2026, 2, 1))
    first = list(StoreDayStats.objects.values_list("store_id", "day", "points_issued"))

    stats_recompute(start=date(2026, 2, 1), end=date(2026, 2, 1))
    assert list(StoreDayStats.objects.values_list("store_id", "day", "points_issued")) == first

    # given a late entry for that day, a re-run counts it
    entry(ledger["ann"], gent, EntryKind.EARN, 9, at("2026-02-01 20:00"))
    stats_recompute(start=date(2026, 2, 1), end=date(2026, 2, 1))
    assert day(gent, date(2026, 2, 1)).points_issued == 79


def test_a_day_whose_rows_vanished_is_emptied(ledger, gent):
    stats_recompute(start=date(2026, 2, 2), end=date(2026, 2, 2))
    assert StoreDayStats.objects.filter(day=date(2026, 2, 2)).exists()

    LedgerEntry.objects.filter(created_at__gte=at("2026-02-02 00:00")).delete()
    stats_recompute(start=date(2026, 2, 2), end=date(2026, 2, 2))

    assert not StoreDayStats.objects.filter(day=date(2026, 2, 2)).exists()


def test_rebuild_covers_everything_and_equals_a_range_recompute(ledger):
    stats_rebuild()
    rebuilt = sorted(
        StoreDayStats.objects.values_list("store_id", "day", "points_issued", "active_members")
    )

    StoreDayStats.objects.all().delete()
    stats_recompute(start=date(2026, 1, 30), end=date(2026, 2, 2))
    again = sorted(
        StoreDayStats.objects.values_list("store_id", "day", "points_issued", "active_members")
    )

    assert rebuilt == again
    assert len(rebuilt) == 6


def test_the_rebuild_command(ledger, capsys):
    call_command("dashboard_rebuild")

    assert "Dashboard figures rebuilt: 6 store-day row(s)" in capsys.readouterr().out


def test_the_beat_task_refreshes_today(gent, ledger):
    from django.utils import timezone

    from dashboard.tasks import stats_refresh

    entry(ledger["ann"], gent, EntryKind.EARN, 33, timezone.now())

    stats_refresh.delay()

    assert day(gent, timezone.localdate()).points_issued == 33
