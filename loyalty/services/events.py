"""Campaigns on events other than a purchase: joining, the membership anniversary, a return.

The same for every member whatever channel they joined by: the three ways of joining call
`member_event_reward` alike, and conditions read `MemberFacts` only.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.db import transaction
from django.utils import timezone

from loyalty.models import CampaignApplication, EntryKind, Member, MemberStatus
from loyalty.rules import Outcome, event_outcome
from loyalty.selectors import campaign_uses_total, member_facts
from loyalty.services.effects import outcome_apply
from loyalty.services.ledger import _lock_member, _write
from stores.models import CampaignTrigger, Store
from stores.selectors import campaigns_in_force, earning_terms


@transaction.atomic
def member_event_reward(
    *,
    member: Member,
    trigger: str,
    store: Store,
    at: datetime | None = None,
    reference: str = "",
) -> Outcome | None:
    """Give the member what the campaigns on this event give: bonus points, coupons.

    Returns the outcome, or None when no campaign applied.
    """
    at = at or timezone.now()
    # The store's cached terms hold its campaigns of every trigger: no query when none applies.
    campaigns = [
        c
        for c in earning_terms(store).campaigns
        if c.trigger == trigger and c.starts_at <= at < c.ends_at
    ]
    if not campaigns:
        return None
    locked = _lock_member(member)
    facts = member_facts(member=locked, store=store, campaigns=campaigns)
    total = campaign_uses_total(campaigns, lock=True)
    outcome = event_outcome(
        trigger=trigger,
        campaigns=campaigns,
        store_id=store.pk,
        at=at,
        facts=facts,
        total_uses=total,
    )
    if not outcome.campaign_ids:
        return None
    entry = None
    if outcome.points:
        entry = _write(
            member=locked,
            store=store,
            staff=None,
            kind=EntryKind.BONUS,
            points=outcome.points,
            at=at,
            activity=False,
            detail=list(outcome.parts),
            reference=reference[:64],
        )
        member.points_balance = locked.points_balance
    outcome_apply(member=locked, entry=entry, outcome=outcome, at=at)
    return outcome


def anniversaries_today(*, now: datetime | None = None) -> int:
    """Reward the members whose membership has its anniversary today; return how many.

    Idempotent: a member already rewarded by an anniversary campaign this year is skipped.
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    campaigns = campaigns_in_force(now=now, trigger=CampaignTrigger.ANNIVERSARY)
    if not campaigns:
        return 0
    days = [(today.month, today.day)]
    if (today.month, today.day) == (2, 28) and not _leap(today.year):
        days.append((2, 29))  # joined on 29 February: celebrated on the 28th
    # Already rewarded by an anniversary campaign this year: left out by the members' query.
    # Not the uses an erasure unlinked: a NULL in NOT IN would leave every member out.
    rewarded_this_year = CampaignApplication.objects.filter(
        campaign_id__in=[c.id for c in campaigns],
        applied_on__gt=today - timedelta(days=300),
        member__isnull=False,
    ).values("member_id")
    rewarded = 0
    for month, day in days:
        members = Member.objects.filter(
            status=MemberStatus.ACTIVE,
            created_at__month=month,
            created_at__day=day,
            created_at__lt=now - timedelta(days=300),
        )
        members = members.exclude(pk__in=rewarded_this_year).select_related("home_store")
        for member in members.iterator():
            outcome = member_event_reward(
                member=member,
                trigger=CampaignTrigger.ANNIVERSARY,
                store=member.home_store,
                at=now,
            )
            rewarded += outcome is not None
    return rewarded


def _leap(year: int) -> bool:
    try:
        date(year, 2, 29)
    except ValueError:
        return False
    return True
