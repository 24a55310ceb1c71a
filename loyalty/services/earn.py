"""Earning points for a purchase: the counter's most frequent write, and its quote.

What a purchase earns is `loyalty.rules.earn_outcome` (rule, campaigns, tier). When it does
not depend on the member (no tiers, no campaign that could apply reads the member or issues a
coupon), PostgreSQL writes it in one statement (`ledger_sql.earn_row`); otherwise the member's
row is locked first and their facts read under the lock (`_earn_locked`).
"""

from __future__ import annotations

import json
from contextlib import nullcontext
from datetime import datetime
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.db import DataError, connection, transaction
from django.utils import timezone

from core.errors import BalanceOutOfRange, MemberInactive, MemberNotFound, PointsOutOfRange
from loyalty import ledger_sql
from loyalty.models import Coupon, EntryKind, LedgerEntry, Member, MemberStatus, WebhookEvent
from loyalty.rules import (
    BasketLine,
    MemberFacts,
    Outcome,
    Purchase,
    earn_needs_member,
    earn_outcome,
)
from loyalty.selectors import campaign_uses_total, member_facts
from loyalty.services import webhooks
from loyalty.services.effects import outcome_apply, tier_lift
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
    lines: tuple[BasketLine, ...] | list[BasketLine] = (),
) -> LedgerEntry:
    """Credit the points a purchase earns: the store's rule, campaigns and the member's tier."""
    amount = _clean_amount(amount)
    idempotency_key = _clean_key(idempotency_key)
    at = at or timezone.now()
    terms = earning_terms(store)
    purchase = Purchase(store_id=store.pk, amount=amount, at=at, lines=tuple(lines))
    fields = {
        "member": member,
        "store": store,
        "staff": staff if staff is not None and staff.is_authenticated else None,
        "at": at,
        "purchase_amount": amount,
        "reference": str(reference)[:64],
        "idempotency_key": idempotency_key,
    }
    if (
        earn_needs_member(purchase=purchase, terms=terms)
        or _has_effects(purchase, terms)
        # Its webhook's outbox row goes in the entry's transaction: the one statement has none.
        or webhooks.subscribed(WebhookEvent.POINTS_EARNED)
    ):
        return _earn_locked(
            points=0, decide=lambda locked: _decide(locked, purchase, terms), **fields
        )
    outcome = earn_outcome(purchase=purchase, terms=terms, facts=MemberFacts())
    _check_points(outcome.points)
    write = _earn_in_one_statement if connection.vendor == "postgresql" else _earn_locked
    return write(points=outcome.points, detail=list(outcome.parts), **fields)


def points_quote(
    *,
    member: Member,
    store: Store,
    amount: Decimal | str,
    lines: tuple[BasketLine, ...] | list[BasketLine] = (),
    at: datetime | None = None,
) -> Outcome:
    """Return what this basket would earn the member now, writing nothing."""
    amount = _clean_amount(amount)
    at = at or timezone.now()
    terms = earning_terms(store)
    purchase = Purchase(store_id=store.pk, amount=amount, at=at, lines=tuple(lines))
    facts = MemberFacts()
    if earn_needs_member(purchase=purchase, terms=terms):
        found = Member.objects.filter(pk=member.pk).only("pk", "tier", "status").first()
        if found is None:
            raise MemberNotFound()
        if found.status != MemberStatus.ACTIVE:
            raise MemberInactive()
        facts = member_facts(member=found, store=store, campaigns=terms.campaigns)
    outcome = earn_outcome(
        purchase=purchase,
        terms=terms,
        facts=facts,
        total_uses=campaign_uses_total(terms.campaigns),
    )
    _check_points(outcome.points)
    return outcome


def _check_points(points: int) -> None:
    if points > MAX_POINTS_PER_ENTRY:
        # A generous rule times a campaign times a large purchase: refused, never wrapped.
        raise PointsOutOfRange()


