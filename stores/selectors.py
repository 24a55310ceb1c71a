"""Reads with a rule in them: which stores a staff member may reach, and their earning terms."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone
from rest_framework.authtoken.models import Token

from core.errors import StoreForbidden, StoreInactive, StoreNotFound
from stores.models import Campaign, EarningRule, StaffAssignment, StaffRole, Store


def staff_for_token(key: str) -> tuple[AbstractBaseUser, Token] | None:
    """Return the user an API token belongs to, and the token; None for an unknown key.

    What DRF's TokenAuthentication reads, in one hand-written query: it runs on every counter
    request, and the ORM takes longer to build the join than PostgreSQL takes to answer it.
    """
    User = get_user_model()
    sql = (  # Table and column names come from the models, never from input.
        f"SELECT u.*, t.created AS token_created FROM {User._meta.db_table} u"  # noqa: S608
        f" JOIN {Token._meta.db_table} t ON t.user_id = u.{User._meta.pk.column}"
        " WHERE t.key = %s"
    )
    user = next(iter(User.objects.raw(sql, [key])), None)
    if user is None:
        return None
    token = Token.from_db(user._state.db, ["key", "user_id", "created"], [key, user.pk, None])
    token.created = user.token_created
    Token._meta.get_field("user").set_cached_value(token, user)
    return user, token


def staff_is_head_office(user: AbstractBaseUser) -> bool:
    """Return whether the user has the chain-wide head-office role."""
    if not user.is_authenticated:
        return False
    return StaffAssignment.objects.filter(user=user, role=StaffRole.HEAD_OFFICE).exists()


def staff_works_for_a_store(user: AbstractBaseUser) -> bool:
    """Return whether the user may act for at least one store: `stores_for_staff(user).exists()`.

    Read from the user's few assignments with a plain query rather than through the Exists
    expression: it runs on every counter lookup, and the ORM takes longer to build that
    expression than the database takes to answer it.
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
# than PostgreSQL takes to answer them. `_reachable` is the same rule for querysets.
_STORE_FOR_STAFF_SQL = """
    SELECT s.*,
           EXISTS (
               SELECT 1 FROM stores_staffassignment a
               WHERE a.user_id = %s AND ((a.store_id = s.id{roles}) OR a.role = %s)
           ) AS reachable,
           r.id AS rule_id,
           CAST(r.points_per_euro AS TEXT) AS rule_points_per_euro,
           r.rounding AS rule_rounding,
           CAST(r.minimum_purchase AS TEXT) AS rule_minimum_purchase
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
) -> Store:
    """Return the store with this code if the user may act for it, else raise.

    One query: the store, its earning rule, and whether the user may reach it.
    """
    if not user.is_authenticated:
        raise StoreForbidden()
    roles_sql = f" AND a.role IN ({', '.join(['%s'] * len(roles))})" if roles else ""
    params = [user.pk, *(roles or ()), StaffRole.HEAD_OFFICE, str(store_code).strip().upper()]
    store = next(
        iter(Store.objects.raw(_STORE_FOR_STAFF_SQL.format(roles=roles_sql), params)), None
    )
    if store is None:
        raise StoreNotFound()
    if not store.reachable:
        raise StoreForbidden()
    if require_active and not store.is_active:
        raise StoreInactive()
    rule = None
    if store.rule_id is not None:
        rule = EarningRule.from_db(
            store._state.db,
            ["id", "store_id", "points_per_euro", "rounding", "minimum_purchase"],
            [
                store.rule_id,
                store.pk,
                Decimal(store.rule_points_per_euro),
                store.rule_rounding,
                Decimal(store.rule_minimum_purchase),
            ],
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


def campaign_multiplier_sql(store: Store, *, at: datetime) -> RawSQL:
    """Return the multiplier in force at `at` (NULL when no campaign runs) as an expression.

    The rule of `campaigns_running` in SQL, for another query to read along (the earn's lock):
    an ORM subquery costs more to build than the database spends on it.
    """
    return RawSQL(
        "SELECT c.multiplier FROM stores_campaign c"
        " WHERE c.store_id = %s AND c.starts_at <= %s AND c.ends_at > %s"
        " ORDER BY c.multiplier DESC, c.id LIMIT 1",
        [store.pk, *[connection.ops.adapt_datetimefield_value(at)] * 2],
        output_field=Campaign._meta.get_field("multiplier"),
    )


def campaign_running(store: Store, *, at: datetime | None = None) -> Campaign | None:
    """Return the store's running campaign with the highest multiplier, or None."""
    return campaigns_running(store, at=at or timezone.now()).first()


def campaign_multiplier(store: Store, *, at: datetime | None = None) -> Decimal:
    """Return the multiplier in force at `at` (1 when no campaign runs)."""
    campaign = campaign_running(store, at=at)
    return campaign.multiplier if campaign else Decimal("1")
