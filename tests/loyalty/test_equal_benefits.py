"""Equal benefits by construction (GDPR Art. 7(4); Belgian DPA decision 06/2019)."""

import dataclasses
import inspect
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.errors import ApplicationError
from loyalty import rules
from loyalty.models import Coupon, JoinChannel, LedgerEntry
from loyalty.rules import BasketLine, MemberFacts, Purchase
from loyalty.selectors import member_coupons, member_facts
from loyalty.services import (
    coupon_redeem,
    coupons_issue_bulk,
    member_enroll_anonymous_by_eid,
    member_enroll_by_eid,
    member_enroll_by_form,
    points_earn,
    points_pending,
    points_redeem,
    points_return,
)
from loyalty.services.tiers import member_tier_recompute
from stores.models import Campaign, Tier
from stores.selectors import campaign_terms, earning_terms_forget
from tests.factories import EarningRuleFactory, RewardFactory, StoreFactory

pytestmark = pytest.mark.django_db


def test_form_eid_and_anonymous_eid_members_end_with_identical_balances(store, cashier):
    # given one member of each of the three kinds and the same basket history
    EarningRuleFactory(store=store, points_per_euro=Decimal("1.50"))
    reward = RewardFactory(point_cost=40, stores=[store])
    form = member_enroll_by_form(
        store=store,
        given_name="Wout",
        surname="Claes",
        email="wout@example.be",
        phone="+32471111111",
    )
    eid = member_enroll_by_eid(
        store=store, given_name="Nina", surname="Hermans", eid_token="cd" * 32
    )
    anonymous = member_enroll_anonymous_by_eid(store=store, eid_token="ef" * 32)
    assert form.joined_via == JoinChannel.FORM and eid.joined_via == JoinChannel.EID
    assert anonymous.joined_via == JoinChannel.EID_ANONYMOUS and not anonymous.surname
    outcomes = {}
    for member in (form, eid, anonymous):
        entries = [
            points_earn(member=member, store=store, staff=cashier, amount=amount)
            for amount in ("12.40", "3.99", "87.00", "0.50")
        ]
        entries.append(points_redeem(member=member, store=store, staff=cashier, reward=reward))
        entries.append(points_redeem(member=member, store=store, staff=cashier, points=17))
        member.refresh_from_db()
        outcomes[member.joined_via] = ([e.points for e in entries], member.points_balance)
    # then
    assert outcomes[JoinChannel.FORM] == outcomes[JoinChannel.EID]
    assert outcomes[JoinChannel.FORM] == outcomes[JoinChannel.EID_ANONYMOUS]


def test_the_points_rule_never_receives_the_member():
    for name, fn in inspect.getmembers(rules, inspect.isfunction):
        if fn.__module__ != rules.__name__:
            continue
        params = set(inspect.signature(fn).parameters)
        assert not params & {"member", "joined_via", "channel"}, name


# What a campaign condition can read -------------------------------------------------------
# Every field a condition may read, by where it comes from. A new field must be added here,
# and the tests below hold it to one value for members of every channel.
CONDITION_INPUTS = {
    Purchase: {"store_id", "amount", "at", "lines"},
    BasketLine: {"product", "category", "quantity", "amount"},
    MemberFacts: {"tier", "first_at_store", "uses"},
}
# Words that name how a member joined or what follows from it (contact details only the form
# asks, a card link only the eID gives, consent only the eID records, the anonymous option).
CHANNEL_WORDS = (
    "join",
    "channel",
    "via",
    "consent",
    "eid",
    "card",
    "token",
    "email",
    "phone",
    "name",
    "anonym",
    "guardian",
    "notice",
    "scan",
)
# stores.Campaign's fields, each a condition, an effect or bookkeeping: a new field is one
# of them, and a new condition must read CONDITION_INPUTS only.
CAMPAIGN_FIELDS = {
    "condition": {
        "trigger",
        "starts_at",
        "ends_at",
        "store",
        "store_codes",
        "days_of_week",
        "minimum_amount",
        "product_codes",
        "categories",
        "tiers",
        "max_per_member",
        "max_total",
    },
    "effect": {
        "multiplier",
        "bonus_points",
        "points_per_product",
        "coupon_value",
        "coupon_product",
        "coupon_valid_days",
        "combination",
    },
    "bookkeeping": {"id", "name", "created_by", "applications"},
}


