from datetime import timedelta

import pytest
from django.utils import timezone

from loyalty.models import EntryKind, LedgerEntry
from loyalty.selectors import member_balance_from_ledger
from loyalty.services import points_earn, points_redeem
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
