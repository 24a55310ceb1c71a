"""Who may do what, and where: the one place that answers it.

Every API class, counter page, dashboard page and admin action asks a `StaffAccess`, built
once per request from the user's role assignments. The table `ROLE_ACTIONS` is the whole
rule: adding a role, or letting one more role do something, is one edit here.

Some rights a role holds only while head office switches them on (`SWITCHED_ACTIONS`, a flag
of the chain's settings): a store manager registers their own stores' readers if head office
lets them. `role_may` is the one test of a role's right, switches included.

A user's assignments are kept in Django's cache (misses included) and dropped by
`staff_access_forget` whenever an assignment changes, so the counter's calls cost no query for
them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet

from core.cache import cache_delete, cache_get, cache_set
from core.errors import Forbidden, StoreForbidden, StoreInactive, StoreNotFound
from stores.models import StaffAssignment, StaffRole, Store
from stores.selectors import chain_settings


class Action(StrEnum):
    """What staff do. Each is granted to roles in `ROLE_ACTIONS`."""

    # At the counter, on a member the customer presented.
    MEMBER_FIND = "member.find"  # lookup by number, e-mail, phone, eID, narrow name search
    MEMBER_ENROLL = "member.enroll"
    MEMBER_READ = "member.read"  # profile, balance, ledger (own stores' lines in full)
    POINTS_EARN = "points.earn"
    POINTS_REDEEM = "points.redeem"
    CONSENT_WITHDRAW = "consent.withdraw"
    EID_SCAN = "eid.scan"  # arm a reader, link a card to a member reached at the counter
    TICKET_OPEN = "ticket.open"  # erasure or export, run only once the member confirms
    # Store management.
    READERS_MANAGE = "readers.manage"
    CAMPAIGNS_MANAGE = "campaigns.manage"  # compose and end campaigns of one's stores
    OFFICE_FIGURES = "office.figures"  # the dashboard's figures for the stores one manages
    # Head office only: chain-wide tools, which may use ids.
    OFFICE_HEAD = "office.head"  # privacy queue, consent log, configuration, staff
    TICKET_APPROVE = "ticket.approve"  # the second pair of eyes on counter requests
    MEMBER_READS_AUDIT = "member_reads.audit"


_COUNTER = frozenset(
    {
        Action.MEMBER_FIND,
        Action.MEMBER_ENROLL,
        Action.MEMBER_READ,
        Action.POINTS_EARN,
        Action.POINTS_REDEEM,
        Action.CONSENT_WITHDRAW,
        Action.EID_SCAN,
        Action.TICKET_OPEN,
    }
)

# The whole access rule: what each role may do, in the stores it is assigned to (head office:
# in every store).
ROLE_ACTIONS: dict[str, frozenset[Action]] = {
    StaffRole.CASHIER: _COUNTER,
    StaffRole.STORE_MANAGER: _COUNTER
    | {Action.READERS_MANAGE, Action.OFFICE_FIGURES, Action.CAMPAIGNS_MANAGE},
    StaffRole.HEAD_OFFICE: frozenset(Action),
}

# Rights other roles than head office hold only while head office switches them on: the action,
# and the flag of the chain's settings (stores.selectors.Chain) that switches it.
SWITCHED_ACTIONS: dict[Action, str] = {
    Action.READERS_MANAGE: "managers_register_readers",
}


def role_may(role: str, action: Action) -> bool:
    """Return whether `role` holds `action` now: granted in ROLE_ACTIONS, and switched on."""
    if action not in ROLE_ACTIONS.get(role, ()):
        return False
    switch = SWITCHED_ACTIONS.get(action)
    return role == StaffRole.HEAD_OFFICE or switch is None or getattr(chain_settings(), switch)


def readers_registered_by() -> tuple[str, ...]:
    """Return the roles that may register a store's readers now (head office first)."""
    roles = (StaffRole.HEAD_OFFICE, StaffRole.STORE_MANAGER, StaffRole.CASHIER)
    return tuple(role for role in roles if role_may(role, Action.READERS_MANAGE))


_CACHE_KEY = "stores.access.v1:{}"
_STORE_KEY = "stores.store.v1:{}"
_USER_KEY = "stores.user.v1:{}"
_USER_SECONDS = 60
_STORE_ID_KEY = "stores.store-id.v1:{}"
_CACHE_SECONDS = 600


