"""Erasure in batches (retention): the same end state as one erasure at a time, one
transaction per batch, and a batch that fails leaves every ticket to be done again.
"""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from dateutil.relativedelta import relativedelta
from django.apps import apps
from django.core.cache import cache
from django.core.management import call_command
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from dashboard.services import stats_refresh
from loyalty.models import LedgerEntry, Member
from loyalty.privacy import member_subject_key
from loyalty.services import points_earn
from privacy import services
from privacy.models import (
    ErasureRecord,
    PrivacyTicket,
    RetentionRun,
    TicketKind,
    TicketSource,
    TicketState,
    TicketTask,
)
from privacy.outbox import ticket_tasks_due
from privacy.ratelimit import ratelimit_hit
from privacy.registry import Eraser, registry
from privacy.tasks import erasure_run, erasure_run_batch
from tests.factories import MemberFactory, PrivacyTicketFactory

# The two members of the whole-dump test (an eID member who joined by a real scan, a form
# member; both edited in the admin and read at the counter), and a bystander.
from tests.privacy.test_erasure_no_trace import people  # noqa: F401

pytestmark = pytest.mark.django_db


def _world(people, store):  # noqa: F811
    """The members to erase: the two of `people` and a few more; figures counted once."""
    more = MemberFactory.create_batch(4, home_store=store)
    for n, member in enumerate(more):
        for k in range(n + 1):
            points_earn(member=member, store=store, staff=None, amount=f"{10 + k}.00")
    # An access request of one of them stays, unlinked from them.
    PrivacyTicketFactory(
        kind=TicketKind.ACCESS, state=TicketState.COMPLETED, subject_key=member_subject_key(more[0])
    )
    stats_refresh(wait=0)
    members = [people["form"], people["eid"], *more]
    tickets = [
        PrivacyTicketFactory(
            kind=TicketKind.ERASURE,
            state=TicketState.SCHEDULED,
            source=TicketSource.RETENTION,
            subject_key=member_subject_key(member),
        )
        for member in members
    ]
    return members, [t.pk for t in tickets]


def _rate_limits(members) -> None:
    """Rate-limit counters for the members' identifiers (the cache is not rolled back)."""
    cache.clear()
    for member in members:
        for identifier in (member.email, member.number):
            if identifier:
                ratelimit_hit(scope="identifier", value=identifier.lower(), limit=99)


def _dump(before: dict[str, int]) -> list[str]:
    """Every row of the database, as JSON; ids of rows written during the erasure as "new"."""
    out = io.StringIO()
    call_command("dumpdata", "--natural-foreign", stdout=out)
    rows = []
    for row in json.loads(out.getvalue()):
        if isinstance(row.get("pk"), int) and row["pk"] > before.get(row["model"], 0):
            row["pk"] = "new"
        rows.append(json.dumps(row, sort_keys=True))
    return sorted(rows)


def _max_ids() -> dict[str, int]:
    found = {}
    for model in apps.get_models():
        if model._meta.pk.get_internal_type() in ("AutoField", "BigAutoField"):
            top = model._base_manager.aggregate(m=Max("pk"))["m"]
            found[model._meta.label_lower] = top or 0
    return found


def _end_state(erase, members, before) -> list[str]:
    """Erase in a savepoint, dump, and roll back: the next way starts from the same data."""
    _rate_limits(members)
    with transaction.atomic():
        erase()
        state = _dump(before)
        transaction.set_rollback(True)
    return state


def test_a_batch_leaves_the_database_as_one_erasure_at_a_time_does(
    people,  # noqa: F811
    store,
    monkeypatch,
):
    # given
    members, ticket_ids = _world(people, store)
    # both ways erase at one moment, after the data were made (not when the run imported this)
    moment = timezone.now().replace(microsecond=0)
    monkeypatch.setattr(timezone, "now", lambda: moment)
    before = _max_ids()
    untouched = _dump(before)

    # when: one at a time, then the same tickets as one batch
    def one_by_one():
        for ticket_id in ticket_ids:
            services.erasure_execute(ticket_id=ticket_id)

    single = _end_state(one_by_one, members, before)
    batch = _end_state(
        lambda: services.erasure_execute_batch(ticket_ids=ticket_ids), members, before
    )

    # then: the same rows, to the last count in each ticket's proof
    assert batch == single
    assert single != untouched  # the comparison can fail
    proofs = [json.loads(r) for r in single if '"privacy.privacyticket"' in r]
    erased = [p["fields"]["result_counts"] for p in proofs if p["fields"]["kind"] == "erasure"]
    assert len(erased) == len(members)
    assert all(c["loyalty.members"] == 1 for c in erased)
    assert sum(c["privacy.cache.rate_limit_counters"] for c in erased) >= len(members)
    assert sum(c["dashboard.figures_adjusted"] for c in erased) > 0
    assert sum(c["loyalty.admin_log_entries_scrubbed"] for c in erased) == 2
    assert sum(c["loyalty.eid_scans_unlinked"] for c in erased) == 1
    assert sum(c["privacy.tickets.tickets_unlinked"] for c in erased) == 1
    assert sum(c["loyalty.reads.member_reads_unlinked"] for c in erased) >= 2


