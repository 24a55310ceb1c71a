"""What an earn or an event writes besides its ledger entry: campaign uses, coupons, tiers."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from django.utils import timezone

from loyalty.models import CampaignApplication, Coupon, LedgerEntry, Member
from loyalty.rules import CouponGrant, Outcome, tier_for_points, tier_rank
from loyalty.services import webhooks
from stores.selectors import TierTerms

# No 0/O, 1/I/L: read out at a counter, typed at a till.
_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 12


def coupon_code_generate() -> str:
    """Return a fresh random coupon code (12 characters, about 59 bits)."""
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(CODE_LENGTH))


def coupon_from_grant(
    *, member: Member | None, grant: CouponGrant, at: datetime, entry: LedgerEntry | None = None
) -> Coupon:
    return Coupon(
        code=coupon_code_generate(),
        member=member,
        issued_entry=entry,
        campaign_id=grant.campaign_id,
        value=grant.value,
        product=grant.product,
        issued_at=at,
        expires_at=at + timedelta(days=grant.valid_days),
    )


def tier_lift(*, member: Member, points: int, tiers: tuple[TierTerms, ...]) -> list[str]:
    """Add an earn's points to the member's rolling 12-month points and lift their tier if
    they reach a higher one (never lowered here: the daily task does that, after the grace).
    Return the member's fields changed."""
    if not points:
        return []
    member.tier_points += points
    changed = ["tier_points"]
    reached = tier_for_points(tiers, member.tier_points)
    if tier_rank(tiers, reached) > tier_rank(tiers, member.tier):
        member.tier = reached
        member.tier_kept_until = None
        changed += ["tier", "tier_kept_until"]
    return changed


def outcome_apply(
    *,
    member: Member,
    entry: LedgerEntry | None,
    outcome: Outcome | None,
    at: datetime | None = None,
) -> list[Coupon]:
    """Record the campaigns that applied to this entry and issue their coupons."""
    if outcome is None:
        return []
    at = at or (entry.created_at if entry is not None else None) or timezone.now()
    entry_id = entry.pk if entry is not None else None
    if outcome.campaign_ids:
        CampaignApplication.objects.bulk_create(
            [
                CampaignApplication(
                    campaign_id=cid,
                    member_id=member.pk,
                    entry_id=entry_id,
                    applied_on=timezone.localdate(at),
                )
                for cid in outcome.campaign_ids
            ]
        )
    coupons = [
        coupon_from_grant(member=member, grant=g, at=at, entry=entry) for g in outcome.coupons
    ]
    if coupons:
        Coupon.objects.bulk_create(coupons)
        webhooks.coupons_issued(coupons=coupons, member=member, at=at)
    return coupons
