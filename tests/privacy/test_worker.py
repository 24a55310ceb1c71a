"""Erasure through a real Celery worker on Redis (CI's PostgreSQL + Redis pass)."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from loyalty.models import LedgerEntry, Member
from loyalty.privacy import member_subject_key
from loyalty.services import points_earn
from privacy import services
from privacy.models import PrivacyTicket, TicketKind, TicketState
from privacy.tasks import erasure_run
from tests.factories import EidCardFactory, MemberFactory, StaffFactory, StoreFactory


def wait_for(predicate, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("the worker did not finish in time")
        time.sleep(0.2)


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_erasure_runs_on_the_real_worker_and_a_rerun_is_harmless(celery_worker):
    store = StoreFactory(code="GNT01")
    member = MemberFactory(home_store=store)
    EidCardFactory(member=member)
    for _ in range(5):
        points_earn(member=member, store=store, staff=None, amount=Decimal("10.00"))

    # Committed for real, so the worker (another process) sees it; sent on commit.
    # (the member presented their card at the counter: verified at once)
    ticket = services.ticket_open_at_counter(
        kind=TicketKind.ERASURE,
        subject_key=member_subject_key(member),
        store=store,
        by=StaffFactory(store=store),
        presented="card",
    )
    wait_for(lambda: PrivacyTicket.objects.get(pk=ticket.pk).state == TicketState.COMPLETED)

    assert not Member.objects.filter(pk=member.pk).exists()
    assert LedgerEntry.objects.filter(member__isnull=True).count() == 5
    # A redelivered task (worker lost before the ack) finds the ticket done.
    assert erasure_run.delay(ticket.pk).get(timeout=60) == TicketState.COMPLETED
    ticket.refresh_from_db()
    assert ticket.history.filter(to_state=TicketState.COMPLETED).count() == 1
