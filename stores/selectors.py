"""Reads with a rule in them: which stores a staff member may reach, and their earning terms."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from knox.settings import knox_settings

from core.errors import StoreForbidden, StoreInactive, StoreNotFound
from core.sql import model_columns, model_from_values
from stores.models import Campaign, EarningRule, StaffAssignment, StaffRole, StaffToken, Store


def staff_is_head_office(user: AbstractBaseUser) -> bool:
    """Return whether the user has the chain-wide head-office role."""
    if not user.is_authenticated:
        return False
    return StaffAssignment.objects.filter(user=user, role=StaffRole.HEAD_OFFICE).exists()


def staff_works_for_a_store(user: AbstractBaseUser) -> bool:
    """Return whether the user may act for at least one store: `stores_for_staff(user).exists()`.

    Read from the user's few assignments with a plain query rather than through the Exists
    expression, which the ORM takes longer to build than the database takes to answer.
    """
    if not user.is_authenticated:
        return False
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


def staff_tokens_of(user: AbstractBaseUser) -> QuerySet[StaffToken]:
    """Return the user's API tokens that are still valid, newest first."""
    now = timezone.now()
    live = StaffToken.objects.filter(user=user).filter(Q(expiry__isnull=True) | Q(expiry__gt=now))
    return live.order_by("-created", "-id")


def staff_tokens_expire() -> bool:
    """Return whether staff API tokens expire (STAFF_TOKEN_TTL_HOURS set): a compliance check."""
    return knox_settings.TOKEN_TTL is not None
