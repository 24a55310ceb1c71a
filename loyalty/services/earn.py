"""Earning points for a purchase: the counter's most frequent write."""

from __future__ import annotations

from contextlib import nullcontext
from datetime import datetime
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.db import DataError, connection, transaction
from django.utils import timezone

from core.errors import BalanceOutOfRange, MemberInactive, MemberNotFound, PointsOutOfRange
from loyalty import ledger_sql
from loyalty.models import EntryKind, LedgerEntry, Member, MemberStatus
from loyalty.rules import points_for_purchase
from loyalty.services.ledger import (
    MAX_POINTS_PER_ENTRY,
    _clean_amount,
    _clean_key,
    _idempotent,
    _lock_member,
    _replay_checked,
    _replayed,
    _write,
)
from stores.models import Store
from stores.selectors import earning_terms


@_idempotent
def points_earn(
    *,
    member: Member,
    store: Store,
    staff: AbstractBaseUser | None,
    amount: Decimal | str,
    reference: str = "",
    idempotency_key: str | None = None,
    at: datetime | None = None,
) -> LedgerEntry:
    """Credit the points a purchase earns under the store's rule and running campaign."""
    amount = _clean_amount(amount)
    idempotency_key = _clean_key(idempotency_key)
    at = at or timezone.now()
    terms = earning_terms(store)
    points = points_for_purchase(amount=amount, rule=terms, multiplier=terms.multiplier_at(at))
    if points > MAX_POINTS_PER_ENTRY:
        # A generous rule times a campaign times a large purchase: refused, never wrapped.
        raise PointsOutOfRange()
    write = _earn_in_one_statement if connection.vendor == "postgresql" else _earn_locked
    entry = write(
        member=member,
        store=store,
        staff=staff if staff is not None and staff.is_authenticated else None,
        points=points,
        at=at,
        purchase_amount=amount,
        reference=str(reference)[:64],
        idempotency_key=idempotency_key,
    )
    return entry


@transaction.atomic
def _earn_locked(
    *, member: Member, store: Store, purchase_amount: Decimal, idempotency_key, **fields
) -> LedgerEntry:
    """Earn the portable way: lock the member, check for a replay, write entry and balance."""
    locked = _lock_member(member, store=store, idempotency_key=idempotency_key)
    entry = _replayed(
        locked=locked,
        kind=EntryKind.EARN,
        purchase_amount=purchase_amount,
        reference=fields["reference"],
    )
    if entry is None:
        entry = _write(
            member=locked,
            store=store,
            kind=EntryKind.EARN,
            activity=True,
            purchase_amount=purchase_amount,
            idempotency_key=idempotency_key,
            **fields,
        )
    member.points_balance = locked.points_balance
    return entry


def _earn_in_one_statement(
    *,
    member: Member,
    store: Store,
    staff: AbstractBaseUser | None,
    points: int,
    at: datetime,
    purchase_amount: Decimal,
    reference: str,
    idempotency_key: str | None,
) -> LedgerEntry:
    """Earn with `ledger_sql.earn_row`; raise as `_earn_locked` does when nothing was written."""
    params = {
        "store": store.pk,
        "key": idempotency_key,
        "points": points,
        "at": at,
        "now": timezone.now(),
        "member": member.pk,
        "active": MemberStatus.ACTIVE,
        "staff": staff.pk if staff is not None else None,
        "kind": EntryKind.EARN,
        "amount": purchase_amount,
        "reference": reference,
    }
    # Alone, the statement is its own transaction; inside a caller's, a savepoint keeps that
    # transaction usable if it fails (a concurrent retry with the same key, see _idempotent).
    savepoint = transaction.atomic() if connection.in_atomic_block else nullcontext()
    try:
        with savepoint:
            replayed_id, entry_id, balance_after, status, balance = ledger_sql.earn_row(params)
    except DataError:
        # The balance would pass PostgreSQL's integer: refused as the portable path refuses it.
        raise BalanceOutOfRange() from None
    if replayed_id is not None:
        entry = _replay_checked(
            LedgerEntry.objects.get(pk=replayed_id),
            member=member,
            kind=EntryKind.EARN,
            purchase_amount=purchase_amount,
            reference=reference,
        )
        member.points_balance = balance  # as it is now, as `_earn_locked` answers
        return entry
    if entry_id is None:
        raise MemberNotFound() if status is None else MemberInactive()
    member.points_balance = balance_after
    entry = LedgerEntry(
        id=entry_id,
        member=member,
        store=store,
        staff=staff,
        kind=EntryKind.EARN,
        points=points,
        balance_after=balance_after,
        purchase_amount=purchase_amount,
        reference=reference,
        idempotency_key=idempotency_key,
        created_at=at,
    )
    entry._state.adding = False
    entry._state.db = connection.alias
    return entry
