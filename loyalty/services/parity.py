"""The equal-benefits parity check (rule 2): the chain's own configuration, proven channel-blind.

A member who joined by the form and members who joined with the eID card (named and
anonymous) are made up, live the same seeded-random purchases at the chain's open stores
(basket lines with the product codes and categories its campaigns name), a partial return,
a tier recompute, coupon and points redemptions; what they end with is compared. All of it
happens in a transaction that is always rolled back, each member in a savepoint of its own
(so a campaign's cap "in total" is the same for each): no member, ledger row, webhook outbox
row or mail survives; only the result does, in `ParityRun`, which names nobody.

The engine never receives the member (tests hold `loyalty.rules` to it); this check is the
proof at run time, against the campaigns, tiers and rules head office actually set.
"""

from __future__ import annotations

import logging
import random
import secrets
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.errors import ApplicationError
from loyalty.models import CampaignApplication, Coupon, JoinChannel, LedgerEntry, ParityRun
from loyalty.rules import BasketLine
from loyalty.selectors import member_coupons
from loyalty.services.coupons import coupon_redeem
from loyalty.services.earn import points_earn
from loyalty.services.members import (
    member_enroll_anonymous_by_eid,
    member_enroll_by_eid,
    member_enroll_by_form,
)
from loyalty.services.points import points_redeem
from loyalty.services.returns import points_pending, points_return
from loyalty.services.tiers import member_tier_recompute
from stores.models import Store
from stores.selectors import EarningTerms, earning_terms

logger = logging.getLogger(__name__)

PARITY_CASES = 5
PARITY_RUNS_KEPT = 30
# Every member is compared with the form member, in this order.
CHANNELS = (JoinChannel.FORM, JoinChannel.EID, JoinChannel.EID_ANONYMOUS)
# What is compared, in the order a difference is looked for (the steps first: the earliest).
ASPECTS = ("steps", "balance", "owed", "tier", "coupons", "campaign_uses", "ledger", "pending")
NEUTRAL_PRODUCT = "PARITY"
# A step as the command says it (the office's page has its own words, translated).
STEP_WORDS = {
    "purchase": "purchase {n} at {store}",
    "return": "return of purchase {n}",
    "tier": "tier recompute",
    "coupon": "coupon redemption {n}",
    "redeem": "redemption of {n} points",
}


@dataclass(frozen=True)
class Sale:
    store: int  # index in the open stores
    amount: Decimal
    lines: tuple[BasketLine, ...]


@dataclass(frozen=True)
class Case:
    """What every member of one case does, decided before any of them does it."""

    sales: tuple[Sale, ...]
    returned: int  # index of the sale partly returned
    return_percent: int
    coupons_redeemed: int
    points_redeemed: int


@dataclass
class ParityResult:
    passed: bool
    cases: int
    seed: int
    difference: str = ""
    detail: dict = field(default_factory=dict)
    # How much the cases exercised (entries, coupons, campaign uses, tiers reached), summed
    # over the form member's cases: a check that earned nothing proves nothing.
    seen: Counter = field(default_factory=Counter)


def parity_case(*, rng: random.Random, stores: int, terms: list[EarningTerms]) -> Case:
    """Return one case: purchases that meet the campaigns' conditions and some that do not."""
    campaigns = [c for t in terms for c in t.campaigns]
    products = sorted({p for c in campaigns for p in c.product_codes}) or [NEUTRAL_PRODUCT]
    categories = [*sorted({k for c in campaigns for k in c.categories}), ""]
    minimums = sorted({c.minimum_amount for c in campaigns if c.minimum_amount})
    sales = []
    for _ in range(rng.randint(3, 6)):
        store = rng.randrange(stores)
        cents = rng.randint(100, 8_000)
        if minimums and rng.random() < 0.5:
            cents = int(rng.choice(minimums) * 100) + rng.randint(0, 2_000)
        lines = tuple(
            BasketLine(
                rng.choice([*products, NEUTRAL_PRODUCT]),
                rng.choice(categories),
                rng.randint(1, 3),
                Decimal(rng.randint(100, 1_500)) / 100,
            )
            for _ in range(rng.randint(0, 3))
        )
        sales.append(Sale(store, Decimal(cents) / 100, lines))
    # One purchase large enough for the lowest tier at its store, when the chain has tiers.
    store = rng.randrange(stores)
    if terms[store].tiers and terms[store].points_per_euro > 0:
        lowest = min(t.threshold for t in terms[store].tiers)
        euros = Decimal(lowest) / terms[store].points_per_euro + rng.randint(1, 20)
        cap = Decimal(settings.LOYALTY_MAX_PURCHASE_AMOUNT)
        sales.insert(rng.randrange(len(sales) + 1), Sale(store, min(euros.quantize(1), cap), ()))
    return Case(
        sales=tuple(sales),
        returned=rng.randrange(len(sales)),
        return_percent=rng.choice((25, 50, 75)),
        coupons_redeemed=rng.randint(1, 2),
        points_redeemed=rng.randint(1, 60),
    )


