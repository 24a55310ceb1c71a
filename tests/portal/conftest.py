"""Fixtures of the counter portal's tests: a signed-in cashier's browser-less client."""

from __future__ import annotations

import pytest
from django.test import Client

from stores.services import reader_device_register
from tests.factories import EarningRuleFactory, StoreFactory


@pytest.fixture
def other_store(db):
    return StoreFactory(code="LIE01", name="Liège Carré", city="Liège", language="fr")


@pytest.fixture
def counter(cashier, store) -> Client:
    """A Django test client signed in as the cashier of `store` (GNT01), interface in English."""
    EarningRuleFactory(store=store)
    client = Client()
    client.force_login(cashier)
    client.cookies["django_language"] = "en"
    return client


@pytest.fixture
def reader(store):
    device, _token = reader_device_register(store=store, name="Kassa 1")
    return device


@pytest.fixture
def ref(cashier, store):
    """Return the member reference a counter search by `cashier` at `store` would hand out."""
    from tests.counter import member_ref

    def make(member, found_by: str = "number", **kwargs) -> str:
        return member_ref(member, staff=cashier, store=store, found_by=found_by, **kwargs)

    return make
