"""Several cashiers at once on one member: no error, no lost update, never negative."""

from __future__ import annotations

import random
import threading
from decimal import Decimal

import pytest
from django.db import connection, connections

from core.errors import InsufficientPoints
from loyalty.models import LedgerEntry, Member
from loyalty.selectors import member_balance_from_ledger
from loyalty.services import points_earn, points_redeem
from tests.factories import EarningRuleFactory, MemberFactory, StoreFactory


def _run_threads(count: int, work) -> list[BaseException]:
    errors: list[BaseException] = []
    barrier = threading.Barrier(count)

    def target(i: int) -> None:
        try:
            barrier.wait()
            work(i)
        except BaseException as exc:  # collected and asserted on by the test
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return errors


def _assert_ledger_consistent(member: Member) -> None:
    member.refresh_from_db()
    assert member.points_balance == member_balance_from_ledger(member=member)
    running = 0
    for entry in LedgerEntry.objects.filter(member=member).order_by("pk"):
        running += entry.points
        assert entry.balance_after == running >= 0


@pytest.mark.django_db(transaction=True)
def test_concurrent_earns_on_the_default_database_all_succeed():
    # given: the configuration a newcomer gets (SQLite in WAL with immediate transactions)
    store = StoreFactory(code="GNT01")
    EarningRuleFactory(store=store, points_per_euro=Decimal("1"))
    member = MemberFactory(home_store=store)

    # when: 8 cashiers record 5 purchases each at the same moment
    def work(i: int) -> None:
        for j in range(5):
            points_earn(
                member=member, store=store, staff=None, amount="10", idempotency_key=f"t{i}-{j}"
            )

    errors = _run_threads(8, work)

    # then
    assert errors == []
    member.refresh_from_db()
    assert member.points_balance == 8 * 5 * 10
    _assert_ledger_consistent(member)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_threads_earn_and_redeem_on_one_member_on_postgres():
    assert connection.vendor == "postgresql"
    store = StoreFactory(code="GNT01")
    EarningRuleFactory(store=store, points_per_euro=Decimal("1"))
    member = MemberFactory(home_store=store)
    outcomes = {"earned": 0, "redeemed": 0, "refused": 0}
    lock = threading.Lock()

    def work(i: int) -> None:
        rng = random.Random(i)
        for j in range(10):
            if i % 2 == 0:
                amount = rng.randint(1, 30)
                points_earn(
                    member=member,
                    store=store,
                    staff=None,
                    amount=str(amount),
                    idempotency_key=f"e{i}-{j}",
                )
                with lock:
                    outcomes["earned"] += amount
            else:
                points = rng.randint(5, 60)
                try:
                    points_redeem(
                        member=member,
                        store=store,
                        staff=None,
                        points=points,
                        idempotency_key=f"r{i}-{j}",
                    )
                except InsufficientPoints:
                    with lock:
                        outcomes["refused"] += 1
                else:
                    with lock:
                        outcomes["redeemed"] += points

    errors = _run_threads(20, work)

    assert errors == []
    member.refresh_from_db()
    assert member.points_balance == outcomes["earned"] - outcomes["redeemed"]
    _assert_ledger_consistent(member)