def _inactive(store, n):
    old = timezone.now() - relativedelta(months=30)
    members = MemberFactory.create_batch(n, home_store=store, last_activity_at=old)
    for member in members:
        points_earn(member=member, store=store, staff=None, amount="20.00", at=old)
        Member.objects.filter(pk=member.pk).update(last_activity_at=old)
    return members


def _failing(subject_keys):
    raise RuntimeError("eraser down")


def test_an_eraser_failing_mid_batch_rolls_the_batch_back_and_leaves_it_retryable(
    store, monkeypatch, settings
):
    # given: three inactive members, their tickets opened and queued as one batch (not run)
    members = _inactive(store, 3)
    opened = services.retention_open_tickets()
    rows = list(TicketTask.objects.filter(ticket_id__in=opened).values_list("pk", flat=True))
    assert len(opened) == len(rows) == 3
    # and an eraser that fails after loyalty's own has done its part
    monkeypatch.setitem(
        registry.erasers, "boom", Eraser("boom", lambda key: {}, 500, erase_many=_failing)
    )

    # when the batch runs
    with pytest.raises(RuntimeError):
        erasure_run_batch(opened, outbox_ids=rows)

    # then nothing of it is done: members, ledger links, tickets and their outbox rows stay
    assert Member.objects.filter(pk__in=[m.pk for m in members]).count() == 3
    assert LedgerEntry.objects.filter(member__in=members).count() == 3
    assert set(PrivacyTicket.objects.filter(pk__in=opened).values_list("state", flat=True)) == {
        TicketState.SCHEDULED
    }
    assert not ErasureRecord.objects.exists()
    assert RetentionRun.objects.get().tickets_completed == 0
    later = timezone.now() + timedelta(seconds=settings.PRIVACY_TASK_RETRY_SECONDS + 1)
    due = ticket_tasks_due(now=later)
    assert sorted(r.pk for r in due) == sorted(rows)

    # when the eraser is back and the sweeper's tasks run, one ticket each
    monkeypatch.delitem(registry.erasers, "boom")
    for row in due:
        erasure_run(*row.args, outbox_id=row.pk)

    # then every ticket is done once, with its proof, and the run counts them
    tickets = PrivacyTicket.objects.filter(pk__in=opened)
    assert {t.state for t in tickets} == {TicketState.COMPLETED}
    assert all(t.result_counts["loyalty.members"] == 1 for t in tickets)
    assert not Member.objects.filter(pk__in=[m.pk for m in members]).exists()
    assert ErasureRecord.objects.count() == 3
    assert not TicketTask.objects.exists()
    run = RetentionRun.objects.get()
    assert (run.tickets_opened, run.tickets_completed) == (3, 3)
    assert run.erased_counts["loyalty.members"] == 3


def test_the_retention_command_erases_in_batches_after_a_preview(store, settings):
    # given: five inactive members and one active
    settings.PRIVACY_RETENTION_MONTHS = 24
    _inactive(store, 5)
    active = MemberFactory(home_store=store)
    out = io.StringIO()

    # when: a preview, then the run in batches of two
    call_command("retention_run", "--preview", stdout=out)
    assert Member.objects.count() == 6
    call_command("retention_run", "--batch-size", "2", "--no-progress", stdout=out)

    # then
    text = out.getvalue()
    assert "5 subject(s) inactive past 24 months would be erased." in text
    assert "5 subject(s) erased, one ticket each." in text
    assert list(Member.objects.values_list("pk", flat=True)) == [active.pk]
    tickets = PrivacyTicket.objects.filter(source=TicketSource.RETENTION)
    assert {t.state for t in tickets} == {TicketState.COMPLETED}
    assert tickets.count() == ErasureRecord.objects.count() == 5
    assert not TicketTask.objects.exists()
    run = RetentionRun.objects.get()
    assert (run.tickets_opened, run.tickets_completed) == (5, 5)
    assert run.finished_at is not None


def test_the_retention_task_queues_one_batch_task_per_batch(
    store, settings, run_on_commit, monkeypatch
):
    settings.PRIVACY_RETENTION_BATCH = 2
    _inactive(store, 5)
    sent = []
    real = erasure_run_batch.apply_async
    monkeypatch.setattr(
        erasure_run_batch,
        "apply_async",
        lambda **kw: sent.append(len(kw["args"][0])) or real(**kw),
    )

    with run_on_commit():
        opened = services.retention_open_tickets()

    assert sorted(sent) == [1, 2, 2]
    assert len(opened) == 5
    assert set(PrivacyTicket.objects.values_list("state", flat=True)) == {TicketState.COMPLETED}
    assert not TicketTask.objects.exists()
