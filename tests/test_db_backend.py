"""The PostgreSQL backend's health check (core/db/postgresql): no round trip, same safety."""

from __future__ import annotations

import select
import time

import psycopg
import pytest
from django.db import connection

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def _start_of_a_request() -> None:
    """What Django does when a request starts: the next query checks the connection first."""
    connection.close_if_unusable_or_obsolete()


def _terminate(pid: int) -> None:
    params = connection.get_connection_params()
    conninfo = {k: v for k, v in params.items() if k in ("host", "port", "user", "dbname")}
    with psycopg.connect(**conninfo, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])


def test_a_healthy_connection_is_kept_without_a_round_trip(monkeypatch):
    # given: a persistent connection, idle between requests
    assert connection.health_check_enabled
    pid = _backend_pid()
    _start_of_a_request()

    def select_1():  # Django's check: a query to the server
        raise AssertionError("the health check sent a query")

    monkeypatch.setattr(connection, "is_usable", select_1)

    # when
    connection.close_if_health_check_failed()

    # then: the same backend serves the next query
    assert connection.health_check_done
    assert _backend_pid() == pid


def test_a_connection_the_server_closed_is_replaced_before_the_first_query():
    # given: the server ends the connection between two requests (restart, idle timeout)
    pid = _backend_pid()
    _terminate(pid)
    socket = connection.connection.pgconn.socket
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:  # the goodbye message arrives asynchronously
        if select.select([socket], [], [], 0.05)[0]:
            break
    _start_of_a_request()

    # when: the next request's first query
    new_pid = _backend_pid()

    # then: it ran, on a new connection, instead of failing
    assert new_pid != pid


def _store_read_from_the_database(cashier):
    """The counter's store read as on a cold cache: the assignments, then the store."""
    from django.core.cache import cache

    from stores.access import staff_access

    cache.clear()
    return staff_access(cashier).store("GNT01")


@pytest.mark.django_db  # in a transaction: the columns go with its rollback
def test_prepared_hot_queries_survive_a_migration_that_adds_a_column(store, cashier):
    # given: the store and member queries prepared on this connection (run past the threshold)
    from loyalty.services import points_earn
    from tests.factories import MemberFactory

    member = MemberFactory(home_store=store)
    for _ in range(8):
        _store_read_from_the_database(cashier)
        points_earn(member=member, store=store, staff=None, amount="1")
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements")
        assert cursor.fetchone()[0] > 0

    # when: a deploy's migration adds columns while this connection lives on
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the test's own transaction
        cursor.execute("ALTER TABLE stores_store ADD COLUMN later_field integer")
        cursor.execute("ALTER TABLE stores_staffassignment ADD COLUMN later_field integer")
        cursor.execute("ALTER TABLE loyalty_member ADD COLUMN later_field integer")

    # then: the same reads still answer (psycopg drops statements PostgreSQL has to re-plan)
    assert _store_read_from_the_database(cashier).pk == store.pk
    assert points_earn(member=member, store=store, staff=None, amount="1").points == 1
