"""Two stores of one chain, A (GNT01) and B (LIE01), with staff, readers and data in each."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest

from loyalty import eid_services
from loyalty.models import EidScan, Member
from loyalty.services import points_earn
from stores.models import ReaderDevice, StaffRole, Store
from stores.services import reader_device_register
from tests.conftest import private_cache
from tests.factories import (
    EarningRuleFactory,
    MemberFactory,
    RewardFactory,
    StaffFactory,
    StoreFactory,
    staff_token,
)


@pytest.fixture(autouse=True)
def _own_cache(settings):
    """A private local-memory cache per test: rate-limit and login counters start at zero."""
    yield from private_cache(settings, "security-tests")


@dataclass
class Side:
    store: Store
    cashier: object
    cashier_token: str
    manager: object
    device: ReaderDevice
    device_token: str
    member: Member
    scan: EidScan


def _side(code: str, city: str, language: str) -> Side:
    store = StoreFactory(code=code, name=f"{city} store", city=city, language=language)
    EarningRuleFactory(store=store, points_per_euro=Decimal("1.00"))
    cashier = StaffFactory(username=f"cashier.{code.lower()}", store=store)
    manager = StaffFactory(
        username=f"manager.{code.lower()}", store=store, store__role=StaffRole.STORE_MANAGER
    )
    device, device_token = reader_device_register(store=store, name=f"Reader {code}")
    member = MemberFactory(home_store=store)
    points_earn(
        member=member,
        store=store,
        staff=cashier,
        amount=Decimal("40.00"),
        idempotency_key=f"seed-{code}",
    )
    scan = eid_services.eid_scan_arm(
        store=store, device=device, staff=cashier, notice_language=language
    )
    return Side(
        store=store,
        cashier=cashier,
        cashier_token=staff_token(cashier),
        manager=manager,
        device=device,
        device_token=device_token,
        member=member,
        scan=scan,
    )


@pytest.fixture
def chain(db):
    """Return (A, B): store A's people and devices, and store B's data they must not reach."""
    a = _side("GNT01", "Gent", "nl")
    b = _side("LIE01", "Liège", "fr")
    RewardFactory(name="Only in Liège", stores=[b.store])
    return a, b
