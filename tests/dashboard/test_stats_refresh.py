"""dashboard.services.stats_refresh: figures kept from the entries since the last run.

Whatever happens between runs (entries for days already counted, late entries, new members,
erasures before and after the watermark, several stores), the tables hold what a full
rebuild gives.
"""

from __future__ import annotations

import threading
from datetime import date

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from dashboard.models import FiguresWatermark, MonthActiveMembers, RewardDayStats, StoreDayStats
from dashboard.services import DAY_FIELDS, stats_rebuild, stats_recompute, stats_refresh
from loyalty.models import JoinChannel, LedgerEntry
from loyalty.privacy import member_subject_key
from privacy.registry import registry
from tests.dashboard.conftest import EntryKind, at, entry, member_joined
from tests.factories import MemberFactory, RewardFactory, StoreFactory


def figures() -> dict[str, list[tuple]]:
    """Every figure in the tables, rows in a fixed order, without ids and times."""
    return {
        "days": sorted(
            StoreDayStats.objects.values_list("store_id", "day", *DAY_FIELDS).order_by()
        ),
        "rewards": sorted(
            RewardDayStats.objects.values_list(
                "store_id", "day", "reward_id", "redemptions", "points"
            ).order_by()
        ),
        "months": sorted(
            MonthActiveMembers.objects.values_list(
                "store_id", "month", "active_members"
            ).order_by(),
            key=lambda r: (r[0] or 0, r[1]),
        ),
    }


def rebuilt() -> dict[str, list[tuple]]:
    """The figures a full rebuild gives now (rolled back: the tables stay as they were)."""
    with transaction.atomic():
        stats_rebuild(wait=0)
        full = figures()
        transaction.set_rollback(True)
    return full


def erase(member) -> dict[str, int]:
    """Run every registered eraser, in order, as the erasure ticket does."""
    key = member_subject_key(member)
    counts = {}
    for eraser in registry.erasers_in_order():
        counts.update({f"{eraser.name}.{k}": n for k, n in eraser.erase(key).items()})
    return counts


@pytest.fixture
def chain(db, gent, liege):
    coffee = RewardFactory(name="Coffee", point_cost=50, stores=[gent, liege])
    ann = member_joined(gent, at("2026-01-30 10:00"))
    bob = member_joined(gent, at("2026-01-31 23:30"), joined_via=JoinChannel.EID, email=None)
    cleo = member_joined(liege, at("2026-02-01 00:10"))
    for member, store, kind, points, when in [
        (ann, gent, EntryKind.EARN, 40, "2026-01-30 10:05"),
        (ann, gent, EntryKind.EARN, 25, "2026-01-31 23:59"),
        (bob, gent, EntryKind.EARN, 70, "2026-02-01 00:01"),
        (ann, liege, EntryKind.EARN, 12, "2026-02-01 09:00"),
        (cleo, liege, EntryKind.EARN, 0, "2026-02-01 09:30"),
        (ann, gent, EntryKind.ADJUST, -5, "2026-02-01 11:00"),
        (bob, gent, EntryKind.EXPIRE, -20, "2026-02-02 03:15"),
    ]:
        entry(member, store, kind, points, at(when))
    entry(ann, gent, EntryKind.REDEEM, -50, at("2026-02-01 10:00"), reward=coffee)
    return {"ann": ann, "bob": bob, "cleo": cleo, "coffee": coffee}


def test_the_first_refresh_is_a_rebuild_and_sets_the_watermark(chain):
    read = stats_refresh(wait=0)

    mark = FiguresWatermark.objects.get()
    assert mark.entries_upto == LedgerEntry.objects.latest("pk").pk
    assert read > 0
    assert figures() == rebuilt()
    assert StoreDayStats.objects.filter(day=date(2026, 2, 1)).count() == 2


def test_a_refresh_with_nothing_new_reads_nothing(chain, django_assert_max_num_queries):
    stats_refresh(wait=0)
    before = figures()

    with django_assert_max_num_queries(10):  # two maxima, the lock, two counts, the mark
        assert stats_refresh(wait=0) == 0

    assert figures() == before


def test_entries_arriving_across_runs_give_the_rebuilds_figures(chain, gent, liege):
    ann, bob, cleo, coffee = chain["ann"], chain["bob"], chain["cleo"], chain["coffee"]
    stats_refresh(wait=0)

    # given: a second run's worth: members already active that day and month (not counted
    # twice), one active at a second store the same month (chain-wide once), a late entry for
    # a day already counted, a new member, a redemption, a new day
    entry(ann, gent, EntryKind.EARN, 9, at("2026-02-01 20:00"))
    entry(bob, liege, EntryKind.EARN, 15, at("2026-02-01 21:00"))
    entry(cleo, liege, EntryKind.REDEEM, -50, at("2026-02-02 10:00"), reward=coffee)
    dan = member_joined(liege, at("2026-02-02 11:00"))
    entry(dan, liege, EntryKind.EARN, 30, at("2026-02-02 11:05"))
    entry(ann, gent, EntryKind.EARN, 5, at("2026-01-30 18:00"))  # late, for January
    read = stats_refresh(wait=0)

    assert read == 6  # five entries and one member: what was new, not the history
    assert figures() == rebuilt()

    # and a third run: March starts, February's members come back
    entry(ann, gent, EntryKind.EARN, 11, at("2026-03-01 09:00"))
    entry(ann, liege, EntryKind.EARN, 11, at("2026-03-01 09:30"))
    entry(ann, gent, EntryKind.REDEEM, -50, at("2026-03-01 09:45"), reward=coffee)
    stats_refresh(wait=0)

    assert figures() == rebuilt()
    march = MonthActiveMembers.objects.get(month=date(2026, 3, 1), store=None)
    assert march.active_members == 1


