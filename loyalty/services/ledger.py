"""What every change to a balance shares: the member's row lock, input checks, the ledger
write that moves the cached balance with it, and idempotency keys."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, connection
from django.utils.translation import gettext as _

from core.errors import (
    AmountNotPlain,
    BalanceOutOfRange,
    IdempotencyKeyReused,
    InsufficientPoints,
    InvalidAmount,
    InvalidInput,
    InvalidPoints,
    MemberInactive,
    MemberNotFound,
)
from core.inputs import INT32_MAX, plain_decimal
from loyalty import ledger_sql
from loyalty.models import LedgerEntry, Member, MemberStatus
from loyalty.rules import MemberFacts
from loyalty.selectors import member_facts_wanted
from loyalty.services import webhooks
from stores.models import Store

MAX_POINTS_PER_ENTRY = 10_000_000


def _lock_member(
    member: Member,
    *,
    store: Store | None = None,
    idempotency_key: str | None = None,
) -> Member:
    """Lock the member's row and return it fresh; raise unless the membership is active.

    With an idempotency key the same query also reads `replayed_id`, the entry an earlier
    call with this key wrote at `store` (None if none), saving a round trip.
    """
    return _lock_member_with_facts(member, store=store, idempotency_key=idempotency_key)[0]


def _lock_member_with_facts(
    member: Member,
    *,
    store: Store | None = None,
    idempotency_key: str | None = None,
    campaigns=(),
) -> tuple[Member, MemberFacts]:
    """`_lock_member`, reading in the same statement what `campaigns` may know of the member
    (`loyalty.selectors.member_facts`, read under the lock)."""
    store_id = store.pk if store is not None else None
    capped, first_store = [], None
    if campaigns:
        capped, first_store = member_facts_wanted(store=store_id, campaigns=campaigns)
    found = ledger_sql.member_lock(
        member.pk,
        store_id=store_id,
        idempotency_key=idempotency_key,
        capped=capped,
        first_at_store=first_store,
    )
    if found is None:
        raise MemberNotFound()
    locked, uses, first = found
    # A retry of a call that went through gets the first answer (see `_replayed`), even if the
    # membership was blocked since: it changes nothing.
    if locked.status != MemberStatus.ACTIVE and locked.replayed_id is None:
        raise MemberInactive()
    return locked, MemberFacts(tier=locked.tier, first_at_store=first, uses=uses)


def _replayed(*, locked: Member, kind: str, **same) -> LedgerEntry | None:
    """Return the entry an earlier call with this key wrote, if it was the same request.

    `locked` comes from `_lock_member` with the key, which found the entry's id (if any).
    """
    if getattr(locked, "replayed_id", None) is None:
        return None
    return _replay_checked(
        LedgerEntry.objects.get(pk=locked.replayed_id), member=locked, kind=kind, **same
    )


def _replay_checked(entry: LedgerEntry, *, member: Member, kind: str, **same) -> LedgerEntry:
    """Return the entry a call with the same idempotency key wrote, if it was the same request."""
    if (
        entry.member_id != member.pk
        or entry.kind != kind
        or any(getattr(entry, k) != v for k, v in same.items())
    ):
        raise IdempotencyKeyReused()
    return entry


# Visible ASCII, as an HTTP header carries it (also the schema's pattern of the header).
IDEMPOTENCY_KEY = re.compile(r"[!-~]{1,100}")


def _clean_key(idempotency_key: str | None) -> str | None:
    if idempotency_key is None:
        return None
    key = str(idempotency_key).strip()
    if not IDEMPOTENCY_KEY.fullmatch(key):
        raise InvalidInput(_("The Idempotency-Key must be 1 to 100 printable characters."))
    return key


def _clean_amount(amount) -> Decimal:
    if isinstance(amount, str):
        # Typed at a counter or sent by a client: plain digits only ("1e3" is no amount).
        value = plain_decimal(amount)
        if value is None:
            raise AmountNotPlain()
    else:
        try:
            value = Decimal(str(amount))
        except (InvalidOperation, ValueError, TypeError):
            raise InvalidAmount() from None
    if not value.is_finite() or value <= 0 or value > settings.LOYALTY_MAX_PURCHASE_AMOUNT:
        raise InvalidAmount()
    if value != value.quantize(Decimal("0.01")):
        raise InvalidAmount(_("The purchase amount has at most two decimals (cents)."))
    return value.quantize(Decimal("0.01"))


def _clean_points(points) -> int:
    if isinstance(points, bool) or not isinstance(points, int):
        raise InvalidPoints()
    if points <= 0 or points > MAX_POINTS_PER_ENTRY:
        raise InvalidPoints()
    return points


def _write(
    *,
    member: Member,
    store: Store,
    staff: AbstractBaseUser | None,
    kind: str,
    points: int,
    at: datetime,
    activity: bool,
    member_changes=None,
    **fields,
) -> LedgerEntry:
    """Append one ledger row and move the locked member's cached balance with it.

    `member_changes(member)` may change more of the member's fields in the same UPDATE (the
    tier an earn lifts); it returns their names.
    """
    new_balance = _balance_after(member, points)
    entry = LedgerEntry.objects.create(
        member=member,
        store=store,
        staff=staff if staff is not None and staff.is_authenticated else None,
        kind=kind,
        points=points,
        balance_after=new_balance,
        created_at=at,
        **fields,
    )
    member.points_balance = new_balance
    update_fields = ["points_balance", "updated_at"]
    if activity:
        member.last_activity_at = at
        update_fields.append("last_activity_at")
    tier_before = member.tier
    if member_changes is not None:
        update_fields += member_changes(member)
    member.save(update_fields=update_fields)
    _entry_told(entry=entry, member=member, store=store, tier_before=tier_before)
    return entry


def _balance_after(member: Member, points: int) -> int:
    """Return the locked member's balance once `points` are added; raise if it cannot be."""
    balance = member.points_balance + points
    if balance > INT32_MAX:
        raise BalanceOutOfRange()
    if balance < 0:
        raise InsufficientPoints(details={"balance": member.points_balance, "required": -points})
    return balance


def _entry_told(*, entry: LedgerEntry, member: Member, store: Store, tier_before: str) -> None:
    """Tell the webhooks of a written entry, and of the tier it moved the member to."""
    webhooks.entry_written(entry=entry, member=member, store=store)
    if member.tier != tier_before:
        webhooks.tier_changed(member=member, previous=tier_before, at=entry.created_at)


def _entry_stand_in(*, entry_id: int, **fields) -> LedgerEntry:
    """Return the entry a hand-written statement inserted with these fields, as the ORM would
    have left it after a save (no read back)."""
    entry = LedgerEntry(id=entry_id, **fields)
    entry._state.adding = False
    entry._state.db = connection.alias
    return entry


def _idempotent(action):
    """Run a ledger action; if a concurrent call with the same key won, answer with its entry."""

    def run(**kwargs):
        try:
            return action(**kwargs)
        except IntegrityError:
            key = kwargs.get("idempotency_key")
            if not key:
                raise
            entry = LedgerEntry.objects.filter(store=kwargs["store"], idempotency_key=key).first()
            if entry is None:
                raise
            if entry.member_id != kwargs["member"].pk:
                raise IdempotencyKeyReused() from None
            return entry

    run.__doc__ = action.__doc__
    run.__name__ = action.__name__
    return run
