"""Fixtures shared by the whole suite."""

from __future__ import annotations

import os

import pytest
from rest_framework.test import APIClient

from tests.factories import StaffFactory, StoreFactory


def database_is_postgres() -> bool:
    from django.db import connection

    return connection.vendor == "postgresql"


def pytest_collection_modifyitems(config, items):
    """Skip PostgreSQL-only and real-worker tests where those servers are not configured."""
    on_postgres = os.environ.get("DATABASE_URL", "").startswith(("postgres", "pgsql"))
    has_broker = bool(os.environ.get("REDIS_URL"))
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(pytest.mark.skip(
                reason="needs PostgreSQL: set DATABASE_URL=postgres://... (CI's second pass)"))
        if "celery_worker" in item.keywords and not has_broker:
            item.add_marker(pytest.mark.skip(
                reason="needs a Celery worker on Redis: set REDIS_URL (CI's second pass)"))


@pytest.fixture
def store(db):
    return StoreFactory(code="GNT01", name="Gent Centrum", city="Gent", language="nl")


@pytest.fixture
def cashier(store):
    return StaffFactory(username="cashier", store=store)


@pytest.fixture
def api(cashier) -> APIClient:
    """An API client signed in as a cashier of `store`."""
    client = APIClient()
    client.force_authenticate(cashier)
    return client
