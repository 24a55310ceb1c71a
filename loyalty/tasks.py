"""Celery entry points of the loyalty app."""

from __future__ import annotations

from celery import shared_task
from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.utils import timezone

from loyalty import eid_services, services


@shared_task(name="loyalty.tasks.expire_points")
def expire_points(full: bool = False) -> int:
    """Expire points older than the configured months; return how many members lost some.

    Reads only the credits that fell behind the cutoff since the last run (`full`: all)."""
    now = timezone.now()
    cutoff = now - relativedelta(months=settings.LOYALTY_POINTS_EXPIRY_MONTHS)
    return services.points_expire_due(cutoff=cutoff, at=now, full=full)


@shared_task(name="loyalty.tasks.expire_eid_scans")
def expire_eid_scans() -> int:
    """Close armed eID scans whose time ran out; return how many."""
    return eid_services.eid_scans_expire()


@shared_task(name="loyalty.tasks.tiers_recompute")
def tiers_recompute() -> int:
    """Recompute every member's tier from their rolling 12 months; return how many changed."""
    from loyalty.services.tiers import member_tier_recompute, members_for_tier_recompute

    now = timezone.now()
    changed = 0
    for member_id in list(members_for_tier_recompute().iterator()):
        member = member_tier_recompute(member_id=member_id, now=now)
        changed += bool(member is not None and member.tier_changed)
    return changed


@shared_task(name="loyalty.tasks.anniversaries_reward")
def anniversaries_reward() -> int:
    """Give today's membership anniversaries their campaigns; return how many members."""
    from loyalty.services.events import anniversaries_today

    return anniversaries_today(now=timezone.now())


@shared_task(name="loyalty.tasks.webhook_deliver")
def webhook_deliver(delivery_id: str) -> str | None:
    """Make one attempt at a webhook delivery; a failure is retried by the sweep, later."""
    from loyalty.services import webhooks

    return webhooks.webhook_deliver(delivery_id=delivery_id)


@shared_task(name="loyalty.tasks.webhooks_sweep")
def webhooks_sweep() -> int:
    """Send again the webhook deliveries due (failed before, or never handed to the broker)."""
    from loyalty.services import webhooks

    return webhooks.webhooks_sweep()


@shared_task(name="loyalty.tasks.parity_check")
def parity_check() -> bool:
    """Check that a form member and eID members doing the same things end the same (rule 2),
    against the chain's configuration, and keep the result; return whether they did."""
    from loyalty.services.parity import parity_check_run

    return parity_check_run().passed
