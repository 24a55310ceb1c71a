"""Returns: points taken back in proportion, by the sale's reference; never below zero."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import ROUND_FLOOR, Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import InvalidInput, ReturnTooLarge, SaleNotFound
from loyalty.models import EntryKind, LedgerEntry, Member
from loyalty.services.ledger import _clean_amount, _clean_key, _idempotent, _lock_member, _write
from stores.models import CampaignTrigger, Store
from stores.selectors import pending_windows


@_idempotent
@transaction.atomic
def points_return(
    *,
    member: Member,
    store: Store,
    staff: AbstractBaseUser | None,
    sale_reference: str,
    amount: Decimal | str,
    idempotency_key: str | None = None,
    at: datetime | None = None,
) -> LedgerEntry:
    """Take back the points of the returned part of a sale, found by its reference.

    Proportional and cumulative: returning the whole sale in parts takes back exactly what it
    earned. What the balance cannot cover is recorded (`points_owed`) and taken from the next
    points earned; the balance never goes negative.
    """
    at = at or timezone.now()
    amount = _clean_amount(amount)
    idempotency_key = _clean_key(idempotency_key)
    sale_reference = str(sale_reference or "").strip()[:64]
    if not sale_reference:
        raise InvalidInput(details={"sale_reference": [_("Name the sale that is returned.")]})
    locked = _lock_member(member, store=store, idempotency_key=idempotency_key)
    if getattr(locked, "replayed_id", None) is not None:
        entry = LedgerEntry.objects.get(pk=locked.replayed_id)
        if entry.kind != EntryKind.RETURN or entry.purchase_amount != -amount:
            from core.errors import IdempotencyKeyReused

            raise IdempotencyKeyReused()
        return entry
    sale = (
        LedgerEntry.objects.filter(member=locked, kind=EntryKind.EARN, reference=sale_reference)
        .order_by("-created_at", "-pk")
        .first()
    )
    if sale is None or not sale.purchase_amount:
        raise SaleNotFound()
    before = sale.returns.aggregate(
        amount=Sum("purchase_amount", default=Decimal("0")), points=Sum("points", default=0)
    )
    returned = -before["amount"] + amount
    if returned > sale.purchase_amount:
        raise ReturnTooLarge(details={"left": str(sale.purchase_amount + before["amount"])})
    # Points taken back so far are the return entries' points plus what they left owed.
    taken_before = sum(-(r.points) + _owed_part(r) for r in sale.returns.all())
    due = int((Decimal(sale.points) * returned / sale.purchase_amount).to_integral(ROUND_FLOOR))
    take = max(due - taken_before, 0)
    now_taken = min(take, locked.points_balance)
    owed = take - now_taken
    detail = [{"reason": "return", "points": -now_taken}]
    if owed:
        detail.append({"reason": "shortfall", "points": -owed})
    locked.points_owed += owed
    locked.tier_points = max(locked.tier_points - take, 0)

    entry = _write(
        member=locked,
        store=store,
        staff=staff,
        kind=EntryKind.RETURN,
        points=-now_taken,
        at=at,
        activity=True,
        purchase_amount=-amount,
        sale=sale,
        reference=sale_reference,
        idempotency_key=idempotency_key,
        detail=detail,
        member_changes=lambda m: ["points_owed", "tier_points"],
    )
    member.points_balance = locked.points_balance
    from loyalty.services.events import member_event_reward

    member_event_reward(member=locked, trigger=CampaignTrigger.RETURN, store=store, at=at)
    return entry


def _owed_part(entry: LedgerEntry) -> int:
    return sum(-p["points"] for p in entry.detail if p.get("reason") == "shortfall")


def points_pending(*, member: Member, at: datetime | None = None) -> int:
    """Return the member's points still inside their store's return window (not spendable)."""
    windows = pending_windows()
    if not windows:
        return 0
    at = at or timezone.now()
    recent = Q()
    for store_id, days in windows.items():
        recent |= Q(store_id=store_id, created_at__gt=at - timedelta(days=days))
    earned = LedgerEntry.objects.filter(recent, member=member, kind=EntryKind.EARN, points__gt=0)
    pending = earned.aggregate(s=Sum("points"))["s"] or 0
    # What was returned of those sales is no longer pending.
    returned = (
        LedgerEntry.objects.filter(kind=EntryKind.RETURN, sale__in=earned).aggregate(
            s=Sum("points")
        )["s"]
        or 0
    )
    return max(min(pending + returned, member.points_balance), 0)