@dataclass(frozen=True)
class StaffAccess:
    """What one signed-in user may do, and in which stores. Build it with `staff_access`."""

    user: AbstractBaseUser
    head_office: bool = False
    # store id -> role, for the stores the user is assigned to.
    roles: dict[int, str] = field(default_factory=dict)

    @property
    def is_staff_member(self) -> bool:
        return self.head_office or bool(self.roles)

    @property
    def store_ids(self) -> frozenset[int]:
        """The stores the user is assigned to (head office: see `reaches_every_store`)."""
        return frozenset(self.roles)

    def may(self, action: Action, store: Store | int | None = None) -> bool:
        """Return whether the user may do `action` at `store` (anywhere, without one)."""
        if self.head_office and action in ROLE_ACTIONS[StaffRole.HEAD_OFFICE]:
            return True
        if store is None:
            return any(role_may(role, action) for role in set(self.roles.values()))
        store_id = store if isinstance(store, int) else store.pk
        role = self.roles.get(store_id)
        return role is not None and role_may(role, action)

    def require(self, action: Action, store: Store | int | None = None) -> None:
        """Raise Forbidden (StoreForbidden with a store) unless `may(action, store)`."""
        if not self.may(action, store):
            raise StoreForbidden() if store is not None else Forbidden()

    def may_manage_campaigns_of(self, store: Store | int | None) -> bool:
        """Return whether the user may compose or end campaigns of `store` (None: the chain's,
        head office only)."""
        if store is None:
            return self.may(Action.OFFICE_HEAD)
        return self.may(Action.CAMPAIGNS_MANAGE, store)

    def sees_store_in_full(self, store_id: int | None) -> bool:
        """Return whether ledger lines of this store are shown in full (else date, store, points).

        A cashier and a store manager see their own stores' lines; head office every store's.
        """
        return self.head_office or (store_id is not None and store_id in self.roles)

    def stores(self, action: Action | None = None) -> QuerySet[Store]:
        """Return the stores where the user may do `action` (any role's, without one)."""
        if self.head_office and (action is None or action in ROLE_ACTIONS[StaffRole.HEAD_OFFICE]):
            return Store.objects.all()
        ids = [
            store_id
            for store_id, role in self.roles.items()
            if action is None or role_may(role, action)
        ]
        return Store.objects.filter(pk__in=ids)

    def store(
        self, store_code: str, action: Action = Action.MEMBER_READ, *, require_active: bool = True
    ) -> Store:
        """Return the store with this code if the user may do `action` there, else raise."""
        store = store_by_code(store_code)
        self.require(action, store)
        if require_active and not store.is_active:
            raise StoreInactive()
        return store


def staff_access(user: AbstractBaseUser | None) -> StaffAccess:
    """Return what `user` may do; no rights for an anonymous or inactive user."""
    if user is None or not user.is_authenticated or not user.is_active:
        return StaffAccess(user=user)
    key = _CACHE_KEY.format(user.pk)
    assignments = cache_get(key, memo=True)
    if assignments is None:
        assignments = tuple(
            StaffAssignment.objects.filter(user_id=user.pk).values_list("store_id", "role")
        )
        cache_set(key, assignments, _CACHE_SECONDS, memo=True)
    roles = {store_id: role for store_id, role in assignments if store_id is not None}
    head_office = any(role == StaffRole.HEAD_OFFICE for _, role in assignments)
    return StaffAccess(user=user, head_office=head_office, roles=roles)


def staff_user(user_id: int) -> AbstractBaseUser | None:
    """Return the user with this id (kept in the cache a minute), or None.

    Only for a user a credential already designates (an API token read from the database):
    whether they are active is read again within the minute, and saving the user drops it.
    """
    key = _USER_KEY.format(user_id)
    user = cache_get(key, memo=True)
    if user is None:
        user = get_user_model().objects.filter(pk=user_id).first()
        if user is None:
            return None
        cache_set(key, user, _USER_SECONDS, memo=True)
    return user


def staff_user_forget(*, user_id: int) -> None:
    """Drop the cached user (call whenever the user is saved or deleted)."""
    cache_delete(_USER_KEY.format(user_id), memo=True)


def staff_access_forget(*, user_id: int) -> None:
    """Drop the cached assignments of this user (call whenever they change)."""
    cache_delete(_CACHE_KEY.format(user_id), memo=True)


def staff_access_for_request(request) -> StaffAccess:
    """Return the request's StaffAccess, built on first use and kept for the request."""
    access = getattr(request, "staff_access", None)
    if access is None or access.user is not request.user:
        access = staff_access(request.user)
        request.staff_access = access
    return access


def store_by_code(store_code: str) -> Store:
    """Return the store with this code, or raise StoreNotFound (kept in the cache)."""
    code = str(store_code or "").strip().upper()
    if not code or len(code) > 20 or not code.isascii() or not code.isprintable():
        raise StoreNotFound()
    key = _STORE_KEY.format(code)
    store = cache_get(key, memo=True)
    if store is None:
        store = Store.objects.filter(code=code).first()
        if store is None:
            raise StoreNotFound()
        cache_set(key, store, _CACHE_SECONDS, memo=True)
    return store


def store_by_id(store_id: int) -> Store:
    """Return the store with this id, or raise StoreNotFound (kept in the cache)."""
    key = _STORE_ID_KEY.format(int(store_id))
    store = cache_get(key, memo=True)
    if store is None:
        store = Store.objects.filter(pk=store_id).first()
        if store is None:
            raise StoreNotFound()
        cache_set(key, store, _CACHE_SECONDS, memo=True)
    return store


def store_forget(*, code: str, store_id: int | None = None) -> None:
    """Drop the cached store with this code (call whenever a store changes)."""
    keys = [_STORE_KEY.format(code)]
    if store_id is not None:
        keys.append(_STORE_ID_KEY.format(store_id))
    cache_delete(*keys, memo=True)
