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
from loyalty.selectors import campaign_uses_total, member_facts_wanted
from loyalty.services import webhooks
from loyalty.services.effects import outcome_apply, tier_lift
from loyalty.services.ledger import (
    MAX_POINTS_PER_ENTRY,
    _balance_after,
    _clean_amount,
    _clean_key,
    _entry_stand_in,
    _entry_told,
    _idempotent,
    _lock_member_with_facts,
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
            points=0,
            decide=lambda facts: _decide(facts, purchase, terms),
            campaigns=terms.campaigns,
            **fields,
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
        # What the campaigns may know of the member (`selectors.member_facts`), one statement.
        capped, first_store = member_facts_wanted(store=store, campaigns=terms.campaigns)
        found = ledger_sql.member_facts_row(member.pk, capped=capped, first_at_store=first_store)
        if found is None:
            raise MemberNotFound()
        status, tier, uses, first = found
        if status != MemberStatus.ACTIVE:
            raise MemberInactive()
        facts = MemberFacts(tier=tier, first_at_store=first, uses=uses)
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


def _decide(facts: MemberFacts, purchase: Purchase, terms) -> Outcome:
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
    campaigns=(),
    one_statement: bool | None = None,
    **fields,
) -> LedgerEntry:
    """Earn the portable way: lock the member, check for a replay, write entry and balance.

    With `decide`, what the purchase earns is decided under the lock from what the
    `campaigns` may know of the member, read by the locking statement
    (`decide(facts) -> Outcome`), and its effects (campaign uses, coupons, tier) written too.
    On PostgreSQL these writes take one statement unless coupons are issued
    (`one_statement=False` asks for the ORM's writes, which the contract tests compare with).
    """
    locked, facts = _lock_member_with_facts(
        member, store=store, idempotency_key=idempotency_key, campaigns=campaigns
    )
    entry = _replayed(
        locked=locked,
        kind=EntryKind.EARN,
        purchase_amount=purchase_amount,
        reference=fields["reference"],
    )
    if entry is None:
        outcome = decide(facts) if decide is not None else None
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
        if one_statement is None:
            one_statement = connection.vendor == "postgresql"
        if one_statement and not (outcome is not None and outcome.coupons):
            entry = _write_locked_in_one_statement(
                locked=locked,
                store=store,
                points=points,
                detail=detail,
                campaign_ids=outcome.campaign_ids if outcome is not None else (),
                tiers=tiers,
                purchase_amount=purchase_amount,
                idempotency_key=idempotency_key,
                **fields,
            )
            member.points_balance = locked.points_balance
            return entry
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


def _write_locked_in_one_statement(
    *,
    locked: Member,
    store: Store,
    staff: AbstractBaseUser | None,
    points: int,
    at: datetime,
    detail: list,
    campaign_ids: tuple[int, ...],
    tiers,
    purchase_amount: Decimal,
    reference: str,
    idempotency_key: str | None,
) -> LedgerEntry:
    """What `_write` and `outcome_apply` do for an earn decided under the lock (no coupon to
    issue), in one statement on PostgreSQL (`ledger_sql.earn_locked_write`): the same member
    fields, the same entry, the same campaign uses, the same webhooks."""
    balance = _balance_after(locked, points)
    tier_before = locked.tier
    tier_lift(member=locked, points=points, tiers=tiers)
    now = timezone.now()
    entry_id = ledger_sql.earn_locked_write(
        {
            "member": locked.pk,
            "balance": balance,
            "tier_points": locked.tier_points,
            "tier": locked.tier,
            "tier_kept_until": locked.tier_kept_until,
            "owed": locked.points_owed,
            "at": at,
            "now": now,
            "store": store.pk,
            "staff": staff.pk if staff is not None else None,
            "kind": EntryKind.EARN,
            "points": points,
            "amount": purchase_amount,
            "reference": reference,
            "detail": json.dumps(detail),
            "key": idempotency_key,
            "campaigns": list(campaign_ids),
            "applied_on": timezone.localdate(at),
        }
    )
    if entry_id is None:
        raise MemberNotFound()
    locked.points_balance, locked.last_activity_at, locked.updated_at = balance, at, now
    entry = _entry_stand_in(
        entry_id=entry_id,
        member=locked,
        store=store,
        staff=staff,
        kind=EntryKind.EARN,
        points=points,
        balance_after=balance,
        purchase_amount=purchase_amount,
        reference=reference,
        detail=detail,
        idempotency_key=idempotency_key,
        created_at=at,
    )
    entry.coupons_issued = []
    _entry_told(entry=entry, member=locked, store=store, tier_before=tier_before)
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
    entry = _entry_stand_in(
        entry_id=entry_id,
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
    entry.coupons_issued = []
    return entry
