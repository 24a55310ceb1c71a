"""Every write of the loyalty app: joining, earning, redeeming, adjusting, expiring points.

A change to a balance is an action: lock the member row, write an append-only ledger row,
update the cached balance, all in one transaction. Rules about how many points a purchase
earns live in `loyalty.rules` and never see how the member joined.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, connection, transaction
from django.db.models import Q, Sum
from django.db.models.functions import Lower
from django.utils import timezone

from core.errors import (
    EntryNotReversible,
    IdempotencyKeyReused,
    InsufficientPoints,
    InvalidAmount,
    InvalidInput,
    InvalidPoints,
    MemberExists,
    MemberInactive,
    MemberNotFound,
    RewardUnavailable,
)
from loyalty.contact import email_normalize, phone_normalize
from loyalty.models import (
    EidCard,
    EntryKind,
    JoinChannel,
    LedgerEntry,
    Member,
    MemberStatus,
    Reward,
)
from loyalty.numbers import member_number_generate
from loyalty.rules import points_for_purchase
from loyalty.selectors import rewards_offered
from stores.models import Store
from stores.selectors import campaign_multiplier_sql, earning_rule_for_store

MAX_POINTS_PER_ENTRY = 10_000_000
NAME_MAX = 100


def _clean_name(value: str, field: str) -> str:
    value = " ".join((value or "").split())
    if not value or len(value) > NAME_MAX or any(ch.isdigit() for ch in value):
        raise InvalidInput(details={field: ["Enter a name (letters only, up to 100)."]})
    return value


def _create_member(**fields) -> Member:
    """Insert a member with a fresh number; retry on the rare number collision."""
    for _ in range(5):
        try:
            with transaction.atomic():
                return Member.objects.create(number=member_number_generate(), **fields)
        except IntegrityError:
            if (
                "email" in fields
                and fields["email"]
                and Member.objects.annotate(email_ci=Lower("email"))
                .filter(email_ci=fields["email"].lower())
                .exists()
            ):
                raise MemberExists() from None
    raise IntegrityError("Could not allocate a unique member number.")


def member_enroll_by_form(
    *,
    store: Store,
    given_name: str,
    surname: str,
    email: str,
    phone: str,
) -> Member:
    """Enrol a customer who joins with the form: given name, surname, e-mail and phone only."""
    given_name = _clean_name(given_name, "given_name")
    surname = _clean_name(surname, "surname")
    email = email_normalize(email)
    phone = phone_normalize(phone)
    if Member.objects.annotate(email_ci=Lower("email")).filter(email_ci=email.lower()).exists():
        raise MemberExists()
    return _create_member(
        given_name=given_name,
        surname=surname,
        email=email,
        phone=phone,
        joined_via=JoinChannel.FORM,
        home_store=store,
        last_activity_at=timezone.now(),
    )


@transaction.atomic
def member_enroll_by_eid(*, store: Store, given_name: str, surname: str, eid_token: str) -> Member:
    """Enrol a customer from their eID card: the name and a keyed hash of the card number."""
    member = _create_member(
        given_name=_clean_name(given_name, "given_name"),
        surname=_clean_name(surname, "surname"),
        joined_via=JoinChannel.EID,
        home_store=store,
        last_activity_at=timezone.now(),
    )
    EidCard.objects.create(member=member, token=eid_token)
    return member


def _lock_member(
    member: Member,
    *,
    store: Store | None = None,
    idempotency_key: str | None = None,
    campaign_at: datetime | None = None,
) -> Member:
    """Lock the member's row and return it fresh; raise unless the membership is active.

    On the hot earn and redeem paths the same query also reads what comes next, saving a
    round trip each: `replayed_id`, the entry an earlier call with this idempotency key wrote
    at `store` (None if none), and `campaign_multiplier`, the multiplier of the campaign running
    at `store` at `campaign_at` (None if none).
    """
    # Written by hand: the ORM took longer to build this SELECT ... FOR UPDATE with its two
    # subqueries than PostgreSQL takes to run it, on every earn.
    columns, params = ["m.*"], []
    if idempotency_key:
        # (store, idempotency_key) is unique: at most one row.
        columns.append(
            "(SELECT e.id FROM loyalty_ledgerentry e"
            " WHERE e.store_id = %s AND e.idempotency_key = %s) AS replayed_id"
        )
        params += [store.pk, idempotency_key]
    if campaign_at is not None:
        campaign = campaign_multiplier_sql(store, at=campaign_at)
        columns.append(f"({campaign.sql}) AS campaign_multiplier")
        params += campaign.params
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    sql = f"SELECT {', '.join(columns)} FROM loyalty_member m WHERE m.id = %s{lock}"  # noqa: S608
    locked = next(iter(Member.objects.raw(sql, [*params, member.pk])), None)
    if locked is None:
        raise MemberNotFound()
    if campaign_at is not None and locked.campaign_multiplier is not None:
        # A raw row skips the ORM's converters (SQLite answers a float).
        locked.campaign_multiplier = Decimal(str(locked.campaign_multiplier))
    if locked.status != MemberStatus.ACTIVE:
        raise MemberInactive()
    return locked


def _replayed(*, locked: Member, kind: str, **same) -> LedgerEntry | None:
    """Return the entry an earlier call with this key wrote, if it was the same request.

    `locked` comes from `_lock_member` with the key, which found the entry's id (if any).
    """
    if getattr(locked, "replayed_id", None) is None:
        return None
    entry = LedgerEntry.objects.get(pk=locked.replayed_id)
    if (
        entry.member_id != locked.pk
        or entry.kind != kind
        or any(getattr(entry, k) != v for k, v in same.items())
    ):
        raise IdempotencyKeyReused()
    return entry


def _clean_key(idempotency_key: str | None) -> str | None:
    if idempotency_key is None:
        return None
    key = str(idempotency_key).strip()
    if not key or len(key) > 100 or not key.isprintable():
        raise InvalidInput("The Idempotency-Key must be 1 to 100 printable characters.")
    return key


def _clean_amount(amount) -> Decimal:
    try:
        value = Decimal(str(amount))
    except (InvalidOperation, ValueError, TypeError):
        raise InvalidAmount() from None
    if not value.is_finite() or value <= 0 or value > settings.LOYALTY_MAX_PURCHASE_AMOUNT:
        raise InvalidAmount()
    if value != value.quantize(Decimal("0.01")):
        raise InvalidAmount("The purchase amount has at most two decimals (cents).")
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
    **fields,
) -> LedgerEntry:
    """Append one ledger row and move the locked member's cached balance with it."""
    new_balance = member.points_balance + points
    if new_balance < 0:
        raise InsufficientPoints(details={"balance": member.points_balance, "required": -points})
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
    member.save(update_fields=update_fields)
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


