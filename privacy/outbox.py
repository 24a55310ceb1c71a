"""The ticket work outbox: queue a ticket's task so that nothing can strand it.

`ticket_task_put` writes a `TicketTask` row in the caller's transaction and sends the task
once it commits. If the broker is down the row stays unsent and the caller's answer stays true
(the ticket was saved); `ticket_tasks_sweep`, run every minute by beat, sends again every row
not sent yet or not done within its retry delay (a killed worker, a mail server that refused).
The task deletes its row when it finishes. Tasks are idempotent, so a second run is harmless.

Work that comes before any ticket (`task_put_sealed`: the public form's look-up, a sign-in
link) goes the same way, its personal payload sealed in the row and never in the broker.

Tasks are looked up by name in the Celery app, so the services never import `privacy.tasks`
(which imports the services).
"""

from __future__ import annotations

import json
import logging
import threading
from datetime import datetime, timedelta

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from kombu.exceptions import OperationalError as KombuOperationalError
from redis.exceptions import RedisError

from privacy.hashing import seal, unseal
from privacy.models import PrivacyTicket, TicketKind, TicketState, TicketTask
from privacy.registry import registry

logger = logging.getLogger(__name__)

# Failing to reach the broker, whichever layer reports it.
BROKER_ERRORS = (KombuOperationalError, RedisError, OSError)

RUN_TASKS = {
    TicketKind.ERASURE: "privacy.tasks.erasure_run",
    TicketKind.ACCESS: "privacy.tasks.access_run",
}
WITHDRAWAL_TASK = "privacy.tasks.withdrawal_run"
RUN_TASK_NAMES = (*RUN_TASKS.values(), WITHDRAWAL_TASK)
ERASURE_BATCH_TASK = "privacy.tasks.erasure_run_batch"


def run_task_name(kind: str) -> str:
    """Return the task that does a scheduled ticket's work (withdrawal kinds: apps register)."""
    return WITHDRAWAL_TASK if kind in registry.withdrawal_kinds else RUN_TASKS[kind]


SWEEP_BATCH = 200


def ticket_task_put(*, task: str, ticket_id: int, args: tuple = ()) -> TicketTask:
    """Record `task(ticket_id, *args)` in this transaction and send it once it commits."""
    return outbox_put(task=task, args=(ticket_id, *args), ticket_id=ticket_id)


def outbox_put(*, task: str, args: tuple, ticket_id: int | None = None) -> TicketTask:
    """Record `task(*args)` in this transaction and send it once it commits.

    Without `ticket_id`, work that belongs to no ticket. The args are ids (a subject key at
    most), never personal data.
    """
    row = TicketTask.objects.create(
        task=task, ticket_id=ticket_id, args=list(args), created_at=timezone.now()
    )
    row_id = row.pk
    transaction.on_commit(lambda: ticket_task_send(row_id))
    return row


_SEAL_DOMAIN = "outbox"


def task_put_sealed(*, task: str, payload: dict) -> TicketTask:
    """Record `task(outbox_id=...)` with a payload kept sealed in the row; send it on commit.

    For work that must not happen in the request that asks for it (looking up who is behind an
    address typed in a public form, so the answer takes the same time for anyone). The broker
    message holds the row's id only; the task reads the payload with `task_payload`.
    """
    sealed = seal(json.dumps(payload, sort_keys=True), domain=_SEAL_DOMAIN)
    row = TicketTask.objects.create(task=task, args=[], sealed=sealed, created_at=timezone.now())
    row_id = row.pk
    transaction.on_commit(lambda: _send_after_response(row_id))
    return row


# With tasks run in-process (no broker: a developer's machine, `make run`), a sealed task
# would run inside the request and its look-up would show in the answer's time. It waits for
# the end of the request instead: Django's request_finished, sent once the answer is written.
_request = threading.local()


def _send_after_response(row_id: int) -> None:
    waiting = getattr(_request, "after_response", None)
    if current_app.conf.task_always_eager and waiting is not None:
        waiting.append(row_id)
    else:
        ticket_task_send(row_id)


def request_started(**kwargs) -> None:
    _request.after_response = []


def request_finished(**kwargs) -> None:
    waiting, _request.after_response = getattr(_request, "after_response", None), None
    if not waiting:
        return
    for row_id in waiting:
        try:
            ticket_task_send(row_id)
        except Exception:
            # The answer is gone already; the row stays for the sweeper.
            logger.exception("privacy outbox row %s: in-process task failed", row_id)


def task_payload(outbox_id: int | None) -> dict | None:
    """Return a sealed outbox row's payload, or None (done already, or not sealed by us)."""
    row = TicketTask.objects.filter(pk=outbox_id).only("sealed").first() if outbox_id else None
    if row is None or not row.sealed:
        return None
    opened = unseal(row.sealed, domain=_SEAL_DOMAIN)
    return json.loads(opened) if opened else None


def ticket_run_put(ticket: PrivacyTicket) -> TicketTask:
    """Queue a scheduled ticket's work (erasure, export, withdrawal)."""
    return ticket_task_put(task=run_task_name(ticket.kind), ticket_id=ticket.pk)


