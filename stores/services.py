"""Writes on stores, staff, reader devices, earning rules and campaigns."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import DeviceRevoked, DeviceUnknown, InvalidInput
from stores.models import (
    Campaign,
    CampaignTrigger,
    ChainSettings,
    Combination,
    EarningRule,
    ReaderDevice,
    StaffAssignment,
    StaffRole,
    StaffToken,
    Store,
    Tier,
)


def staff_assign(
    *, user: AbstractBaseUser, role: str, store: Store | None = None
) -> StaffAssignment:
    """Give a user a role in a store, or the chain-wide head-office role (store None)."""
    if role == StaffRole.HEAD_OFFICE:
        assignment, _ = StaffAssignment.objects.update_or_create(
            user=user, store=None, defaults={"role": role}
        )
    else:
        assignment, _ = StaffAssignment.objects.update_or_create(
            user=user, store=store, defaults={"role": role}
        )
    return assignment


def reader_token_hash(token: str) -> str:
    """Return the stored form of a device token (SHA-256: the token is random, not a password)."""
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def reader_device_register(
    *, store: Store, name: str, created_by: AbstractBaseUser | None = None
) -> tuple[ReaderDevice, str]:
    """Register a reader for a store; return it and its token, which is shown this once."""
    token = "rd_" + secrets.token_urlsafe(32)
    device = ReaderDevice.objects.create(
        store=store,
        name=name.strip()[:100],
        token_hash=reader_token_hash(token),
        token_prefix=token[:8],
        created_by=created_by,
    )
    return device, token


def reader_device_revoke(*, device: ReaderDevice) -> ReaderDevice:
    """Revoke a reader: its token is refused from its next call on."""
    if device.revoked_at is None:
        device.revoked_at = timezone.now()
        device.save(update_fields=["revoked_at"])
    return device


def reader_device_authenticate(*, token: str) -> ReaderDevice:
    """Return the active device holding this token, touching its last-seen time, or raise."""
    device = (
        ReaderDevice.objects.select_related("store")
        .filter(token_hash=reader_token_hash(token))
        .first()
    )
    if device is None:
        raise DeviceUnknown()
    if device.revoked_at is not None or not device.store.is_active:
        raise DeviceRevoked()
    now = timezone.now()
    # Throttled so a long-polling agent does not write a row every second.
    if device.last_seen_at is None or (now - device.last_seen_at).total_seconds() > 30:
        ReaderDevice.objects.filter(pk=device.pk).update(last_seen_at=now)
        device.last_seen_at = now
    return device


# Earning terms: what head office sets on a store's rule and campaigns.


def earning_rule_save(
    *, store: Store, points_per_euro: Decimal, rounding: str, minimum_purchase: Decimal
) -> EarningRule:
    """Set how a store turns purchases into points (the same for every member)."""
    rule, _ = EarningRule.objects.update_or_create(
        store=store,
        defaults={
            "points_per_euro": points_per_euro,
            "rounding": rounding,
            "minimum_purchase": minimum_purchase,
        },
    )
    return rule


def campaign_create(
    *, store: Store, name: str, multiplier: Decimal, starts_at: datetime, ends_at: datetime
) -> Campaign:
    """Add a time-boxed points multiplier at a store."""
    if ends_at <= starts_at:
        raise InvalidInput(details={"ends_at": [_("A campaign ends after it starts.")]})
    if multiplier < 1:
        raise InvalidInput(details={"multiplier": ["The multiplier is at least 1."]})
    return Campaign.objects.create(
        store=store,
        name=name.strip()[:100],
        multiplier=multiplier,
        starts_at=starts_at,
        ends_at=ends_at,
    )


def _codes(values) -> list[str]:
    return sorted({str(v).strip() for v in values or () if str(v).strip()})


@transaction.atomic
def campaign_compose(
    *,
    name: str,
    starts_at: datetime,
    ends_at: datetime,
    store: Store | None = None,
    trigger: str = CampaignTrigger.PURCHASE,
    combination: str = Combination.BEST,
    store_codes: list[str] | None = None,
    days_of_week: str = "",
    minimum_amount: Decimal | None = None,
    product_codes: list[str] | None = None,
    categories: list[str] | None = None,
    tiers: list[str] | None = None,
    max_per_member: int | None = None,
    max_total: int | None = None,
    multiplier: Decimal = Decimal("1"),
    bonus_points: int = 0,
    points_per_product: int = 0,
    coupon_value: Decimal | None = None,
    coupon_product: str = "",
    coupon_valid_days: int = 30,
    created_by: AbstractBaseUser | None = None,
) -> Campaign:
    """Compose a campaign: its trigger, conditions, effects and how it combines with others.

    Conditions can read the purchase and the member's tier and uses only (rule 2): there is no
    field for anything else. `store` None is a chain campaign (head office's).
    """
    errors: dict[str, list[str]] = {}
    name = (name or "").strip()[:100]
    if not name:
        errors["name"] = [_("Name the campaign.")]
    if ends_at <= starts_at:
        errors["ends_at"] = [_("A campaign ends after it starts.")]
    if trigger not in CampaignTrigger.values:
        errors["trigger"] = [_("Unknown trigger.")]
    if combination not in Combination.values:
        errors["combination"] = [_("Unknown combination rule.")]
    days = "".join(sorted(set(str(days_of_week or ""))))
    if any(d not in "1234567" for d in days):
        errors["days_of_week"] = [_("Days are 1 (Monday) to 7 (Sunday).")]
    multiplier = Decimal(multiplier)
    if multiplier < 1 or multiplier > 10:
        errors["multiplier"] = [_("The multiplier is between 1 and 10.")]
    product_codes, categories, tiers = _codes(product_codes), _codes(categories), _codes(tiers)
    store_codes = [c.upper() for c in _codes(store_codes)] if store is None else []
    unknown = set(store_codes) - set(Store.objects.values_list("code", flat=True))
    if unknown:
        errors["store_codes"] = [
            _("No store has the code %(codes)s.") % {"codes": ", ".join(sorted(unknown))}
        ]
    unknown_tiers = set(tiers) - set(Tier.objects.values_list("code", flat=True))
    if unknown_tiers:
        errors["tiers"] = [
            _("No tier has the code %(codes)s.") % {"codes": ", ".join(sorted(unknown_tiers))}
        ]
    if points_per_product and not (product_codes or categories):
        errors["points_per_product"] = [_("Points per product need product codes or categories.")]
    coupon = (coupon_value is not None and coupon_value > 0) or bool(coupon_product.strip())
    purchase = trigger in (CampaignTrigger.PURCHASE, CampaignTrigger.FIRST_STORE_PURCHASE)
    if not purchase and (multiplier > 1 or points_per_product):
        errors["trigger"] = [_("Only a purchase can be multiplied or earn points per product.")]
    if not (multiplier > 1 or bonus_points or points_per_product or coupon):
        errors["multiplier"] = [_("Give the campaign an effect: a multiplier, points or a coupon.")]
    if errors:
        raise InvalidInput(details=errors)
    return Campaign.objects.create(
        store=store,
        name=name,
        trigger=trigger,
        combination=combination,
        starts_at=starts_at,
        ends_at=ends_at,
        store_codes=store_codes,
        days_of_week=days,
        minimum_amount=minimum_amount,
        product_codes=product_codes,
        categories=categories,
        tiers=tiers,
        max_per_member=max_per_member,
        max_total=max_total,
        multiplier=multiplier,
        bonus_points=bonus_points,
        points_per_product=points_per_product,
        coupon_value=coupon_value if coupon_value and coupon_value > 0 else None,
        coupon_product=coupon_product.strip()[:64],
        coupon_valid_days=coupon_valid_days,
        created_by=created_by,
    )


def tier_save(*, code: str, name: str, threshold: int, multiplier: Decimal) -> Tier:
    """Add a tier, or change the one with this code (head office)."""
    code = (code or "").strip().lower()
    if not code or not all(ch.isascii() and (ch.isalnum() or ch == "-") for ch in code):
        raise InvalidInput(details={"code": [_("Lower-case letters, digits and dashes.")]})
    if multiplier < 1 or multiplier > 10:
        raise InvalidInput(details={"multiplier": [_("The multiplier is between 1 and 10.")]})
    clash = Tier.objects.filter(threshold=threshold).exclude(code=code).exists()
    if clash:
        raise InvalidInput(details={"threshold": [_("Another tier has this threshold.")]})
    tier, _created = Tier.objects.update_or_create(
        code=code,
        defaults={"name": name.strip()[:50], "threshold": threshold, "multiplier": multiplier},
    )
    return tier


def campaign_end(*, campaign: Campaign, at: datetime | None = None) -> Campaign:
    """End a campaign now (or at `at`); one that has not started yet is deleted."""
    at = at or timezone.now()
    if campaign.starts_at >= at:
        campaign.delete()
        return campaign
    if campaign.ends_at > at:
        campaign.ends_at = at
        campaign.save(update_fields=["ends_at"])
    return campaign


# Staff API tokens (django-rest-knox's model, stores.StaffToken).


@transaction.atomic
def staff_token_create(*, user: AbstractBaseUser, device: str = "") -> tuple[StaffToken, str]:
    """Log a staff member in: return a new API token and its text, which is shown this once.

    A device named at login holds one token: logging in on it again replaces it. The user's
    expired tokens go; past `STAFF_TOKEN_LIMIT_PER_USER` the oldest are revoked, so a till
    that logs in is never refused for tokens forgotten on other devices.
    """
    device = device.strip()[:100]
    tokens = StaffToken.objects.filter(user=user)
    tokens.filter(expiry__lte=timezone.now()).delete()
    if device:
        tokens.filter(device=device).delete()
    keep = max(settings.STAFF_TOKEN_LIMIT_PER_USER, 1) - 1
    newest = list(tokens.order_by("-created", "-id").values_list("id", flat=True)[:keep])
    tokens.exclude(id__in=newest).delete()
    return StaffToken.objects.create(user=user, device=device)


def staff_token_revoke(*, token: StaffToken) -> None:
    """Revoke one API token (a logout): it is refused from its next call on."""
    StaffToken.objects.filter(pk=token.pk).delete()


def staff_tokens_revoke(*, user: AbstractBaseUser) -> int:
    """Revoke every API token of this user; return how many there were.

    The one place that ends a user's API sessions: logout everywhere, head office's revoke,
    a new password and a deactivation (stores.signals catches the saves that bypass
    `staff_password_set` and `staff_deactivate`, such as the admin's forms).
    """
    deleted, _ = StaffToken.objects.filter(user=user).delete()
    return deleted


@transaction.atomic
def staff_password_set(*, user: AbstractBaseUser, password: str) -> None:
    """Give the user a new password; every API token they hold is revoked."""
    user.set_password(password)
    user.save(update_fields=["password"])
    staff_tokens_revoke(user=user)


@transaction.atomic
def staff_deactivate(*, user: AbstractBaseUser) -> None:
    """Deactivate the account: no login, no session, every API token revoked."""
    user.is_active = False
    user.save(update_fields=["is_active"])
    staff_tokens_revoke(user=user)


def staff_tokens_purge() -> int:
    """Delete expired API tokens (they are refused already); return how many."""
    deleted, _ = StaffToken.objects.filter(expiry__lte=timezone.now()).delete()
    return deleted


LOGO_MAX_BYTES = 200 * 1024
# Raster images only, told by their first bytes: an SVG could carry script.
LOGO_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


def _logo_type(content: bytes) -> str:
    if len(content) > LOGO_MAX_BYTES:
        raise InvalidInput(details={"logo": ["The logo may be 200 KB at most."]})
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "image/webp"
    for signature, mimetype in LOGO_SIGNATURES:
        if content.startswith(signature):
            return mimetype
    raise InvalidInput(details={"logo": ["Upload a PNG, JPEG, GIF or WebP image."]})


def _site_url_clean(value: str) -> str:
    from urllib.parse import urlsplit

    value = (value or "").strip().rstrip("/")
    if not value:
        return ""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path or parts.query:
        raise InvalidInput(
            details={"site_url": ["Give the address as https://host (no path, no query)."]}
        )
    return value


@transaction.atomic
def chain_settings_save(
    *,
    name: str,
    privacy_contact: str,
    site_url: str,
    logo: bytes | None = None,
    logo_remove: bool = False,
    managers_register_readers: bool | None = None,
) -> ChainSettings:
    """Save what customers see of the chain; a new logo replaces the old one.

    `managers_register_readers` (None: left as it is) lets store managers register and revoke
    their own stores' readers (stores.access reads it from the chain, dropped from the cache
    once this commits).
    """
    from stores.selectors import chain_settings_forget

    row, _created = ChainSettings.objects.select_for_update().get_or_create(pk=1)
    row.name = " ".join((name or "").split())[:100]
    row.privacy_contact = (privacy_contact or "").strip()[:254]
    row.site_url = _site_url_clean(site_url)
    if logo:
        row.logo_type = _logo_type(logo)
        row.logo = logo
    elif logo_remove:
        row.logo, row.logo_type = b"", ""
    if managers_register_readers is not None:
        row.managers_register_readers = bool(managers_register_readers)
    row.save()
    # Again once committed: a read between the save and the commit may have cached the old row.
    transaction.on_commit(chain_settings_forget)
    return row