def test_every_field_a_condition_can_read_is_listed_and_none_can_name_the_channel():
    for cls, listed in CONDITION_INPUTS.items():
        names = {f.name for f in dataclasses.fields(cls)}
        assert names == listed, f"{cls.__name__}: list the new field in CONDITION_INPUTS"
        for name in names:
            assert not any(word in name.lower() for word in CHANNEL_WORDS), (cls, name)


def test_every_campaign_field_is_a_condition_an_effect_or_bookkeeping():
    fields = {f.name for f in Campaign._meta.get_fields()}
    assert fields == set().union(*CAMPAIGN_FIELDS.values())
    for name in CAMPAIGN_FIELDS["condition"]:
        assert not any(word in name for word in CHANNEL_WORDS), name


def test_the_engine_receives_only_the_listed_inputs():
    allowed = {"campaign", "campaigns", "purchase", "facts", "terms", "total_uses", "trigger"}
    allowed |= {"store_id", "at", "raw", "base", "rounding", "lines", "amount", "rule"}
    allowed |= {"multiplier", "tiers", "points", "code", "c", "value"}
    for name, fn in inspect.getmembers(rules, inspect.isfunction):
        if fn.__module__ != rules.__name__:
            continue
        assert set(inspect.signature(fn).parameters) <= allowed, name


class _OnlyIdAndTier:
    """A member that has nothing but what `member_facts` may read."""

    __slots__ = ("pk", "tier")

    def __init__(self, pk, tier):
        self.pk, self.tier = pk, tier


def _fact_campaigns(store):
    now = timezone.now()
    window = {
        "starts_at": now - timedelta(days=1),
        "ends_at": now + timedelta(days=1),
        "combination": "add",
    }
    return [
        campaign_terms(c)
        for c in (
            Campaign.objects.create(
                store=store, name="cap", max_per_member=3, bonus_points=1, **window
            ),
            Campaign.objects.create(
                store=store, name="first", trigger="first_store", bonus_points=2, **window
            ),
            Campaign.objects.create(
                store=store, name="gold", tiers=["gold"], bonus_points=3, **window
            ),
        )
    ]


def test_member_facts_read_the_member_id_and_tier_only(store, cashier):
    member = member_enroll_by_eid(
        store=store, given_name="Nina", surname="Hermans", eid_token="ab" * 32
    )
    campaigns = _fact_campaigns(store)
    points_earn(member=member, store=store, staff=cashier, amount="10")

    facts = member_facts(member=_OnlyIdAndTier(member.pk, ""), store=store, campaigns=campaigns)

    assert facts.first_at_store is False
    assert facts.uses == {campaigns[0].id: 1}


def test_member_facts_are_the_same_whatever_channel_the_member_joined_by(store, cashier):
    # given: a member of each channel with the same purchases, at two stores
    Tier.objects.create(code="gold", name="Gold", threshold=20)
    other = StoreFactory(code="LIE01")
    campaigns = _fact_campaigns(store)
    members = [
        member_enroll_by_form(
            store=store,
            given_name="Wout",
            surname="Claes",
            email="w@example.be",
            phone="+32471111111",
        ),
        member_enroll_by_eid(
            store=store, given_name="Nina", surname="Hermans", eid_token="cd" * 32
        ),
        member_enroll_anonymous_by_eid(store=store, eid_token="ef" * 32),
    ]
    facts = []
    for member in members:
        for amount in ("12.00", "9.00"):
            points_earn(member=member, store=store, staff=cashier, amount=amount)
        member.refresh_from_db()
        facts.append(
            [member_facts(member=member, store=s, campaigns=campaigns) for s in (store, other)]
        )
    # then: every field a condition reads is the same for the three
    for field in dataclasses.fields(MemberFacts):
        values = [[getattr(f, field.name) for f in per_store] for per_store in facts]
        assert values[0] == values[1] == values[2], field.name
    assert facts[0][0].tier == "gold"