def _enroll(channel: str, store: Store):
    # Made up for the run and rolled back with it: nobody's data, and no address that could
    # be anyone's (.invalid is reserved, RFC 2606).
    token = secrets.token_hex(32)
    if channel == JoinChannel.FORM:
        return member_enroll_by_form(
            store=store,
            given_name="Parity",
            surname="Check",
            email=f"parity-{token[:16]}@example.invalid",
            phone="+32470000000",
        )
    if channel == JoinChannel.EID:
        return member_enroll_by_eid(
            store=store, given_name="Parity", surname="Check", eid_token=token
        )
    return member_enroll_anonymous_by_eid(store=store, eid_token=token)


def _attempt(steps: list, step: tuple[str, int, str], call) -> None:
    """Do one step; note what it gave (points, a tier, a coupon's value) or its error code."""
    try:
        steps.append((*step, call()))
    except ApplicationError as error:
        steps.append((*step, error.code))


def _live(case: Case, channel: str, stores: list[Store]) -> dict:
    """Let a new member of `channel` live the case; return what they end with (no codes)."""
    member = _enroll(channel, stores[0])
    steps: list = []
    for n, sale in enumerate(case.sales):
        _attempt(
            steps,
            ("purchase", n + 1, stores[sale.store].code),
            lambda sale=sale, n=n: (
                points_earn(
                    member=member,
                    store=stores[sale.store],
                    staff=None,
                    amount=sale.amount,
                    reference=f"PARITY-{n + 1}",
                    lines=sale.lines,
                ).points
            ),
        )
    sale = case.sales[case.returned]
    part = (sale.amount * case.return_percent / 100).quantize(Decimal("0.01"))
    _attempt(
        steps,
        ("return", case.returned + 1, stores[sale.store].code),
        lambda: (
            points_return(
                member=member,
                store=stores[sale.store],
                staff=None,
                sale_reference=f"PARITY-{case.returned + 1}",
                amount=part,
            ).points
        ),
    )
    _attempt(
        steps,
        ("tier", 0, ""),
        lambda: getattr(member_tier_recompute(member_id=member.pk), "tier", None),
    )
    for n, coupon in enumerate(list(member_coupons(member=member))[: case.coupons_redeemed]):
        _attempt(
            steps,
            ("coupon", n + 1, stores[-1].code),
            lambda coupon=coupon: str(
                coupon_redeem(code=coupon.code, store=stores[-1], staff=None, member=member).value
            ),
        )
    _attempt(
        steps,
        ("redeem", case.points_redeemed, stores[0].code),
        lambda: (
            points_redeem(
                member=member, store=stores[0], staff=None, points=case.points_redeemed
            ).points
        ),
    )
    member.refresh_from_db()
    entries = LedgerEntry.objects.filter(member=member).select_related("store").order_by("pk")
    return {
        "steps": steps,
        "balance": member.points_balance,
        "owed": member.points_owed,
        "tier": (member.tier, member.tier_points, member.tier_kept_until is not None),
        "coupons": sorted(
            (str(c.value), c.product, c.redeemed_at is not None, c.campaign_id or 0)
            for c in Coupon.objects.filter(member=member)
        ),
        "campaign_uses": sorted(
            Counter(
                CampaignApplication.objects.filter(member=member).values_list(
                    "campaign_id", flat=True
                )
            ).items()
        ),
        "ledger": [(e.kind, e.store.code, e.points, e.balance_after) for e in entries],
        "pending": points_pending(member=member),
    }


