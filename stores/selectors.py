"""Reads with a rule in them: a store's earning terms (its rule and campaigns), staff tokens.

Who may reach which store is `stores.access`'s to answer.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q, QuerySet
from django.utils import timezone
from knox.settings import knox_settings

from core.cache import cache_delete, cache_get, cache_set
from stores.models import (
    Campaign,
    CampaignTrigger,
    Combination,
    EarningRule,
    ReaderDevice,
    Rounding,
    StaffToken,
    Store,
    Tier,
)

_TERMS_KEY = "stores.terms.v2:{}"
_TERMS_SECONDS = 300
_PENDING_KEY = "stores.pending.v1"


@dataclass(frozen=True)
class CampaignTerms:
    """A campaign as the earn reads it: its trigger, conditions, effects, combination rule."""

    id: int
    name: str
    starts_at: datetime
    ends_at: datetime
    trigger: str = CampaignTrigger.PURCHASE
    combination: str = Combination.BEST
    store_ids: frozenset[int] = frozenset()  # empty: every store
    days_of_week: frozenset[int] = frozenset()  # ISO weekdays; empty: every day
    minimum_amount: Decimal | None = None
    product_codes: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()
    tiers: frozenset[str] = frozenset()
    max_per_member: int | None = None
    max_total: int | None = None
    multiplier: Decimal = Decimal("1")
    bonus_points: int = 0
    points_per_product: int = 0
    coupon_value: Decimal | None = None
    coupon_product: str = ""
    coupon_valid_days: int = 30

    @property
    def reads_member(self) -> bool:
        """Whether a condition reads the member's facts (tier, first visit, uses so far)."""
        return bool(
            self.tiers
            or self.max_per_member is not None
            or self.trigger == CampaignTrigger.FIRST_STORE_PURCHASE
        )

    @property
    def issues_coupon(self) -> bool:
        return self.coupon_value is not None or bool(self.coupon_product)


@dataclass(frozen=True)
class TierTerms:
    code: str
    name: str
    threshold: int
    multiplier: Decimal


@dataclass(frozen=True)
class EarningTerms:
    """What a purchase at one store earns: its rule, the campaigns not yet over, the tiers.

    One object, kept in the cache and dropped whenever the rule, a campaign of the store or
    a tier changes (`earning_terms_forget`), so an earn reads none of those tables.
    """

    store_id: int
    points_per_euro: Decimal = Decimal("1.00")
    rounding: str = Rounding.DOWN
    minimum_purchase: Decimal = Decimal("0.00")
    pending_days: int = 0
    campaigns: tuple[CampaignTerms, ...] = ()
    tiers: tuple[TierTerms, ...] = ()  # lowest threshold first

    def multiplier_at(self, at: datetime) -> Decimal:
        """Return the highest multiplier of the purchase campaigns running at `at`, or 1."""
        running = [
            c.multiplier
            for c in self.campaigns
            if c.trigger == CampaignTrigger.PURCHASE and c.starts_at <= at < c.ends_at
        ]
        return max(running, default=Decimal("1"))

    def tier(self, code: str) -> TierTerms | None:
        return next((t for t in self.tiers if t.code == code), None)


def earning_terms(store: Store, *, now: datetime | None = None) -> EarningTerms:
    """Return the store's earning terms (the default rule, 1 point per euro, when it has none)."""
    key = _TERMS_KEY.format(store.pk)
    terms = cache_get(key, memo=True)
    if terms is None:
        terms = _earning_terms_read(store, now=now or timezone.now())
        cache_set(key, terms, _TERMS_SECONDS, memo=True)
    return terms


def campaign_terms(c: Campaign, *, store_ids: dict[str, int] | None = None) -> CampaignTerms:
    """Return the campaign as the earn reads it."""
    if c.store_id is not None:
        ids = frozenset({c.store_id})
    elif c.store_codes:
        codes = (
            store_ids if store_ids is not None else dict(Store.objects.values_list("code", "pk"))
        )
        # A code no store has matches no store, rather than every store.
        ids = frozenset(codes.get(code, -1) for code in c.store_codes)
    else:
        ids = frozenset()
    return CampaignTerms(
        id=c.pk,
        name=c.name,
        starts_at=c.starts_at,
        ends_at=c.ends_at,
        trigger=c.trigger,
        combination=c.combination,
        store_ids=ids,
        days_of_week=frozenset(int(d) for d in c.days_of_week if d.isdigit()),
        minimum_amount=c.minimum_amount,
        product_codes=frozenset(c.product_codes or ()),
        categories=frozenset(c.categories or ()),
        tiers=frozenset(c.tiers or ()),
        max_per_member=c.max_per_member,
        max_total=c.max_total,
        multiplier=c.multiplier,
        bonus_points=c.bonus_points,
        points_per_product=c.points_per_product,
        coupon_value=c.coupon_value,
        coupon_product=c.coupon_product,
        coupon_valid_days=c.coupon_valid_days,
    )


def campaigns_in_force(*, now: datetime, trigger: str | None = None) -> list[CampaignTerms]:
    """Return every campaign not yet over (of this trigger), chain and store campaigns alike."""
    rows = Campaign.objects.filter(ends_at__gt=now).order_by("starts_at", "pk")
    if trigger is not None:
        rows = rows.filter(trigger=trigger)
    codes = dict(Store.objects.values_list("code", "pk"))
    return [campaign_terms(c, store_ids=codes) for c in rows]


def tier_terms() -> tuple[TierTerms, ...]:
    return tuple(
        TierTerms(t.code, t.name, t.threshold, t.multiplier)
        for t in Tier.objects.order_by("threshold")
    )


