"""Every write of the loyalty app: joining, earning, redeeming, adjusting, expiring points.

A change to a balance is an action: lock the member row, write an append-only ledger row,
update the cached balance, all in one transaction. Rules about how many points a purchase
earns live in `loyalty.rules` and never see how the member joined.
"""

from __future__ import annotations

from contextlib import nullcontext
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
from stores.selectors import campaign_multiplier, earning_rule_for_store

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
) -> Member:
    """Lock the member's row and return it fresh; raise unless the membership is active.

    With an idempotency key the same query also reads `replayed_id`, the entry an earlier
    call with this key wrote at `store` (None if none), saving a round trip.
    """
    # Written by hand: the ORM took longer to build this SELECT ... FOR UPDATE with its
    # subquery than PostgreSQL takes to run it.
    columns, params = ["m.*"], []
    if idempotency_key:
        # (store, idempotency_key) is unique: at most one row.
        columns.append(
            "(SELECT e.id FROM loyalty_ledgerentry e"
            " WHERE e.store_id = %s AND e.idempotency_key = %s) AS replayed_id"
        )
        params += [store.pk, idempotency_key]
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    sql = f"SELECT {', '.join(columns)} FROM loyalty_member m WHERE m.id = %s{lock}"  # noqa: S608
    locked = next(iter(Member.objects.raw(sql, [*params, member.pk])), None)
    if locked is None:
        raise MemberNotFound()
    if locked.status != MemberStatus.ACTIVE:
        raise MemberInactive()
    return locked


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
    points = points_for_purchase(
        amount=amount,
        rule=earning_rule_for_store(store),
        multiplier=campaign_multiplier(store, at=at),
    )
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
    member.points_balance = entry.balance_after
    return entry


@transaction.atomic
def _earn_locked(
    *, member: Member, store: Store, purchase_amount: Decimal, idempotency_key, **fields
) -> LedgerEntry:
    """Earn the portable way: lock the member, check for a replay, write entry and balance."""
    locked = _lock_member(member, store=store, idempotency_key=idempotency_key)
    replay = _replayed(locked=locked, kind=EntryKind.EARN, purchase_amount=purchase_amount)
    if replay:
        return replay
    return _write(
        member=locked,
        store=store,
        kind=EntryKind.EARN,
        activity=True,
        purchase_amount=purchase_amount,
        idempotency_key=idempotency_key,
        **fields,
    )


# An earn on PostgreSQL in one statement, so in one round trip with no BEGIN and COMMIT of
# its own: the UPDATE locks the member row and moves the balance (an earn never makes it
# negative), the INSERT appends the entry with the balance it left, and nothing is written
# when an entry with this idempotency key exists at the store. Same effect as `_earn_locked`.
_EARN_SQL = """
    WITH replay AS (
        SELECT e.id FROM loyalty_ledgerentry e
        WHERE e.store_id = %(store)s AND e.idempotency_key = %(key)s
    ), member AS (
        UPDATE loyalty_member
        SET points_balance = points_balance + %(points)s,
            last_activity_at = %(at)s,
            updated_at = %(now)s
        WHERE id = %(member)s AND status = %(active)s AND NOT EXISTS (SELECT 1 FROM replay)
        RETURNING id, points_balance
    ), entry AS (
        INSERT INTO loyalty_ledgerentry (
            member_id, store_id, staff_id, kind, points, balance_after, purchase_amount,
            reference, idempotency_key, created_at
        )
        SELECT member.id, %(store)s, CAST(%(staff)s AS bigint), %(kind)s, %(points)s,
               member.points_balance, CAST(%(amount)s AS numeric), %(reference)s,
               CAST(%(key)s AS varchar), %(at)s
        FROM member
        RETURNING id, balance_after
    )
    SELECT (SELECT id FROM replay),
           (SELECT id FROM entry),
           (SELECT balance_after FROM entry),
           (SELECT status FROM loyalty_member WHERE id = %(member)s)
"""


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
    """Earn with `_EARN_SQL`; raise as `_earn_locked` does when nothing could be written."""
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
    with savepoint, connection.cursor() as cursor:
        cursor.execute(_EARN_SQL, params)
        replayed_id, entry_id, balance_after, status = cursor.fetchone()
    if replayed_id is not None:
        return _replay_checked(
            LedgerEntry.objects.get(pk=replayed_id),
            member=member,
            kind=EntryKind.EARN,
            purchase_amount=purchase_amount,
        )
    if entry_id is None:
        raise MemberNotFound() if status is None else MemberInactive()
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