def erasure_batch_put(tickets: list[PrivacyTicket], *, send: bool = True) -> list[int]:
    """Queue the erasure of these scheduled tickets as one batch task; return the outbox rows.

    Each ticket still gets its own outbox row (its `erasure_run`), marked as handed over: the
    batch task deletes them when it commits. If the batch never finishes (broker down, worker
    killed, an eraser failing), the sweeper sends each row's own task after the retry delay,
    so every ticket stays retryable on its own. `send=False` when the caller runs the batch
    itself (the retention command).
    """
    now = timezone.now()
    rows = TicketTask.objects.bulk_create(
        TicketTask(
            task=RUN_TASKS[TicketKind.ERASURE],
            ticket_id=ticket.pk,
            args=[ticket.pk],
            created_at=now,
            sent_at=now,
            attempts=1,
        )
        for ticket in tickets
    )
    row_ids = [row.pk for row in rows]
    if row_ids and None in row_ids:  # backends that do not return ids
        row_ids = list(
            TicketTask.objects.filter(
                ticket_id__in=[t.pk for t in tickets], created_at=now
            ).values_list("pk", flat=True)
        )
    if send and tickets:
        ticket_ids = [t.pk for t in tickets]
        transaction.on_commit(lambda: erasure_batch_send(ticket_ids, row_ids))
    return row_ids


def task_send(task_name: str, *, args: list, kwargs: dict | None = None) -> Exception | None:
    """Send a task to the broker, or run it here when tasks run in-process (its errors then
    go to the caller); return the broker's error if it could not be reached. For any app
    whose own rows are the record of what is still to send (privacy's outbox, webhooks)."""
    # No result wanted (the outbox row is the record): nor a subscription to Redis's result
    # channel, which would fail the request, and stay broken, while Redis is down.
    send = {"args": args, "kwargs": kwargs or {}, "ignore_result": True}
    task = current_app.tasks[task_name]
    if current_app.conf.task_always_eager:
        task.apply_async(**send)
        return None
    try:
        task.apply_async(**send)
    except BROKER_ERRORS as exc:
        return exc
    return None


def erasure_batch_send(ticket_ids: list[int], row_ids: list[int]) -> bool:
    """Hand one batch of erasures to the broker; on failure, leave them to the sweeper."""
    exc = task_send(ERASURE_BATCH_TASK, args=[ticket_ids], kwargs={"outbox_ids": row_ids})
    if exc is not None:
        TicketTask.objects.filter(pk__in=row_ids).update(sent_at=None)
        logger.warning(
            "privacy: a batch of %s erasures not queued (broker unavailable: %s); the sweeper "
            "sends them",
            len(ticket_ids),
            type(exc).__name__,
        )
        return False
    return True


def ticket_task_send(row_id: int) -> bool:
    """Send one outbox row to the broker; return whether it was handed over.

    A broker that does not answer is logged and left to the sweeper: the work is saved, only
    late. With tasks run in-process (no broker) the task runs here and any error it raises
    goes to the caller, as before.
    """
    row = TicketTask.objects.filter(pk=row_id).first()
    if row is None:
        return False
    TicketTask.objects.filter(pk=row_id).update(sent_at=timezone.now(), attempts=F("attempts") + 1)
    exc = task_send(row.task, args=row.args, kwargs={"outbox_id": row_id})
    if exc is not None:
        TicketTask.objects.filter(pk=row_id).update(sent_at=None)
        logger.warning(
            "privacy ticket %s: %s not queued (broker unavailable: %s); the sweeper sends it",
            row.ticket_id,
            row.task,
            type(exc).__name__,
        )
        return False
    return True


def ticket_task_done(outbox_id: int | None) -> None:
    """Forget an outbox row once its task has finished."""
    if outbox_id:
        TicketTask.objects.filter(pk=outbox_id).delete()


def _retry_delay(attempts: int) -> timedelta:
    # Sized to the longest task (a slower run must not be sent twice), doubling per attempt up
    # to an hour, so a mail server that stays down is not hammered.
    base = settings.PRIVACY_TASK_RETRY_SECONDS
    return timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), max(base, 3600)))


def ticket_tasks_due(*, now: datetime | None = None) -> list[TicketTask]:
    """Return the outbox rows to send again: never sent, or not done within their delay."""
    now = now or timezone.now()
    base = timedelta(seconds=settings.PRIVACY_TASK_RETRY_SECONDS)
    rows = TicketTask.objects.filter(Q(sent_at__isnull=True) | Q(sent_at__lte=now - base))
    return [
        row
        for row in rows[:SWEEP_BATCH]
        if row.sent_at is None or row.sent_at <= now - _retry_delay(row.attempts)
    ]


def ticket_tasks_sweep(*, now: datetime | None = None) -> int:
    """Send again every outbox row that is due, and queue every scheduled ticket without one.

    The second part catches a scheduled ticket written before the outbox existed, or by hand.
    Returns how many tasks were handed to the broker.
    """
    now = now or timezone.now()
    orphans = PrivacyTicket.objects.filter(state=TicketState.SCHEDULED).exclude(
        pk__in=TicketTask.objects.filter(task__in=RUN_TASK_NAMES).values("ticket_id")
    )
    for ticket in orphans[:SWEEP_BATCH]:
        TicketTask.objects.create(
            task=run_task_name(ticket.kind), ticket=ticket, args=[ticket.pk], created_at=now
        )
    sent = 0
    for row in ticket_tasks_due(now=now):
        sent += ticket_task_send(row.pk)
    if sent:
        logger.info("privacy: %s ticket task(s) sent again", sent)
    return sent
