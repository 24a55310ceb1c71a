"""Reads with a rule in them: which stores a staff member may reach, and their earning terms."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from rest_framework.authtoken.models import Token

from core.errors import StoreForbidden, StoreInactive, StoreNotFound
from core.sql import model_columns, model_from_values
from stores.models import Campaign, EarningRule, StaffAssignment, StaffRole, Store

# What DRF's TokenAuthentication reads, and whether the user may act for at least one store
# (`staff_works_for_a_store`), in one hand-written query: it runs on every counter request,
# and the ORM takes longer to build the join than PostgreSQL takes to answer it.
_STAFF_WORKS_SQL = """
    EXISTS (
        SELECT 1 FROM stores_staffassignment a
        WHERE a.user_id = u.{pk}
          AND (a.store_id IS NOT NULL
               OR (a.role = %(head_office)s AND EXISTS (SELECT 1 FROM stores_store)))
    )
"""
_STAFF_BY_KEY_SQL = """
    SELECT {user_columns}, t.created, {works}{also_columns}
    FROM {users} u
    JOIN {tokens} t ON t.user_id = u.{pk}{also_joins}
    WHERE t.key = %(key)s
"""


@dataclass(frozen=True)
class ReadAlong:
    """What another app reads in the token's query, saving the request a round trip.

    `joins` are LEFT JOINs that may use `{may_act}`: true only for an active user who works
    for a store, so nothing is read for anyone else. `columns` follow the staff's columns;
    their values come back as they are. Parameters are named (%(name)s).
    """

    columns: str
    joins: str


@cache
def _staff_by_key_sql(User: type[AbstractBaseUser], also: ReadAlong | None) -> str:
    """Return the token's query for this user model, with what `also` reads along."""
    names = {  # Names come from the models, never from input.
        "pk": User._meta.pk.column,
        "users": User._meta.db_table,
        "tokens": Token._meta.db_table,
    }
    works = _STAFF_WORKS_SQL.format(**names)
    also_columns = also_joins = ""
    if also is not None:
        also_columns = ", " + also.columns
        also_joins = " " + also.joins.format(may_act=f"(u.is_active AND {works})")
    return _STAFF_BY_KEY_SQL.format(
        user_columns=model_columns(User, "u"),
        works=works,
        also_columns=also_columns,
        also_joins=also_joins,
        **names,
    )


def staff_for_token(
    key: str, *, also: ReadAlong | None = None, params: dict[str, Any] | None = None
) -> tuple[AbstractBaseUser, Token, tuple] | None:
    """Return the user an API token belongs to, the token, and the values `also` read
    (an empty tuple without it); None for an unknown key.

    The user also carries the answer of `staff_works_for_a_store`, read in the same query.
    """
    User = get_user_model()
    sql = _staff_by_key_sql(User, also)
    with connection.cursor() as cursor:
        cursor.execute(sql, {**(params or {}), "head_office": StaffRole.HEAD_OFFICE, "key": key})
        row = cursor.fetchone()
    if row is None:
        return None
    width = len(User._meta.concrete_fields)
    user = model_from_values(User, row[:width])
    created, works_for_a_store = row[width : width + 2]
    user._works_for_a_store = bool(works_for_a_store)
    token = Token.from_db(user._state.db, ["key", "user_id", "created"], [key, user.pk, None])
    token.created = created
    Token._meta.get_field("user").set_cached_value(token, user)
    return user, token, tuple(row[width + 2 :])


def staff_is_head_office(user: AbstractBaseUser) -> bool:
    """Return whether the user has the chain-wide head-office role."""
    if not user.is_authenticated:
        return False
    return StaffAssignment.objects.filter(user=user, role=StaffRole.HEAD_OFFICE).exists()


def staff_works_for_a_store(user: AbstractBaseUser) -> bool:
    """Return whether the user may act for at least one store: `stores_for_staff(user).exists()`.

    Answered without a query for a user that `staff_for_token` read (every counter API call);
    otherwise read from the user's few assignments with a plain query rather than through the
    Exists expression, which the ORM takes longer to build than the database takes to answer.
    """
    if not user.is_authenticated:
        return False
    known = getattr(user, "_works_for_a_store", None)
    if known is not None:
        return known
    assignments = StaffAssignment.objects.filter(user=user).values_list("store_id", "role")
    roles = set()
    for store_id, role in assignments:
        if store_id is not None:
            return True
        roles.add(role)
    return StaffRole.HEAD_OFFICE in roles and Store.objects.exists()


def _reachable(user: AbstractBaseUser, roles: tuple[str, ...] | None) -> Exists:
    """Return an expression telling whether `user` may act for the outer store."""
    own_store = Q(store=OuterRef("pk"))
    if roles:
        own_store &= Q(role__in=roles)
    return Exists(
        StaffAssignment.objects.filter(user=user).filter(own_store | Q(role=StaffRole.HEAD_OFFICE))
    )


