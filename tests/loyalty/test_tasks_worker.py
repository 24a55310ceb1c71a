"""Loyalty's beat task run through a real Celery worker on Redis (CI's second pass)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from loyalty.models import EntryKind, LedgerEntry
from loyalty.services import points_earn
from loyalty.tasks import expire_points
from tests.factories import MemberFactory, StoreFactory


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_expire_points_runs_on_the_real_worker(celery_worker):
    store = StoreFactory(code="GNT01")
    member = MemberFactory(home_store=store)
    points_earn(
        member=member, store=store, staff=None, amount="40", at=timezone.now() - timedelta(days=900)
    )

    result = expire_points.delay()

    assert result.get(timeout=60) == 1
    assert LedgerEntry.objects.get(kind=EntryKind.EXPIRE).points == -40
    member.refresh_from_db()
    assert member.points_balance == 0