def _earning_terms_read(store: Store, *, now: datetime) -> EarningTerms:
    rule = EarningRule.objects.filter(store_id=store.pk).first()
    rows = Campaign.objects.filter(Q(store_id=store.pk) | Q(store__isnull=True), ends_at__gt=now)
    codes = dict(Store.objects.values_list("code", "pk"))
    campaigns = tuple(
        c
        for c in (campaign_terms(row, store_ids=codes) for row in rows.order_by("starts_at", "pk"))
        if not c.store_ids or store.pk in c.store_ids
    )
    fields = {"store_id": store.pk, "campaigns": campaigns, "tiers": tier_terms()}
    if rule is None:
        return EarningTerms(**fields)
    return EarningTerms(
        points_per_euro=rule.points_per_euro,
        rounding=rule.rounding,
        minimum_purchase=rule.minimum_purchase,
        pending_days=rule.pending_days,
        **fields,
    )


def earning_terms_forget(*, store_id: int | None) -> None:
    """Drop the cached terms of this store; of every store for None (a chain campaign, a tier)."""
    ids = [store_id] if store_id is not None else Store.objects.values_list("pk", flat=True)
    cache_delete(_PENDING_KEY, *(_TERMS_KEY.format(pk) for pk in ids), memo=True)


def pending_windows() -> dict[int, int]:
    """Return the stores whose points stay pending, with their return window in days (kept in
    the cache, dropped with the earning terms)."""
    windows = cache_get(_PENDING_KEY, memo=True)
    if windows is None:
        rules = EarningRule.objects.filter(pending_days__gt=0)
        windows = dict(rules.values_list("store_id", "pending_days"))
        cache_set(_PENDING_KEY, windows, _TERMS_SECONDS, memo=True)
    return windows


def earning_rule_for_store(store: Store) -> EarningRule:
    """Return the store's earning rule, or the default (1 point per euro, rounded down)."""
    try:
        return store.earning_rule
    except EarningRule.DoesNotExist:
        return EarningRule(store=store)


def campaigns_running(store: Store, *, at: datetime) -> QuerySet[Campaign]:
    """Return the store's campaigns running at `at`, the one in force (highest multiplier) first."""
    return Campaign.objects.filter(
        Q(store=store) | Q(store__isnull=True), starts_at__lte=at, ends_at__gt=at
    ).order_by("-multiplier", "pk")


def campaign_running(store: Store, *, at: datetime | None = None) -> Campaign | None:
    """Return the store's running campaign with the highest multiplier, or None."""
    return campaigns_running(store, at=at or timezone.now()).first()


def staff_tokens_of(user: AbstractBaseUser) -> QuerySet[StaffToken]:
    """Return the user's API tokens that are still valid, newest first."""
    now = timezone.now()
    live = StaffToken.objects.filter(user=user).filter(Q(expiry__isnull=True) | Q(expiry__gt=now))
    return live.order_by("-created", "-id")


def staff_tokens_expire() -> bool:
    """Return whether staff API tokens expire (STAFF_TOKEN_TTL_HOURS set): a compliance check."""
    return knox_settings.TOKEN_TTL is not None


_CHAIN_KEY = "stores.chain.v1"
_CHAIN_SECONDS = 600


@dataclass(frozen=True)
class Chain:
    """What customers see of the chain, with settings' defaults filled in."""

    name: str
    privacy_contact: str
    site_url: str
    logo_type: str = ""
    # Changes whenever the logo does, so its URL can be cached for long.
    logo_version: str = ""
    # Head office lets store managers register their own stores' readers (stores.access).
    managers_register_readers: bool = False

    @property
    def has_logo(self) -> bool:
        return bool(self.logo_type)


def chain_settings() -> Chain:
    """Return the chain's public identity (cached; `chain_settings_forget` drops it).

    What head office left empty comes from settings, read each time (not cached).
    """
    from django.conf import settings

    chain = cache_get(_CHAIN_KEY, memo=True)
    if chain is None:
        chain = chain_settings_saved()
        cache_set(_CHAIN_KEY, chain, _CHAIN_SECONDS, memo=True)
    return replace(
        chain,
        name=chain.name or settings.CHAIN_NAME,
        privacy_contact=chain.privacy_contact
        or getattr(settings, "PRIVACY_CONTACT_EMAIL", "")
        or settings.DEFAULT_FROM_EMAIL,
        site_url=(chain.site_url or settings.SITE_URL).rstrip("/"),
    )


def chain_settings_saved() -> Chain:
    """Return what head office saved, blanks left blank, from the database (not the cache)."""
    from stores.models import ChainSettings

    row = ChainSettings.objects.defer("logo").filter(pk=1).first()
    return Chain(
        name=row.name if row else "",
        privacy_contact=row.privacy_contact if row else "",
        site_url=row.site_url if row else "",
        logo_type=row.logo_type if row else "",
        logo_version=f"{row.updated_at:%Y%m%d%H%M%S%f}" if row and row.logo_type else "",
        managers_register_readers=row.managers_register_readers if row else False,
    )


def chain_settings_forget() -> None:
    """Drop the cached chain identity (after head office saves it)."""
    cache_delete(_CHAIN_KEY, memo=True)


def chain_logo() -> tuple[bytes, str] | None:
    """Return the chain's logo and its content type, or None."""
    from stores.models import ChainSettings

    row = ChainSettings.objects.filter(pk=1).only("logo", "logo_type").first()
    if row is None or not row.logo_type:
        return None
    return bytes(row.logo), row.logo_type


def reader_devices_of(stores) -> QuerySet[ReaderDevice]:
    """Return the eID readers of these stores, active ones first, by name, with who
    registered each (head office's store page and the managers' readers page)."""
    return (
        ReaderDevice.objects.filter(store__in=stores)
        .select_related("created_by")
        .order_by("revoked_at", "name")
    )
