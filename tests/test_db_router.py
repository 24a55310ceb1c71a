"""config.db_router: reports may read from the replica; nothing else, and never a write.

The replica itself (streaming, lag bound, stopped) is exercised in the production smoke test
(tests/security/test_prod_stack.py), against a real standby.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from config.db_router import ReplicaRouter, reads_on_replica, replica_usable
from loyalty.models import LedgerEntry


def test_writes_and_migrations_stay_on_the_primary():
    router = ReplicaRouter()

    assert router.db_for_write(LedgerEntry) == "default"
    assert router.db_for_read(LedgerEntry) == "default"  # outside a report page
    assert router.allow_migrate("default", "loyalty") is True
    assert router.allow_migrate("replica", "loyalty") is False


def test_the_report_views_exist(settings):
    for name in settings.REPLICA_READ_VIEWS:
        kwargs = {"key": "stores"} if name == "dashboard:figures_csv" else {}
        assert reverse(name, kwargs=kwargs)


@pytest.mark.django_db
def test_without_a_replica_reports_read_the_primary(client, settings, django_user_model):
    assert "replica" not in settings.DATABASES
    assert replica_usable() is False
    assert reads_on_replica() is False
