"""Stores, staff and their configuration."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from dashboard.selectors.common import OfficeAccess
from stores.models import StaffAssignment, Store


def stores_overview() -> QuerySet[Store]:
    """Return every store with its earning rule and its counts of devices and staff."""
    now = timezone.now()
    return (
        Store.objects.select_related("earning_rule")
        .annotate(
            devices_active=Count(
                "reader_devices", filter=Q(reader_devices__revoked_at__isnull=True), distinct=True
            ),
            staff_count=Count("staff_assignments", distinct=True),
            campaigns_running=Count(
                "campaigns",
                filter=Q(campaigns__starts_at__lte=now, campaigns__ends_at__gt=now),
                distinct=True,
            ),
        )
        .order_by("code")
    )


def staff_overview() -> QuerySet[StaffAssignment]:
    """Return every staff role, chain-wide ones first, then by store and user name, each with
    how many live API tokens its user holds (`live_tokens`)."""
    now = timezone.now()
    live = Q(user__auth_token_set__expiry__isnull=True) | Q(user__auth_token_set__expiry__gt=now)
    return (
        StaffAssignment.objects.select_related("user", "store")
        .annotate(live_tokens=Count("user__auth_token_set", filter=live))
        .order_by("store__code", "role", "user__username")
    )


def staff_user_find(username: str) -> AbstractBaseUser | None:
    """Return the active user with this user name, or None."""
    return (
        get_user_model().objects.filter(username=(username or "").strip(), is_active=True).first()
    )


def store_for_office(access: OfficeAccess, code: str) -> Store | None:
    """Return the store with this code among those the user may see, or None."""
    code = (code or "").strip().upper()
    return next((s for s in access.stores if s.code == code), None)
