"""Reads with a rule in them: which stores a staff member may reach, and their earning terms."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from core.errors import StoreForbidden, StoreInactive, StoreNotFound
from stores.models import Campaign, EarningRule, StaffAssignment, StaffRole, Store


def staff_is_head_office(user: AbstractBaseUser) -> bool:
    """Return whether the user has the chain-wide head-office role."""
    if not user.is_authenticated:
        return False
    return StaffAssignment.objects.filter(user=user, role=StaffRole.HEAD_OFFICE).exists()


def _reachable(user: AbstractBaseUser, roles: tuple[str, ...] | None) -> Exists:
    """Return an expression telling whether `user` may act for the outer store."""
    own_store = Q(store=OuterRef("pk"))
    if roles:
        own_store &= Q(role__in=roles)
    return Exists(
        StaffAssignment.objects.filter(user=user).filter(own_store | Q(role=StaffRole.HEAD_OFFICE))
    )


def stores_for_staff(user: AbstractBaseUser, *, roles: tuple[str, ...] | None = None) -> QuerySet:
    """Return the stores this user works for (every store for head office)."""
    if not user.is_authenticated:
        return Store.objects.none()
    return Store.objects.filter(_reachable(user, roles))


def store_for_staff(
    user: AbstractBaseUser,
    store_code: str,
    *,
    roles: tuple[str, ...] | None = None,
    require_active: bool = True,
) -> Store:
    """Return the store with this code if the user may act for it, else raise.

    One query: the store, its earning rule, and whether the user may reach it.
    """
    if not user.is_authenticated:
        raise StoreForbidden()
    store = (
        Store.objects.select_related("earning_rule")
        .annotate(reachable=_reachable(user, roles))
        .filter(code=str(store_code).strip().upper())
        .first()
    )
    if store is None:
        raise StoreNotFound()
    if not store.reachable:
        raise StoreForbidden()
    if require_active and not store.is_active:
        raise StoreInactive()
    return store


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


def campaign_multiplier(store: Store, *, at: datetime | None = None) -> Decimal:
    """Return the multiplier in force at `at` (1 when no campaign runs)."""
    campaign = campaign_running(store, at=at)
    return campaign.multiplier if campaign else Decimal("1")
