"""How purchases turn into points: the store's rule, campaigns and tiers.

Equal benefits by construction: nothing here receives a member. A campaign's conditions read
a `Purchase` (what the till sent) and `MemberFacts` (tier, first purchase at the store, times a
campaign applied) and nothing else, so how someone joined (form or eID), their consent or
their card link cannot change what they earn. `tests/loyalty/test_equal_benefits.py`
enumerates these fields and the signatures here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal

from django.utils import timezone

from stores.models import CampaignTrigger, Combination, EarningRule, Rounding
from stores.selectors import CampaignTerms, EarningTerms, TierTerms

_ROUNDING = {
    Rounding.DOWN: ROUND_FLOOR,
    Rounding.NEAREST: ROUND_HALF_UP,
    Rounding.UP: ROUND_CEILING,
}


@dataclass(frozen=True)
class BasketLine:
    """One line of the basket as the till sends it: product code, category, quantity, amount."""

    product: str
    category: str = ""
    quantity: int = 1
    amount: Decimal = Decimal("0")


@dataclass(frozen=True)
class Purchase:
    """What a condition may know of the purchase."""

    store_id: int
    amount: Decimal
    at: datetime
    lines: tuple[BasketLine, ...] = ()


@dataclass(frozen=True)
class MemberFacts:
    """What a condition may know of the member: earned by purchases, the same for every channel.

    Adding a field here is adding something campaigns can tell members apart by: the equal
    benefits test holds every field to the same value for a form, an eID and an anonymous eID
    member with the same purchases.
    """

    tier: str = ""
    first_at_store: bool = False
    uses: Mapping[int, int] = field(default_factory=dict)  # campaign id -> times applied


@dataclass(frozen=True)
class CouponGrant:
    campaign_id: int
    campaign: str
    value: Decimal | None
    product: str
    valid_days: int


@dataclass(frozen=True)
class Outcome:
    """What an earn (or a quote) comes to: the points, part by part, and coupons to issue."""

    points: int
    parts: tuple[dict, ...]
    campaign_ids: tuple[int, ...] = ()
    coupons: tuple[CouponGrant, ...] = ()


def _round(value: Decimal, rounding: str) -> int:
    return int(value.quantize(Decimal("1"), rounding=_ROUNDING[Rounding(rounding)]))


def points_for_purchase(
    *, amount: Decimal, rule: EarningTerms | EarningRule, multiplier: Decimal
) -> int:
    """Return the points a purchase of `amount` euros earns under this rule and multiplier."""
    if amount < rule.minimum_purchase:
        return 0
    return _round(amount * rule.points_per_euro * multiplier, rule.rounding)


def campaign_matches(
    campaign: CampaignTerms,
    *,
    purchase: Purchase,
    facts: MemberFacts | None,
    total_uses: Mapping[int, int] | None = None,
) -> bool:
    """Return whether the campaign's conditions hold for this purchase and member facts.

    `facts` None: only the conditions on the purchase are checked (those on the member are
    taken to hold), which is how the earn decides whether it needs the member's facts at all.
    """
    c = campaign
    if not c.starts_at <= purchase.at < c.ends_at:
        return False
    if c.store_ids and purchase.store_id not in c.store_ids:
        return False
    if c.days_of_week and timezone.localtime(purchase.at).isoweekday() not in c.days_of_week:
        return False
    if c.minimum_amount is not None and purchase.amount < c.minimum_amount:
        return False
    if (c.product_codes or c.categories) and not _matching_quantity(c, purchase.lines):
        return False
    if c.max_total is not None and (total_uses or {}).get(c.id, 0) >= c.max_total:
        return False
    if facts is None:
        return True
    if c.trigger == CampaignTrigger.FIRST_STORE_PURCHASE and not facts.first_at_store:
        return False
    if c.tiers and facts.tier not in c.tiers:
        return False
    return c.max_per_member is None or facts.uses.get(c.id, 0) < c.max_per_member


def _matching_quantity(c: CampaignTerms, lines: Iterable[BasketLine]) -> int:
    return sum(
        max(line.quantity, 0)
        for line in lines
        if line.product in c.product_codes or (line.category and line.category in c.categories)
    )


def _campaign_points(c: CampaignTerms, *, raw: Decimal, base: int, rounding: str, lines) -> int:
    extra = c.bonus_points
    if c.multiplier > 1:
        extra += _round(raw * c.multiplier, rounding) - base
    if c.points_per_product:
        extra += c.points_per_product * _matching_quantity(c, lines)
    return extra


def campaigns_combine(
    campaigns: Iterable[CampaignTerms], *, raw: Decimal, base: int, rounding: str, lines=()
) -> list[tuple[CampaignTerms, int]]:
    """Return the campaigns that apply with the points each adds: every "adds up" campaign,
    and of the "best one wins" campaigns the one that adds most (the oldest on a tie)."""
    scored = [
        (c, _campaign_points(c, raw=raw, base=base, rounding=rounding, lines=lines))
        for c in campaigns
    ]
    adding = [(c, p) for c, p in scored if c.combination == Combination.ADD]
    best = [(c, p) for c, p in scored if c.combination != Combination.ADD]
    if best:
        adding.insert(0, max(best, key=lambda cp: (cp[1], cp[0].issues_coupon, -cp[0].id)))
    return adding


def earn_outcome(
    *,
    purchase: Purchase,
    terms: EarningTerms,
    facts: MemberFacts,
    total_uses: Mapping[int, int] | None = None,
) -> Outcome:
    """Return what this purchase earns: base points, campaigns, tier bonus, coupons."""
    if purchase.amount < terms.minimum_purchase:
        return Outcome(points=0, parts=({"reason": "purchase", "points": 0},))
    raw = purchase.amount * terms.points_per_euro
    base = _round(raw, terms.rounding)
    parts: list[dict] = [{"reason": "purchase", "points": base}]
    triggers = {CampaignTrigger.PURCHASE, CampaignTrigger.FIRST_STORE_PURCHASE}
    matching = [
        c
        for c in terms.campaigns
        if c.trigger in triggers
        and campaign_matches(c, purchase=purchase, facts=facts, total_uses=total_uses)
    ]
    applied = campaigns_combine(
        matching, raw=raw, base=base, rounding=terms.rounding, lines=purchase.lines
    )
    for c, points in applied:
        parts.append({"reason": "campaign", "name": c.name, "campaign": c.id, "points": points})
    tier = terms.tier(facts.tier) if facts.tier else None
    if tier is not None and tier.multiplier > 1:
        bonus = _round(raw * tier.multiplier, terms.rounding) - base
        parts.append({"reason": "tier", "name": tier.name, "points": bonus})
    return Outcome(
        points=sum(p["points"] for p in parts),
        parts=tuple(parts),
        campaign_ids=tuple(c.id for c, _ in applied),
        coupons=tuple(_grant(c) for c, _ in applied if c.issues_coupon),
    )


def event_outcome(
    *,
    trigger: str,
    campaigns: Iterable[CampaignTerms],
    store_id: int,
    at: datetime,
    facts: MemberFacts,
    total_uses: Mapping[int, int] | None = None,
) -> Outcome:
    """Return what an event other than a purchase earns (joining, the anniversary, a return):
    the fixed bonuses and coupons of the campaigns on that trigger whose conditions hold."""
    purchase = Purchase(store_id=store_id, amount=Decimal("0"), at=at)
    matching = [
        c
        for c in campaigns
        if c.trigger == trigger
        and campaign_matches(
            _without_amount(c), purchase=purchase, facts=facts, total_uses=total_uses
        )
    ]
    applied = campaigns_combine(matching, raw=Decimal("0"), base=0, rounding=Rounding.DOWN)
    parts = tuple(
        {"reason": "campaign", "name": c.name, "campaign": c.id, "points": c.bonus_points}
        for c, _ in applied
    )
    return Outcome(
        points=sum(p["points"] for p in parts),
        parts=parts,
        campaign_ids=tuple(c.id for c, _ in applied),
        coupons=tuple(_grant(c) for c, _ in applied if c.issues_coupon),
    )


def _without_amount(c: CampaignTerms) -> CampaignTerms:
    # An event has no basket: its campaigns' purchase conditions do not apply to it.
    from dataclasses import replace

    return replace(c, minimum_amount=None, product_codes=frozenset(), categories=frozenset())


def _grant(c: CampaignTerms) -> CouponGrant:
    return CouponGrant(c.id, c.name, c.coupon_value, c.coupon_product, c.coupon_valid_days)


def earn_needs_member(*, purchase: Purchase, terms: EarningTerms) -> bool:
    """Return whether what this purchase earns depends on the member's facts at all.

    When it does not (no tiers, no campaign that could apply reads the member), the
    earn skips reading them: the counter's most frequent write stays one statement.
    """
    if terms.tiers:
        return True  # the earn may lift the member's tier, and the tier may pay a bonus
    return any(
        c.reads_member
        for c in terms.campaigns
        if c.trigger != CampaignTrigger.PURCHASE
        or campaign_matches(c, purchase=purchase, facts=None)
    )


def tier_for_points(tiers: Iterable[TierTerms], points: int) -> str:
    """Return the code of the highest tier these rolling 12-month points reach ("" for none)."""
    reached = [t for t in tiers if points >= t.threshold]
    return max(reached, key=lambda t: t.threshold).code if reached else ""


def tier_rank(tiers: Iterable[TierTerms], code: str) -> int:
    """Return the tier's place (0 for no tier), to compare an upgrade with a downgrade."""
    for rank, tier in enumerate(sorted(tiers, key=lambda t: t.threshold), start=1):
        if tier.code == code:
            return rank
    return 0
