"""Reads with a rule in them: finding members at the counter, their ledger, rewards on offer."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection
from django.db.models import F, Q, QuerySet, Sum
from django.db.models.functions import Lower
from django.utils import timezone

from core.errors import Forbidden, InvalidInput, MemberNotFound, RewardNotFound
from core.sql import model_columns, model_from_values
from loyalty.contact import phone_normalize
from loyalty.models import EidCard, LedgerEntry, Member, Reward
from loyalty.numbers import member_number_clean, member_number_looks_like
from stores.models import Store
from stores.selectors import staff_works_for_a_store

MAX_RESULTS = 20


def stores_for_staff_required(user: AbstractBaseUser) -> None:
    """Raise unless the user works for at least one store (members are the chain's)."""
    if not staff_works_for_a_store(user):
        raise Forbidden("You are not assigned to any store.")


def member_for_staff(user: AbstractBaseUser, member_id: int) -> Member:
    """Return the member for a staff member of the chain, or raise MemberNotFound."""
    stores_for_staff_required(user)
    try:
        return Member.objects.select_related("home_store").get(pk=int(member_id))
    except (Member.DoesNotExist, ValueError, TypeError):
        raise MemberNotFound() from None


def member_at_store(store: Store, member_id: int) -> Member:
    """Return a member for staff already cleared for `store` (members belong to the chain)."""
    try:
        return Member.objects.get(pk=int(member_id))
    except (Member.DoesNotExist, ValueError, TypeError):
        raise MemberNotFound() from None


def member_to_lock_at_store(store: Store, member_id: int) -> Member:
    """Return a reference to a member for a service that locks the row (earn, redeem).

    No query: the lock reads the row anyway and raises MemberNotFound if there is none.
    Members belong to the chain, as for `member_at_store`.
    """
    try:
        return Member(pk=int(member_id))
    except (ValueError, TypeError):
        raise MemberNotFound() from None


# A card scanned or a number typed at the counter: the most frequent read of all, so one
# hand-written query for the member and what the counter shows with it (the home store's code,
# whether an eID card is linked). The ORM's two-join select_related costs more to build.
# Column names come from the models, never from input.
_MEMBER_COLUMNS = f"{model_columns(Member, 'm')}, s.code, e.id"
_MEMBER_JOINS = """
    loyalty_member m
    JOIN stores_store s ON s.id = m.home_store_id
    LEFT JOIN loyalty_eidcard e ON e.member_id = m.id
"""
_MEMBER_BY_NUMBER_SQL = f"SELECT {_MEMBER_COLUMNS} FROM {_MEMBER_JOINS} WHERE m.number = %s"  # noqa: S608


def _member_from_row(values: tuple) -> Member:
    """Return the member of a `_MEMBER_COLUMNS` row, home store and eID card link loaded."""
    width = len(Member._meta.concrete_fields)
    member = model_from_values(Member, values[:width])
    home_store_code, eid_card_id = values[width:]
    db = member._state.db
    home = Store.from_db(db, ["id", "code"], [member.home_store_id, home_store_code])
    card = None
    if eid_card_id is not None:
        card = EidCard.from_db(db, ["id", "member_id"], [eid_card_id, member.pk])
    Member._meta.get_field("home_store").set_cached_value(member, home)
    Member._meta.get_field("eid_card").set_cached_value(member, card)
    return member


def _members_by_number(number: str) -> list[Member]:
    """Return the member with this number (0 or 1), home store and eID card link loaded."""
    with connection.cursor() as cursor:
        cursor.execute(_MEMBER_BY_NUMBER_SQL, [number])
        return [_member_from_row(row) for row in cursor.fetchall()]


def member_find_for_counter(*, query: str) -> list[Member]:
    """Return the members a counter lookup means: by member number, e-mail or phone (exact).

    A number shaped like a member number with a wrong check digit raises, so a typo is told
    apart from a stranger.
    """
    query = (query or "").strip()
    if not query or len(query) > 254:
        raise InvalidInput("Type a member number, an e-mail address or a phone number.")
    if member_number_looks_like(query):
        return _members_by_number(member_number_clean(query))
    members = Member.objects.select_related("home_store", "eid_card")
    if "@" in query:
        return list(
            members.annotate(email_ci=Lower("email")).filter(email_ci=query.lower())[:MAX_RESULTS]
        )
    if sum(ch.isdigit() for ch in query) >= 6:
        return list(members.filter(phone=phone_normalize(query)).order_by("pk")[:MAX_RESULTS])
    raise InvalidInput("Type a member number, an e-mail address or a phone number.")


def member_ledger(*, member: Member) -> QuerySet[LedgerEntry]:
    """Return the member's ledger, newest first."""
    return LedgerEntry.objects.filter(member=member).select_related("store", "reward")


def rewards_offered(*, store: Store, at: datetime | None = None) -> QuerySet[Reward]:
    """Return the rewards this store offers right now."""
    at = at or timezone.now()
    return Reward.objects.filter(
        Q(active_from__isnull=True) | Q(active_from__lte=at),
        Q(active_until__isnull=True) | Q(active_until__gt=at),
        is_active=True,
        stores=store,
    )


def member_balance_from_ledger(*, member: Member) -> int:
    """Return the balance the ledger adds up to (the cached balance must always equal it)."""
    return LedgerEntry.objects.filter(member=member).aggregate(s=Sum("points"))["s"] or 0


def members_with_expirable_points(*, cutoff: datetime) -> QuerySet:
    """Return ids of members whose credits older than `cutoff` exceed all their debits.

    Debits consume the oldest credits first (FIFO), so what is left of credits older than the
    cutoff is `credits before cutoff - all debits`.
    """
    return (
        LedgerEntry.objects.filter(member__isnull=False, member__points_balance__gt=0)
        .values("member_id")
        .annotate(
            old_credits=Sum("points", filter=Q(points__gt=0, created_at__lt=cutoff), default=0),
            debits=Sum("points", filter=Q(points__lt=0), default=0),
        )
        .filter(old_credits__gt=-F("debits"))
        .values_list("member_id", flat=True)
    )


def reward_get(reward_id: int) -> Reward:
    """Return the reward with this id, or raise RewardNotFound."""
    reward = Reward.objects.filter(pk=reward_id).first()
    if reward is None:
        raise RewardNotFound()
    return reward
