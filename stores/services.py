"""Writes on stores, staff and reader devices."""

from __future__ import annotations

import hashlib
import secrets

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from core.errors import DeviceRevoked, DeviceUnknown
from stores.models import ReaderDevice, StaffAssignment, StaffRole, Store


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
