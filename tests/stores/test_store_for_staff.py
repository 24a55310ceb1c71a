import pytest

from core.errors import StoreForbidden, StoreInactive, StoreNotFound
from stores.models import StaffRole
from stores.selectors import staff_is_head_office, store_for_staff, stores_for_staff
from tests.factories import HeadOfficeFactory, StaffFactory, StoreFactory

pytestmark = pytest.mark.django_db


def test_cashier_reaches_only_their_store(store, cashier):
    other = StoreFactory(code="LIE01")
    assert list(stores_for_staff(cashier)) == [store]
    assert store_for_staff(cashier, "gnt01") == store
    with pytest.raises(StoreForbidden):
        store_for_staff(cashier, other.code)


def test_unknown_and_inactive_stores(cashier, store):
    with pytest.raises(StoreNotFound):
        store_for_staff(cashier, "NOPE")
    store.is_active = False
    store.save()
    with pytest.raises(StoreInactive):
        store_for_staff(cashier, store.code)
    assert store_for_staff(cashier, store.code, require_active=False) == store


def test_head_office_reaches_every_store(store):
    other = StoreFactory(code="LIE01")
    boss = HeadOfficeFactory(username="boss")
    assert staff_is_head_office(boss)
    assert set(stores_for_staff(boss)) == {store, other}
    assert store_for_staff(boss, "LIE01") == other


def test_role_filter(store):
    manager = StaffFactory(username="mgr", store=store, store__role=StaffRole.STORE_MANAGER)
    cashier = StaffFactory(username="c2", store=store)
    roles = (StaffRole.STORE_MANAGER,)
    assert store_for_staff(manager, store.code, roles=roles) == store
    with pytest.raises(StoreForbidden):
        store_for_staff(cashier, store.code, roles=roles)


def test_user_without_assignment_reaches_nothing(db):
    from tests.factories import UserFactory

    nobody = UserFactory(username="nobody")
    StoreFactory(code="X1")
    assert not stores_for_staff(nobody).exists()
    with pytest.raises(StoreForbidden):
        store_for_staff(nobody, "X1")
