import io
import random
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from loyalty.models import EntryKind, ExpiryWatermark, LedgerEntry
from loyalty.selectors import member_balance_from_ledger, members_with_expirable_points
from loyalty.services import points as points_module
from loyalty.services import points_earn, points_expire_due, points_redeem
from loyalty.tasks import expire_points
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db


def _ago(days):
    return timezone.now() - timedelta(days=days)


def test_oldest_points_expire_first_and_rerun_is_harmless(store, settings):
    settings.LOYALTY_POINTS_EXPIRY_MONTHS = 24
    member = MemberFactory()
    points_earn(member=member, store=store, staff=None, amount="100", at=_ago(800))  # old
    points_earn(member=member, store=store, staff=None, amount="50", at=_ago(10))  # recent
    # 30 points spent come out of the oldest credits, so 70 of the old ones are left to expire.
    points_redeem(member=member, store=store, staff=None, points=30)

    assert expire_points() == 1
    member.refresh_from_db()
    assert member.points_balance == 50
    expiry = LedgerEntry.objects.get(kind=EntryKind.EXPIRE)
    assert expiry.points == -70
    assert member_balance_from_ledger(member=member) == 50

    assert expire_points() == 0
    assert LedgerEntry.objects.filter(kind=EntryKind.EXPIRE).count() == 1


def test_spent_old_points_leave_nothing_to_expire(store):
    member = MemberFactory()
    points_earn(member=member, store=store, staff=None, amount="100", at=_ago(800))
    points_redeem(member=member, store=store, staff=None, points=100)
    points_earn(member=member, store=store, staff=None, amount="20", at=_ago(1))
    assert expire_points() == 0
    member.refresh_from_db()
    assert member.points_balance == 20


def test_expiry_does_not_count_as_activity(store):
    member = MemberFactory()
    points_earn(member=member, store=store, staff=None, amount="10", at=_ago(800))
    member.refresh_from_db()
    before = member.last_activity_at
    expire_points()
    member.refresh_from_db()
    assert member.last_activity_at == before


# The nightly run reads only the credits that fell behind the cutoff since the last run -------


def _member_with_history(store, rng, now):
    """A member with earns over three years and redemptions that fit their balance."""
    member = MemberFactory(home_store=store)
    for _ in range(rng.randint(1, 6)):
        days = rng.randint(0, 1100)
        points_earn(
            member=member,
            store=store,
            staff=None,
            amount=str(rng.randint(5, 80)),
            at=now - timedelta(days=days, hours=rng.randint(0, 23)),
        )
        member.refresh_from_db()
        if member.points_balance and rng.random() < 0.4:
            points_redeem(
                member=member,
                store=store,
                staff=None,
                points=rng.randint(1, member.points_balance),
                at=now - timedelta(days=rng.randint(0, days)),
            )
    return member


def _expired_members(after_id):
    return set(
        LedgerEntry.objects.filter(kind=EntryKind.EXPIRE, pk__gt=after_id).values_list(
            "member_id", flat=True
        )
    )


def _last_entry_id():
    return LedgerEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def test_nightly_runs_expire_what_a_whole_ledger_scan_finds(store):
    # given members with three years of history, expiry run night after night (cutoffs moving
    # by a day, then by a month: a missed month)
    rng = random.Random(16)
    now = timezone.now()
    members = [_member_with_history(store, rng, now) for _ in range(40)]
    cutoffs = [now - timedelta(days=d) for d in (900, 899, 898, 860, 730)]
    for cutoff in cutoffs:
        expected = set(members_with_expirable_points(cutoff=cutoff))
        before = _last_entry_id()
        # when
        count = points_expire_due(cutoff=cutoff, at=now)
        # then the members expired are those the whole-ledger scan names, and it names no more
        assert _expired_members(before) == expected
        assert count == len(expected)
        assert not members_with_expirable_points(cutoff=cutoff).exists()
        assert ExpiryWatermark.objects.get().credits_before == cutoff
    assert any(_expired_members(0))
    for member in members:
        member.refresh_from_db()
        assert member.points_balance == member_balance_from_ledger(member=member) >= 0


def test_a_rerun_writes_nothing_and_back_dated_credits_need_the_full_repair(store):
    now = timezone.now()
    cutoff = now - timedelta(days=730)
    member = MemberFactory(home_store=store)
    points_earn(member=member, store=store, staff=None, amount="30", at=now - timedelta(days=800))
    assert points_expire_due(cutoff=cutoff) == 1
    assert points_expire_due(cutoff=cutoff) == 0

    # given an import writes a credit from before the watermark
    late = MemberFactory(home_store=store)
    points_earn(member=late, store=store, staff=None, amount="25", at=now - timedelta(days=900))
    # when the nightly run goes on, it does not read behind its watermark
    assert points_expire_due(cutoff=cutoff + timedelta(days=1)) == 0
    # then the full run (the repair) weighs the whole history again
    assert points_expire_due(cutoff=cutoff + timedelta(days=1), full=True) == 1
    late.refresh_from_db()
    assert late.points_balance == 0
    assert LedgerEntry.objects.filter(kind=EntryKind.EXPIRE).count() == 2


def test_an_interrupted_run_continues_from_the_last_range_done(store, monkeypatch):
    now = timezone.now()
    cutoff = now - timedelta(days=730)
    early, later = MemberFactory(home_store=store), MemberFactory(home_store=store)
    points_earn(member=early, store=store, staff=None, amount="10", at=now - timedelta(days=800))
    points_earn(member=later, store=store, staff=None, amount="20", at=now - timedelta(days=760))
    real = points_module.points_expire

    def fail_for_later(*, member_id, **kwargs):
        if member_id == later.pk:
            raise RuntimeError("worker killed")
        return real(member_id=member_id, **kwargs)

    # given the run dies in the range holding the later member's credit
    monkeypatch.setattr(points_module, "points_expire", fail_for_later)
    with pytest.raises(RuntimeError):
        points_expire_due(cutoff=cutoff, step=timedelta(days=10))
    mark = ExpiryWatermark.objects.get().credits_before
    assert now - timedelta(days=800) < mark <= now - timedelta(days=760)
    # when it runs again
    monkeypatch.setattr(points_module, "points_expire", real)
    assert points_expire_due(cutoff=cutoff, step=timedelta(days=10)) == 1
    # then each member lost their points once
    assert list(
        LedgerEntry.objects.filter(kind=EntryKind.EXPIRE)
        .order_by("member_id")
        .values_list("member_id", "points")
    ) == sorted([(early.pk, -10), (later.pk, -20)])


def test_seed_demo_makes_the_next_run_weigh_the_whole_ledger(store):
    points_expire_due(cutoff=timezone.now())
    assert ExpiryWatermark.objects.exists()
    call_command("seed_demo", "--members", "3", "--quiet-logins", stdout=io.StringIO())
    assert not ExpiryWatermark.objects.exists()