def _has_effects(purchase: Purchase, terms) -> bool:
    """Whether a campaign that could apply writes more than the entry (coupon, a total cap)."""
    from loyalty.rules import campaign_matches

    return any(
        (c.issues_coupon or c.max_total is not None)
        and campaign_matches(c, purchase=purchase, facts=None)
        for c in terms.campaigns
    )


def _decide(locked: Member, purchase: Purchase, terms) -> Outcome:
    facts = member_facts(member=locked, store=purchase.store_id, campaigns=terms.campaigns)
    total = campaign_uses_total(terms.campaigns, lock=True)
    outcome = earn_outcome(purchase=purchase, terms=terms, facts=facts, total_uses=total)
    _check_points(outcome.points)
    return outcome


@transaction.atomic
def _earn_locked(
    *,
    member: Member,
    store: Store,
    purchase_amount: Decimal,
    idempotency_key,
    points: int,
    detail: list | None = None,
    decide=None,
    **fields,
) -> LedgerEntry:
    """Earn the portable way: lock the member, check for a replay, write entry and balance.

    With `decide`, what the purchase earns is decided under the lock from the member's facts
    (`decide(locked) -> Outcome`) and its effects (campaign uses, coupons, tier) written too.
    """
    locked = _lock_member(member, store=store, idempotency_key=idempotency_key)
    entry = _replayed(
        locked=locked,
        kind=EntryKind.EARN,
        purchase_amount=purchase_amount,
        reference=fields["reference"],
    )
    if entry is None:
        outcome = decide(locked) if decide is not None else None
        if outcome is not None:
            points, detail = outcome.points, list(outcome.parts)
        detail = detail if detail is not None else [{"reason": "purchase", "points": points}]
        owed = min(locked.points_owed, points)
        if owed:
            # What a return could not take back comes off these points, visibly.
            points -= owed
            detail = [*detail, {"reason": "shortfall", "points": -owed}]
            locked.points_owed -= owed
        tiers = earning_terms(store).tiers
        entry = _write(
            member=locked,
            store=store,
            kind=EntryKind.EARN,
            points=points,
            activity=True,
            purchase_amount=purchase_amount,
            idempotency_key=idempotency_key,
            detail=detail,
            member_changes=lambda m: [
                *tier_lift(member=m, points=points, tiers=tiers),
                *(["points_owed"] if owed else []),
            ],
            **fields,
        )
        entry.coupons_issued = outcome_apply(member=locked, entry=entry, outcome=outcome)
    else:
        entry.coupons_issued = list(Coupon.objects.filter(issued_entry=entry))
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
    detail: list | None = None,
) -> LedgerEntry:
    """Earn with `ledger_sql.earn_row`; raise as `_earn_locked` does when nothing was written."""
    detail = detail if detail is not None else [{"reason": "purchase", "points": points}]
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
        "detail": json.dumps(detail),
    }
    # Alone, the statement is its own transaction; inside a caller's, a savepoint keeps that
    # transaction usable if it fails (a concurrent retry with the same key, see _idempotent).
    savepoint = transaction.atomic() if connection.in_atomic_block else nullcontext()
    try:
        with savepoint:
            row = ledger_sql.earn_row(params)
            replayed_id, entry_id, balance_after, status, balance, owed = row
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
        entry.coupons_issued = list(Coupon.objects.filter(issued_entry=entry))
        return entry
    if entry_id is None and status == MemberStatus.ACTIVE and owed:
        # Points owed from a return come off first: the portable path does that.
        return _earn_locked(
            member=member,
            store=store,
            staff=staff,
            points=points,
            at=at,
            purchase_amount=purchase_amount,
            reference=reference,
            idempotency_key=idempotency_key,
            detail=detail,
        )
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
        detail=detail,
        idempotency_key=idempotency_key,
        created_at=at,
    )
    entry._state.adding = False
    entry._state.db = connection.alias
    entry.coupons_issued = []
    return entry
