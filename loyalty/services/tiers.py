"""Tiers: recomputed from the rolling 12 months' points, downgraded only after the grace."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from loyalty.models import Member
from loyalty.rules import tier_for_points, tier_rank
from loyalty.selectors import member_tier_points
from loyalty.services import webhooks
from stores.selectors import tier_terms


@transaction.atomic
def member_tier_recompute(*, member_id: int, now: datetime | None = None) -> Member | None:
    """Recompute the member's 12-month points and tier (idempotent: a re-run changes nothing).

    A higher tier is given at once; a lower one only once the member has stayed below for
    `LOYALTY_TIER_GRACE_DAYS` (the grace starts the first time the points are found short).
    """
    now = now or timezone.now()
    member = Member.objects.select_for_update().filter(pk=member_id).first()
    if member is None:
        return None
    tiers = tier_terms()
    points = member_tier_points(member_id=member.pk, now=now)
    reached = tier_for_points(tiers, points)
    changed = {"tier_points": points}
    if tier_rank(tiers, reached) >= tier_rank(tiers, member.tier):
        changed.update(tier=reached, tier_kept_until=None)
    elif member.tier_kept_until is None:
        changed["tier_kept_until"] = now + timedelta(days=settings.LOYALTY_TIER_GRACE_DAYS)
    elif now >= member.tier_kept_until:
        changed.update(tier=reached, tier_kept_until=None)
    fields = [name for name, value in changed.items() if getattr(member, name) != value]
    previous_tier = member.tier
    member.tier_changed = "tier" in fields
    for name in fields:
        setattr(member, name, changed[name])
    if fields:
        member.save(update_fields=fields)
    if member.tier_changed:
        webhooks.tier_changed(member=member, previous=previous_tier, at=now)
    return member


def members_for_tier_recompute():
    """Return the ids of members whose tier or 12-month points may have to change."""
    from django.db.models import Q

    since = timezone.now() - timedelta(days=366)
    return (
        Member.objects.filter(Q(tier_points__gt=0) | ~Q(tier="") | Q(last_activity_at__gte=since))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
