"""Taking points (redeeming), correcting them (adjust, reverse) and expiring them."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import (
    EntryNotReversible,
    InsufficientPoints,
    InvalidInput,
    InvalidPoints,
    RewardUnavailable,
)
from loyalty.models import EntryKind, ExpiryWatermark, LedgerEntry, Member, Reward
from loyalty.selectors import (
    members_with_credits_between,
    members_with_expirable_points,
    rewards_offered,
)
from loyalty.services.ledger import (
    MAX_POINTS_PER_ENTRY,
    _clean_key,
    _clean_points,
    _idempotent,
    _lock_member,
    _replayed,
    _write,
)
from loyalty.services.returns import points_pending
from stores.models import Store


def _who(staff: AbstractBaseUser | None) -> str:
    """The staff account that moved points by hand, as the history names it."""
    return staff.get_username() if staff is not None and staff.is_authenticated else ""


@_idempotent
@transaction.atomic
def points_redeem(
    *,
    member: Member,
    store: Store,
    staff: AbstractBaseUser | None,
    points: int | None = None,
    reward: Reward | None = None,
    reference: str = "",
    idempotency_key: str | None = None,
    at: datetime | None = None,
) -> LedgerEntry:
    """Take points from the balance: a reward's cost, or a number of points (part of it)."""
    at = at or timezone.now()
    idempotency_key = _clean_key(idempotency_key)
    if (points is None) == (reward is None):
        raise InvalidInput(_("Redeem either a reward or a number of points."))
    if reward is not None:
        if not rewards_offered(store=store, at=at).filter(pk=reward.pk).exists():
            raise RewardUnavailable()
        points = reward.point_cost
    points = _clean_points(points)
    locked = _lock_member(member, store=store, idempotency_key=idempotency_key)
    replay = _replayed(
        locked=locked, kind=EntryKind.REDEEM, points=-points, reference=str(reference)[:64]
    )
    if replay:
        return replay
    pending = points_pending(member=locked, at=at)
    if pending and locked.points_balance - pending < points:
        raise InsufficientPoints(
            _("Some points are still within their store's return window."),
            details={"balance": locked.points_balance, "pending": pending, "required": points},
        )
    entry = _write(
        member=locked,
        store=store,
        staff=staff,
        kind=EntryKind.REDEEM,
        points=-points,
        at=at,
        activity=True,
        reward=reward,
        detail=[{"reason": "redemption", "points": -points}],
        reference=str(reference)[:64],
        idempotency_key=idempotency_key,
    )
    member.points_balance = locked.points_balance
    return entry


@transaction.atomic
def points_adjust(
    *,
    member: Member,
    store: Store,
    staff: AbstractBaseUser | None,
    points: int,
    reference: str,
) -> LedgerEntry:
    """Correct a balance by hand (head office): positive or negative, with a reason."""
    if isinstance(points, bool) or not isinstance(points, int) or points == 0:
        raise InvalidPoints(_("An adjustment is a non-zero whole number of points."))
    if abs(points) > MAX_POINTS_PER_ENTRY:
        raise InvalidPoints()
    if not reference.strip():
        raise InvalidInput(details={"reference": ["Say why the balance is adjusted."]})
    locked = _lock_member(member)
    entry = _write(
        member=locked,
        store=store,
        staff=staff,
        kind=EntryKind.ADJUST,
        points=points,
        at=timezone.now(),
        activity=False,
        detail=[{"reason": "adjustment", "by": _who(staff), "points": points}],
        reference=reference.strip()[:64],
    )
    member.points_balance = locked.points_balance
    return entry