def stores_for_staff(user: AbstractBaseUser, *, roles: tuple[str, ...] | None = None) -> QuerySet:
    """Return the stores this user works for (every store for head office)."""
    if not user.is_authenticated:
        return Store.objects.none()
    return Store.objects.filter(_reachable(user, roles))


# One hand-written query for the store, the user's right to act for it and its earning rule:
# it runs on every counter write, and the ORM takes longer to build the Exists and the join
# than PostgreSQL takes to answer them. `_reachable` is the same rule for querysets. Rows
# become instances through core.sql, without raw()'s per-call column resolution.
_STORE_FOR_STAFF_SQL = """
    SELECT {store_columns},
           EXISTS (
               SELECT 1 FROM stores_staffassignment a
               WHERE a.user_id = %s AND ((a.store_id = s.id{roles}) OR a.role = %s)
           ),
           r.id,
           CAST(r.points_per_euro AS TEXT),
           r.rounding,
           CAST(r.minimum_purchase AS TEXT){campaign}
    FROM stores_store s
    LEFT JOIN stores_earningrule r ON r.store_id = s.id
    WHERE s.code = %s
"""


def store_for_staff(
    user: AbstractBaseUser,
    store_code: str,
    *,
    roles: tuple[str, ...] | None = None,
    require_active: bool = True,
    campaign_at: datetime | None = None,
) -> Store:
    """Return the store with this code if the user may act for it, else raise.

    One query: the store, its earning rule, whether the user may reach it and, given
    `campaign_at`, the multiplier in force then (which `campaign_multiplier` answers from).
    """
    if not user.is_authenticated:
        raise StoreForbidden()
    roles_sql = f" AND a.role IN ({', '.join(['%s'] * len(roles))})" if roles else ""
    params = [user.pk, *(roles or ()), StaffRole.HEAD_OFFICE]
    campaign_sql = ""
    if campaign_at is not None:
        campaign_sql = f", ({_CAMPAIGN_MULTIPLIER_SQL.format(store='s.id')})"
        params += [connection.ops.adapt_datetimefield_value(campaign_at)] * 2
    sql = _STORE_FOR_STAFF_SQL.format(
        store_columns=model_columns(Store, "s"), roles=roles_sql, campaign=campaign_sql
    )
    params.append(str(store_code).strip().upper())
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        raise StoreNotFound()
    width = len(Store._meta.concrete_fields)
    store = model_from_values(Store, row[:width])
    reachable, rule_id, points_per_euro, rounding, minimum, *campaign = row[width:]
    if campaign_at is not None:
        # Raw columns skip the ORM's converters (SQLite answers a float).
        multiplier = Decimal("1") if campaign[0] is None else Decimal(str(campaign[0]))
        store._campaign_multiplier_at = (campaign_at, multiplier)
    if not reachable:
        raise StoreForbidden()
    if require_active and not store.is_active:
        raise StoreInactive()
    rule = None
    if rule_id is not None:
        rule = EarningRule.from_db(
            store._state.db,
            ["id", "store_id", "points_per_euro", "rounding", "minimum_purchase"],
            [rule_id, store.pk, Decimal(points_per_euro), rounding, Decimal(minimum)],
        )
        EarningRule._meta.get_field("store").set_cached_value(rule, store)
    Store._meta.get_field("earning_rule").set_cached_value(store, rule)
    return store


def earning_rule_for_store(store: Store) -> EarningRule:
    """Return the store's earning rule, or the default (1 point per euro, rounded down)."""
    try:
        return store.earning_rule
    except EarningRule.DoesNotExist:
        return EarningRule(store=store)


def campaigns_running(store: Store, *, at: datetime) -> QuerySet[Campaign]:
    """Return the store's campaigns running at `at`, the one in force (highest multiplier) first."""
    return Campaign.objects.filter(store=store, starts_at__lte=at, ends_at__gt=at).order_by(
        "-multiplier", "pk"
    )


# The rule of `campaigns_running` in SQL, for the store's query to read along (the earn's):
# an ORM subquery costs more to build than the database spends on it.
_CAMPAIGN_MULTIPLIER_SQL = (
    "SELECT c.multiplier FROM stores_campaign c"
    " WHERE c.store_id = {store} AND c.starts_at <= %s AND c.ends_at > %s"
    " ORDER BY c.multiplier DESC, c.id LIMIT 1"
)


def campaign_running(store: Store, *, at: datetime | None = None) -> Campaign | None:
    """Return the store's running campaign with the highest multiplier, or None."""
    return campaigns_running(store, at=at or timezone.now()).first()


def campaign_multiplier(store: Store, *, at: datetime | None = None) -> Decimal:
    """Return the multiplier in force at `at` (1 when no campaign runs).

    Without a query when `store_for_staff` read it along with the store for that instant.
    """
    at = at or timezone.now()
    preloaded = getattr(store, "_campaign_multiplier_at", None)
    if preloaded is not None and preloaded[0] == at:
        return preloaded[1]
    campaign = campaign_running(store, at=at)
    return campaign.multiplier if campaign else Decimal("1")