def test_erasure_takes_the_member_out_as_a_rebuild_would(chain, gent, liege):
    ann, bob, cleo = chain["ann"], chain["bob"], chain["cleo"]
    stats_refresh(wait=0)
    feb = MonthActiveMembers.objects.get(month=date(2026, 2, 1), store=None)
    assert feb.active_members == 3

    # when: ann (counted, at two stores) is erased between runs
    counts = erase(ann)

    # then: without a refresh, the tables already hold the rebuild's figures
    assert counts["dashboard.figures_adjusted"] > 0
    assert counts["loyalty.members"] == 1
    assert figures() == rebuilt()
    feb.refresh_from_db()
    assert feb.active_members == 2
    assert erase(ann)["dashboard.figures_adjusted"] == 0  # idempotent

    # given: entries beyond the watermark for bob, then bob erased before the next run;
    # a member who joined after the watermark, erased before being counted
    entry(bob, gent, EntryKind.EARN, 8, at("2026-02-02 12:00"))
    entry(bob, liege, EntryKind.EARN, 8, at("2026-02-03 12:00"))
    erik = member_joined(gent, at("2026-02-03 08:00"))
    entry(erik, gent, EntryKind.EARN, 3, at("2026-02-03 08:05"))
    entry(cleo, liege, EntryKind.EARN, 4, at("2026-02-03 09:00"))
    erase(bob)
    erase(erik)
    stats_refresh(wait=0)

    assert figures() == rebuilt()
    # the sales stay, the people go: February 3 at Gent has a purchase and no member
    gent_feb3 = StoreDayStats.objects.get(store=gent, day=date(2026, 2, 3))
    assert (gent_feb3.purchases, gent_feb3.active_members, gent_feb3.new_members_form) == (1, 0, 0)


def test_a_range_recompute_counts_up_to_the_watermark(chain, gent):
    stats_refresh(wait=0)
    entry(chain["ann"], gent, EntryKind.EARN, 9, at("2026-02-01 20:00"))

    # when: a repair of February 1 before the next run
    stats_recompute(start=date(2026, 2, 1), end=date(2026, 2, 1))
    stats_refresh(wait=0)

    # then: the new entry is counted once, by the refresh
    assert StoreDayStats.objects.get(store=gent, day=date(2026, 2, 1)).points_issued == 79
    assert figures() == rebuilt()


def test_many_stores_and_members_stay_equal_to_a_rebuild(db):
    stores = [StoreFactory() for _ in range(4)]
    members = [MemberFactory(home_store=stores[n % 4]) for n in range(12)]
    stats_refresh(wait=0)
    for run in range(3):
        for n, member in enumerate(members):
            if run == 2 and n in (4, 7):
                continue  # erased in the run before
            store = stores[(n + run) % 4]
            when = timezone.now() - timezone.timedelta(days=(n * 7 + run) % 40)
            entry(member, store, EntryKind.EARN, 5 + n, when)
            if n % 3 == run:
                entry(member, stores[0], EntryKind.REDEEM, -5, when)
        if run == 1:
            erase(members[4])
            erase(members[7])
        stats_refresh(wait=0)
        assert figures() == rebuilt()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_entry_still_uncommitted_below_a_committed_one_is_not_skipped(gent):
    # given: figures current, then a writer holds an id in an open transaction while a later
    # entry commits (ids come from a sequence at insert time, not at commit)
    member = MemberFactory(home_store=gent)
    stats_refresh(wait=0)
    inserted, release, done = threading.Event(), threading.Event(), threading.Event()

    def slow_writer():
        try:
            with transaction.atomic():
                entry(member, gent, EntryKind.EARN, 7, timezone.now())
                inserted.set()
                release.wait(10)
        finally:
            connections.close_all()
            done.set()

    writer = threading.Thread(target=slow_writer)
    writer.start()
    assert inserted.wait(10)
    later = entry(member, gent, EntryKind.EARN, 100, timezone.now())

    # when: a refresh runs meanwhile
    assert stats_refresh(wait=0.2) == 0

    # then: it did not move past the open writer's id; once that commits, both are counted
    assert FiguresWatermark.objects.get().entries_upto < later.pk
    release.set()
    assert done.wait(10)
    writer.join()
    stats_refresh(wait=0)
    assert StoreDayStats.objects.get(store=gent, day=timezone.localdate()).points_issued == 107
    assert connection.vendor == "postgresql"