@_idempotent
@transaction.atomic
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
    locked = _lock_member(member, store=store, idempotency_key=idempotency_key, campaign_at=at)
    replay = _replayed(locked=locked, kind=EntryKind.EARN, purchase_amount=amount)
    if replay:
        return replay
    points = points_for_purchase(
        amount=amount,
        rule=earning_rule_for_store(store),
        multiplier=locked.campaign_multiplier or Decimal("1"),
    )
    entry = _write(
        member=locked,
        store=store,
        staff=staff,
        kind=EntryKind.EARN,
        points=points,
        at=at,
        activity=True,
        purchase_amount=amount,
        reference=str(reference)[:64],
        idempotency_key=idempotency_key,
    )
    member.points_balance = locked.points_balance
    return entry


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
        raise InvalidInput("Redeem either a reward or a number of points.")
    if reward is not None:
        if not rewards_offered(store=store, at=at).filter(pk=reward.pk).exists():
            raise RewardUnavailable()
        points = reward.point_cost
    points = _clean_points(points)
    locked = _lock_member(member, store=store, idempotency_key=idempotency_key)
    replay = _replayed(locked=locked, kind=EntryKind.REDEEM, points=-points)
    if replay:
        return replay
    entry = _write(
        member=locked,
        store=store,
        staff=staff,
        kind=EntryKind.REDEEM,
        points=-points,
        at=at,
        activity=True,
        reward=reward,
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
        raise InvalidPoints("An adjustment is a non-zero whole number of points.")
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
        raise EntryNotReversible("This entry has already been reversed or moved no points.")
    locked = _lock_member(entry.member)
    return _write(
        member=locked,
        store=entry.store,
        staff=staff,
        kind=EntryKind.REVERSE,
        points=-entry.points,
        at=timezone.now(),
        activity=False,
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
        at=at or timezone.now(),
        activity=False,
        reference=f"expired before {cutoff.date().isoformat()}",
    )


@transaction.atomic
def member_eid_unlink(*, member: Member) -> bool:
    """Remove the member's eID card link; they keep their number, points and rewards.

    Returns whether there was a link. Withdrawing eID consent calls this (see loyalty.privacy).
    """
    deleted, _ = EidCard.objects.filter(member=member).delete()
    member._state.fields_cache.pop("eid_card", None)
    if deleted:
        Member.objects.filter(pk=member.pk).update(updated_at=timezone.now())
    return bool(deleted)