def _first_difference(case_no: int, channel: str, form: dict, other: dict) -> dict | None:
    """Return the first difference as parts: case, aspect, the step if one, both values."""
    for aspect in ASPECTS:
        a, b = form[aspect], other[aspect]
        if a == b:
            continue
        found = {"case": case_no, "aspect": aspect, "channel": str(channel)}
        if isinstance(a, list) and isinstance(b, list):
            # The first item that differs, not two whole histories.
            at = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), None)
            if at is None:
                a, b = len(a), len(b)
                found["count"] = True
            elif aspect == "steps" and a[at][:3] == b[at][:3]:
                found["step"] = dict(zip(("kind", "n", "store"), a[at][:3], strict=True))
                a, b = a[at][3], b[at][3]
            else:
                a, b = a[at], b[at]
        found.update(form=str(a)[:100], other=str(b)[:100])
        return found
    return None


def difference_text(detail: dict) -> str:
    """Return the difference in English (the command's and the log's words)."""
    what = detail["aspect"].replace("_", " ")
    if step := detail.get("step"):
        what = STEP_WORDS[step["kind"]].format(**step)
    if detail.get("count"):
        what = f"number of {what}"
    return (
        f"case {detail['case']}, {what}: form member {detail['form']}, "
        f"{detail['channel']} member {detail['other']}"
    )[:300]


def parity_check(*, seed: int, cases: int = PARITY_CASES) -> ParityResult:
    """Run the check against the chain's configuration now; keep nothing (see the module)."""
    stores = list(Store.objects.filter(is_active=True).order_by("code"))
    result = ParityResult(passed=True, cases=0, seed=seed)
    if not stores:
        result.passed = False
        result.detail = {"aspect": "no_store"}
        result.difference = "no open store: nothing to check"
        return result
    terms = [earning_terms(s) for s in stores]
    with transaction.atomic():
        try:
            for n in range(1, cases + 1):
                case = parity_case(
                    rng=random.Random(seed * 1_000 + n), stores=len(stores), terms=terms
                )
                ended = {}
                for channel in CHANNELS:
                    saved = transaction.savepoint()
                    try:
                        ended[channel] = _live(case, channel, stores)
                    finally:
                        transaction.savepoint_rollback(saved)
                result.cases = n
                form = ended[JoinChannel.FORM]
                result.seen.update(
                    entries=len(form["ledger"]),
                    coupons=len(form["coupons"]),
                    campaign_uses=sum(k for _, k in form["campaign_uses"]),
                    tiers=bool(form["tier"][0]),
                )
                for channel in CHANNELS[1:]:
                    found = _first_difference(n, channel, form, ended[channel])
                    if found is not None:
                        result.passed = False
                        result.detail = found
                        result.difference = difference_text(found)
                        return result
        finally:
            transaction.set_rollback(True)
    return result


def parity_check_run(*, seed: int | None = None, cases: int = PARITY_CASES) -> ParityRun:
    """Run the parity check now and keep its result (the last `PARITY_RUNS_KEPT` only)."""
    seed = secrets.randbelow(2**31) if seed is None else seed
    try:
        result = parity_check(seed=seed, cases=cases)
    except Exception as exc:
        # A check that breaks proves nothing: it is a failure the office sees, not a pass.
        logger.exception("parity check could not run (seed %s)", seed)
        name = type(exc).__name__
        result = ParityResult(
            passed=False,
            cases=0,
            seed=seed,
            difference=f"the check could not run: {name}",
            detail={"aspect": "error", "error": name},
        )
    with transaction.atomic():
        run = ParityRun.objects.create(
            ran_at=timezone.now(),
            passed=result.passed,
            cases=result.cases,
            seed=result.seed,
            difference=result.difference,
            detail=result.detail,
        )
        old = ParityRun.objects.order_by("-ran_at", "-pk").values_list("pk", flat=True)
        ParityRun.objects.filter(pk__in=list(old[PARITY_RUNS_KEPT:])).delete()
    if not run.passed:
        logger.error("parity check failed (seed %s): %s", seed, run.difference)
    return run
