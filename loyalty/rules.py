"""How purchases turn into points.

Equal benefits by construction: nothing here receives a member, so how someone joined
(form or eID) cannot change what they earn. A test checks these signatures.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal

from stores.models import EarningRule, Rounding
from stores.selectors import EarningTerms

_ROUNDING = {
    Rounding.DOWN: ROUND_FLOOR,
    Rounding.NEAREST: ROUND_HALF_UP,
    Rounding.UP: ROUND_CEILING,
}


def points_for_purchase(
    *, amount: Decimal, rule: EarningTerms | EarningRule, multiplier: Decimal
) -> int:
    """Return the points a purchase of `amount` euros earns under this rule and multiplier."""
    if amount < rule.minimum_purchase:
        return 0
    raw = amount * rule.points_per_euro * multiplier
    return int(raw.quantize(Decimal("1"), rounding=_ROUNDING[Rounding(rule.rounding)]))
