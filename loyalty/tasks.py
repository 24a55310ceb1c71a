"""Celery entry points of the loyalty app."""

from __future__ import annotations

from celery import shared_task
from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.utils import timezone

from loyalty import eid_services, services
from loyalty.selectors import members_with_expirable_points


@shared_task(name="loyalty.tasks.expire_points")
def expire_points() -> int:
    """Expire points older than the configured months; return how many members lost some."""
    now = timezone.now()
    cutoff = now - relativedelta(months=settings.LOYALTY_POINTS_EXPIRY_MONTHS)
    expired = 0
    for member_id in list(members_with_expirable_points(cutoff=cutoff).iterator()):
        if services.points_expire(member_id=member_id, cutoff=cutoff, at=now) is not None:
            expired += 1
    return expired


@shared_task(name="loyalty.tasks.expire_eid_scans")
def expire_eid_scans() -> int:
    """Close armed eID scans whose time ran out; return how many."""
    return eid_services.eid_scans_expire()