# Equal benefits as a property -------------------------------------------------------------
# For random campaigns, tiers, coupons, baskets and returns, a form member, an eID member and
# an anonymous eID member who do the same things end with the same points, tier, coupons and
# redemptions. Each member lives the example in a world built afresh (a savepoint rolled back
# after), so that caps "in total" are the same for each.

_amounts = st.integers(min_value=100, max_value=20_000).map(lambda c: Decimal(c) / 100)
_lines = st.lists(
    st.tuples(st.sampled_from(["A", "B"]), st.sampled_from(["x", ""]), st.integers(1, 3)),
    max_size=3,
)
_campaign = st.fixed_dictionaries(
    {
        "trigger": st.sampled_from(["purchase", "purchase", "first_store", "join", "return"]),
        "store": st.sampled_from([None, 0, 1]),
        "combination": st.sampled_from(["best", "add"]),
        "minimum_amount": st.sampled_from([None, Decimal("20")]),
        "product_codes": st.sampled_from([[], ["A"]]),
        "categories": st.sampled_from([[], ["x"]]),
        "tiered": st.booleans(),
        "max_per_member": st.sampled_from([None, 1, 2]),
        "max_total": st.sampled_from([None, 2]),
        "multiplier": st.sampled_from([Decimal("1"), Decimal("2")]),
        "bonus_points": st.sampled_from([0, 5]),
        "points_per_product": st.sampled_from([0, 3]),
        "coupon": st.sampled_from([None, "value", "product"]),
    }
)
_op = st.one_of(
    st.tuples(st.just("earn"), st.integers(0, 1), _amounts, _lines),
    st.tuples(st.just("return"), st.integers(0, 5), st.sampled_from([25, 50, 100])),
    st.tuples(st.just("redeem"), st.integers(1, 120)),
    st.tuples(st.just("coupon"), st.integers(0, 3)),
    st.tuples(st.just("tiers")),
)
_world = st.fixed_dictionaries(
    {
        "rules": st.lists(
            st.tuples(
                st.sampled_from([Decimal("0.5"), Decimal("1"), Decimal("2")]),
                st.sampled_from(["down", "nearest", "up"]),
                st.sampled_from([Decimal("0"), Decimal("5")]),
                st.sampled_from([0, 7]),
            ),
            min_size=2,
            max_size=2,
        ),
        "tiers": st.lists(
            st.tuples(st.sampled_from([50, 150, 400]), st.sampled_from(["1", "1.25", "1.5"])),
            max_size=2,
            unique_by=lambda t: t[0],
        ),
        "campaigns": st.lists(_campaign, max_size=4),
        "bulk_coupons": st.integers(0, 2),
        "ops": st.lists(_op, max_size=8),
    }
)


def _build_world(world):
    now = timezone.now()
    stores = []
    for i, (ppe, rounding, minimum, pending) in enumerate(world["rules"]):
        store = StoreFactory(code=f"P{i}")
        EarningRuleFactory(
            store=store,
            points_per_euro=ppe,
            rounding=rounding,
            minimum_purchase=minimum,
            pending_days=pending,
        )
        stores.append(store)
    tiers = [
        Tier.objects.create(
            code=f"t{threshold}", name=f"T{threshold}", threshold=threshold, multiplier=m
        )
        for threshold, m in sorted(world["tiers"])
    ]
    for n, c in enumerate(world["campaigns"]):
        purchase = c["trigger"] in ("purchase", "first_store")
        bonus = c["bonus_points"] or (0 if purchase and c["multiplier"] > 1 else 5)
        Campaign.objects.create(
            name=f"C{n}",
            store=None if c["store"] is None else stores[c["store"]],
            trigger=c["trigger"],
            combination=c["combination"],
            starts_at=now - timedelta(days=1),
            ends_at=now + timedelta(days=1),
            minimum_amount=c["minimum_amount"],
            product_codes=c["product_codes"],
            categories=c["categories"],
            tiers=[tiers[0].code] if c["tiered"] and tiers else [],
            max_per_member=c["max_per_member"],
            max_total=c["max_total"],
            multiplier=c["multiplier"] if purchase else Decimal("1"),
            bonus_points=bonus,
            points_per_product=c["points_per_product"] if purchase else 0,
            coupon_value=Decimal("5") if c["coupon"] == "value" else None,
            coupon_product="Coffee" if c["coupon"] == "product" else "",
        )
    bulk = (
        coupons_issue_bulk(
            count=world["bulk_coupons"], value=Decimal("2"), product="", valid_days=5
        )
        if world["bulk_coupons"]
        else []
    )
    earning_terms_forget(store_id=None)
    return stores, bulk


