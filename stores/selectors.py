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
from stores.models import Campaign, EarningRule, Rounding, StaffToken, Store

_TERMS_KEY = "stores.terms.v1:{}"
_TERMS_SECONDS = 300


@dataclass(frozen=True)
class CampaignWindow:
    name: str
    multiplier: Decimal
    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True)
class EarningTerms:
    """What a purchase at one store earns: its rule, and the campaigns not yet over.

    One object, kept in the cache and dropped whenever the rule or a campaign of the store
    changes (`earning_terms_forget`), so an earn reads neither table.
    """

    store_id: int
    points_per_euro: Decimal = Decimal("1.00")
    rounding: str = Rounding.DOWN
    minimum_purchase: Decimal = Decimal("0.00")
    campaigns: tuple[CampaignWindow, ...] = ()

    def multiplier_at(self, at: datetime) -> Decimal:
        """Return the multiplier in force at `at`: the highest running campaign's, or 1."""
        running = [c.multiplier for c in self.campaigns if c.starts_at <= at < c.ends_at]
        return max(running, default=Decimal("1"))


def earning_terms(store: Store, *, now: datetime | None = None) -> EarningTerms:
    """Return the store's earning terms (the default rule, 1 point per euro, when it has none)."""
    key = _TERMS_KEY.format(store.pk)
    terms = cache_get(key)
    if terms is None:
        terms = _earning_terms_read(store, now=now or timezone.now())
        cache_set(key, terms, _TERMS_SECONDS)
    return terms


def _earning_terms_read(store: Store, *, now: datetime) -> EarningTerms:
    rule = EarningRule.objects.filter(store_id=store.pk).first()
    campaigns = tuple(
        CampaignWindow(c.name, c.multiplier, c.starts_at, c.ends_at)
        for c in Campaign.objects.filter(store_id=store.pk, ends_at__gt=now).order_by("starts_at")
    )
    if rule is None:
        return EarningTerms(store_id=store.pk, campaigns=campaigns)
    return EarningTerms(
        store_id=store.pk,
        points_per_euro=rule.points_per_euro,
        rounding=rule.rounding,
        minimum_purchase=rule.minimum_purchase,
        campaigns=campaigns,
    )


def earning_terms_forget(*, store_id: int) -> None:
    """Drop the cached terms of this store (call whenever its rule or a campaign changes)."""
    cache_delete(_TERMS_KEY.format(store_id))


def earning_rule_for_store(store: Store) -> EarningRule:
    """Return the store's earning rule, or the default (1 point per euro, rounded down)."""
    try:
        return store.earning_rule
    except EarningRule.DoesNotExist:
        return EarningRule(store=store)


def campaigns_running(store: Store, *, at: datetime) -> QuerySet[Campaign]:
    """Return the store's campaigns running at `at`, the one in force (highest multiplier) first."""
    return Campaign.objects.filter(store=store, starts_at__lte=at, ends_at__gt=at).order_by(
        "-multiplier", "pk"
    )


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

    chain = cache_get(_CHAIN_KEY)
    if chain is None:
        chain = chain_settings_saved()
        cache_set(_CHAIN_KEY, chain, _CHAIN_SECONDS)
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
    cache_delete(_CHAIN_KEY)


def chain_logo() -> tuple[bytes, str] | None:
    """Return the chain's logo and its content type, or None."""
    from stores.models import ChainSettings

    row = ChainSettings.objects.filter(pk=1).only("logo", "logo_type").first()
    if row is None or not row.logo_type:
        return None
    return bytes(row.logo), row.logo_type