@transaction.atomic
def points_reverse(
    *, entry: LedgerEntry, staff: AbstractBaseUser | None, reference: str = ""
) -> LedgerEntry:
    """Undo an earn or a redemption (a refunded purchase, a cancelled reward) with a new row."""
    if entry.kind not in (EntryKind.EARN, EntryKind.REDEEM) or entry.member_id is None:
        raise EntryNotReversible()
    if entry.points == 0 or LedgerEntry.objects.filter(reverses=entry).exists():
        raise EntryNotReversible(_("This entry has already been reversed or moved no points."))
    locked = _lock_member(entry.member)
    return _write(
        member=locked,
        store=entry.store,
        staff=staff,
        kind=EntryKind.REVERSE,
        points=-entry.points,
        at=timezone.now(),
        activity=False,
        detail=[{"reason": "reversal", "by": _who(staff), "points": -entry.points}],
        reverses=entry,
        reference=str(reference)[:64],
    )


@transaction.atomic
def points_expire(
    *, member_id: int, cutoff: datetime, at: datetime | None = None
) -> LedgerEntry | None:
    """Expire what is left of the member's credits older than `cutoff`, oldest first.

    Idempotent: once expired, the old credits are covered by debits and a re-run writes nothing.
    """
    try:
        locked = Member.objects.select_for_update().get(pk=member_id)
    except Member.DoesNotExist:
        return None
    sums = LedgerEntry.objects.filter(member=locked).aggregate(
        old_credits=Sum("points", filter=Q(points__gt=0, created_at__lt=cutoff), default=0),
        debits=Sum("points", filter=Q(points__lt=0), default=0),
    )
    expirable = min(sums["old_credits"] + sums["debits"], locked.points_balance)
    if expirable <= 0:
        return None
    return _write(
        member=locked,
        store=locked.home_store,
        staff=None,
        kind=EntryKind.EXPIRE,
        points=-expirable,
        detail=[{"reason": "expiry", "points": -expirable}],
        at=at or timezone.now(),
        activity=False,
        reference=f"expired before {cutoff.date().isoformat()}",
    )


EXPIRY_WATERMARK_PK = 1


def points_expire_due(
    *,
    cutoff: datetime,
    at: datetime | None = None,
    full: bool = False,
    step: timedelta = timedelta(days=7),
) -> int:
    """Expire what fell behind `cutoff` since the last run; return how many members lost points.

    Only a credit that fell behind the cutoff since the last run can make anything newly
    expirable: debits only ever cover more, and entries carry the time they were written. So
    the run reads the credits between the last run's cutoff and this one, one `step` of time at
    a time (a range of the index on `created_at`, never the whole ledger), weighs their members
    through each member's own entries (the index on member and time), and expires each one in
    its own transaction. The watermark moves after each range: an interrupted run continues
    where it stopped, and a range run twice writes nothing new.

    `full` starts again from the oldest credit: the repair after entries were written with
    past times (an import), which a watermark past them would not see.
    """
    at = at or timezone.now()
    mark = ExpiryWatermark.objects.filter(pk=EXPIRY_WATERMARK_PK).first()
    if full or mark is None:
        oldest = (
            LedgerEntry.objects.filter(points__gt=0)
            .order_by("created_at")
            .values_list("created_at", flat=True)
            .first()
        )
        start = oldest or cutoff
    else:
        start = mark.credits_before
    expired = 0
    while start < cutoff:
        end = min(start + step, cutoff)
        due = members_with_expirable_points(
            cutoff=cutoff, among=members_with_credits_between(start=start, end=end)
        )
        for member_id in sorted(due):
            if points_expire(member_id=member_id, cutoff=cutoff, at=at) is not None:
                expired += 1
        ExpiryWatermark.objects.update_or_create(
            pk=EXPIRY_WATERMARK_PK, defaults={"credits_before": end, "ran_at": at}
        )
        start = end
    if mark is None:
        # Nothing old enough yet (or the loop wrote it already): where the next run starts.
        ExpiryWatermark.objects.get_or_create(
            pk=EXPIRY_WATERMARK_PK, defaults={"credits_before": start, "ran_at": at}
        )
    return expired


def points_expiry_rewind() -> None:
    """Make the next expiry run weigh the whole ledger again (after entries with past times)."""
    ExpiryWatermark.objects.filter(pk=EXPIRY_WATERMARK_PK).delete()