_ENROL = {
    JoinChannel.FORM: lambda store: member_enroll_by_form(
        store=store,
        given_name="Wout",
        surname="Claes",
        email="wout@example.be",
        phone="+32471111111",
    ),
    JoinChannel.EID: lambda store: member_enroll_by_eid(
        store=store, given_name="Nina", surname="Hermans", eid_token="cd" * 32
    ),
    JoinChannel.EID_ANONYMOUS: lambda store: member_enroll_anonymous_by_eid(
        store=store, eid_token="ef" * 32
    ),
}


def _live(world, channel):
    """Build the world, let a member of `channel` do the example's operations; return what
    they end with (everything but codes and ids)."""
    stores, bulk = _build_world(world)
    member = _ENROL[channel](stores[0])
    answers, sales = [], []
    for op in world["ops"]:
        try:
            if op[0] == "earn":
                ref = f"S{len(sales)}"
                lines = [BasketLine(p, c, q, Decimal("1")) for p, c, q in op[3]]
                entry = points_earn(
                    member=member,
                    store=stores[op[1]],
                    staff=None,
                    amount=op[2],
                    reference=ref,
                    lines=lines,
                )
                sales.append((stores[op[1]], ref, op[2]))
                answers.append(("earn", entry.points))
            elif op[0] == "return" and sales:
                store, ref, amount = sales[op[1] % len(sales)]
                part = (amount * op[2] / 100).quantize(Decimal("0.01"))
                entry = points_return(
                    member=member, store=store, staff=None, sale_reference=ref, amount=part
                )
                answers.append(("return", entry.points))
            elif op[0] == "redeem":
                entry = points_redeem(member=member, store=stores[0], staff=None, points=op[1])
                answers.append(("redeem", entry.points))
            elif op[0] == "coupon":
                codes = [c.code for c in member_coupons(member=member)] + [c.code for c in bulk]
                if codes:
                    coupon = coupon_redeem(
                        code=codes[op[1] % len(codes)], store=stores[1], staff=None, member=member
                    )
                    answers.append(("coupon", coupon.value, coupon.product))
            elif op[0] == "tiers":
                member_tier_recompute(member_id=member.pk)
                answers.append(("tiers",))
        except ApplicationError as error:
            answers.append((op[0], error.code))
    member.refresh_from_db()
    ledger = [
        (
            e.kind,
            e.store.code,
            e.points,
            e.balance_after,
            [{k: v for k, v in part.items() if k != "campaign"} for part in e.detail],
        )
        for e in LedgerEntry.objects.filter(member=member).order_by("pk")
    ]
    coupons = sorted(
        (str(c.value), c.product, c.redeemed_at is not None, c.campaign.name if c.campaign else "")
        for c in Coupon.objects.filter(member=member)
    )
    redeemed = Coupon.objects.filter(member=None, redeemed_at__isnull=False)
    bulk_used = sorted(str(v) for v in redeemed.values_list("value", flat=True))
    return {
        "answers": answers,
        "balance": member.points_balance,
        "owed": member.points_owed,
        "tier": (member.tier, member.tier_points, member.tier_kept_until is None),
        "ledger": ledger,
        "coupons": coupons,
        "bulk redeemed": bulk_used,
        "pending": points_pending(member=member),
    }


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(world=_world)
def test_members_of_every_channel_doing_the_same_things_end_the_same(world):
    outcomes = {}
    for channel in _ENROL:
        with transaction.atomic():
            saved = transaction.savepoint()
            outcomes[channel] = _live(world, channel)
            transaction.savepoint_rollback(saved)
    assert outcomes[JoinChannel.FORM] == outcomes[JoinChannel.EID]
    assert outcomes[JoinChannel.FORM] == outcomes[JoinChannel.EID_ANONYMOUS]
