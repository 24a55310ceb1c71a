"""Who may do what, where (stores.access): the one table, and the StaffAccess built from it."""

import pytest
from django.core.cache import cache

from core.errors import Forbidden, StoreForbidden, StoreInactive, StoreNotFound
from stores.access import (
    ROLE_ACTIONS,
    SWITCHED_ACTIONS,
    Action,
    readers_registered_by,
    role_may,
    staff_access,
    staff_access_for_request,
)
from stores.models import StaffAssignment, StaffRole
from stores.services import chain_settings_save
from tests.factories import HeadOfficeFactory, StaffFactory, StoreFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_cashier_reaches_only_their_store(store, cashier):
    other = StoreFactory(code="LIE01")
    access = staff_access(cashier)
    assert list(access.stores()) == [store]
    assert access.store("gnt01") == store
    with pytest.raises(StoreForbidden):
        access.store(other.code)
    assert access.may(Action.POINTS_EARN, store) and not access.may(Action.POINTS_EARN, other)


def test_unknown_and_inactive_stores(cashier, store):
    access = staff_access(cashier)
    for code in ("NOPE", "", "x" * 21, "GNT\x0001", "GNTé1"):
        with pytest.raises(StoreNotFound):
            access.store(code)
    store.is_active = False
    store.save()
    with pytest.raises(StoreInactive):
        access.store(store.code)
    assert access.store(store.code, require_active=False) == store


def test_head_office_reaches_every_store(store):
    other = StoreFactory(code="LIE01")
    boss = HeadOfficeFactory(username="boss")
    access = staff_access(boss)
    assert access.head_office and access.is_staff_member
    assert set(access.stores()) == {store, other}
    assert access.store("LIE01", Action.TICKET_APPROVE) == other
    assert all(access.may(action, other) for action in Action)
    assert access.sees_store_in_full(other.pk)


def _managers_register_readers(on: bool) -> None:
    chain_settings_save(name="", privacy_contact="", site_url="", managers_register_readers=on)


def test_role_filter(store):
    manager = StaffFactory(username="mgr", store=store, store__role=StaffRole.STORE_MANAGER)
    cashier = StaffFactory(username="c2", store=store)
    _managers_register_readers(True)
    assert staff_access(manager).store(store.code, Action.READERS_MANAGE) == store
    with pytest.raises(StoreForbidden):
        staff_access(cashier).store(store.code, Action.READERS_MANAGE)
    assert list(staff_access(manager).stores(Action.OFFICE_FIGURES)) == [store]
    assert not staff_access(cashier).stores(Action.OFFICE_FIGURES).exists()


@pytest.mark.parametrize("role", sorted(ROLE_ACTIONS))
@pytest.mark.parametrize("action", sorted(Action))
def test_every_answer_is_the_table(store, role, action):
    """`may` says what ROLE_ACTIONS says, in the assigned store; never in another one."""
    other = StoreFactory(code="LIE01")
    if role == StaffRole.HEAD_OFFICE:
        user = HeadOfficeFactory(username="h")
    else:
        user = StaffFactory(username="s", store=store, store__role=role)
    access = staff_access(user)
    # a switched right (SWITCHED_ACTIONS) is off until head office switches it on
    allowed = action in ROLE_ACTIONS[role] and (
        role == StaffRole.HEAD_OFFICE or action not in SWITCHED_ACTIONS
    )
    assert access.may(action, store) is allowed
    assert access.may(action, other) is (allowed and role == StaffRole.HEAD_OFFICE)


def test_a_manager_registers_their_own_stores_readers_only_if_head_office_lets_them(store):
    other = StoreFactory(code="LIE01")
    manager = StaffFactory(username="mgr", store=store, store__role=StaffRole.STORE_MANAGER)
    cashier = StaffFactory(username="c2", store=store)
    boss = HeadOfficeFactory(username="boss")
    # given: head office has not switched it on (the default)
    assert not staff_access(manager).may(Action.READERS_MANAGE, store)
    assert not staff_access(manager).stores(Action.READERS_MANAGE).exists()
    assert staff_access(boss).may(Action.READERS_MANAGE, other)
    assert readers_registered_by() == (StaffRole.HEAD_OFFICE,)
    with pytest.raises(StoreForbidden):
        staff_access(manager).store(store.code, Action.READERS_MANAGE)

    # when: head office switches it on (read at once, despite the cache)
    _managers_register_readers(True)

    # then: the manager may, in their own store only; a cashier still may not
    assert staff_access(manager).may(Action.READERS_MANAGE, store)
    assert not staff_access(manager).may(Action.READERS_MANAGE, other)
    assert list(staff_access(manager).stores(Action.READERS_MANAGE)) == [store]
    assert not staff_access(cashier).may(Action.READERS_MANAGE, store)
    assert readers_registered_by() == (StaffRole.HEAD_OFFICE, StaffRole.STORE_MANAGER)
    assert role_may(StaffRole.STORE_MANAGER, Action.READERS_MANAGE)
    # and off again
    _managers_register_readers(False)
    assert not staff_access(manager).may(Action.READERS_MANAGE, store)


def test_head_office_only_actions_are_not_granted_to_store_roles():
    for role in (StaffRole.CASHIER, StaffRole.STORE_MANAGER):
        for action in (Action.OFFICE_HEAD, Action.TICKET_APPROVE, Action.MEMBER_READS_AUDIT):
            assert action not in ROLE_ACTIONS[role]


def test_user_without_assignment_reaches_nothing(db):
    nobody = UserFactory(username="nobody")
    StoreFactory(code="X1")
    access = staff_access(nobody)
    assert not access.is_staff_member
    assert not access.stores().exists()
    with pytest.raises(StoreForbidden):
        access.store("X1")
    with pytest.raises(Forbidden):
        access.require(Action.MEMBER_FIND)


def test_inactive_and_anonymous_users_reach_nothing(store, cashier):
    from django.contrib.auth.models import AnonymousUser

    cashier.is_active = False
    for user in (cashier, AnonymousUser(), None):
        access = staff_access(user)
        assert not access.is_staff_member
        assert not access.may(Action.MEMBER_FIND, store)


def test_an_assignment_change_is_seen_at_once_despite_the_cache(
    store, cashier, django_assert_num_queries
):
    # given: the cashier's access read once (and cached)
    other = StoreFactory(code="LIE01")
    assert not staff_access(cashier).may(Action.POINTS_EARN, other)
    with django_assert_num_queries(0):
        assert staff_access(cashier).may(Action.POINTS_EARN, store)

    # when: they are moved to the other store, then made a manager there
    StaffAssignment.objects.filter(user=cashier).update(store=other)  # no signal: bulk update
    StaffAssignment.objects.get(user=cashier).save()  # what the admin and services do

    # then
    access = staff_access(cashier)
    assert access.may(Action.POINTS_EARN, other) and not access.may(Action.POINTS_EARN, store)
    StaffAssignment.objects.get(user=cashier).delete()
    assert not staff_access(cashier).is_staff_member


def test_access_is_built_once_per_request(rf, cashier, store, django_assert_num_queries):
    cache.clear()
    request = rf.get("/")
    request.user = cashier
    first = staff_access_for_request(request)
    with django_assert_num_queries(0):
        assert staff_access_for_request(request) is first


def test_ledger_lines_in_full_only_for_own_stores(store, cashier):
    other = StoreFactory(code="LIE01")
    access = staff_access(cashier)
    assert access.sees_store_in_full(store.pk)
    assert not access.sees_store_in_full(other.pk)
    assert not access.sees_store_in_full(None)
