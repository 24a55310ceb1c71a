"""The ticket work outbox: no privacy task is lost between commit and worker (privacy.outbox)."""

from __future__ import annotations

import socket
from datetime import timedelta

import pytest
from celery import current_app
from django.core import mail
from django.utils import timezone
from kombu.exceptions import OperationalError

from loyalty.models import Member
from privacy import outbox
from privacy.models import PrivacyTicket, TicketKind, TicketState, TicketTask
from tests.privacy.conftest import erase_at_counter


class BrokerDown:
    """Celery as on the production stack, with the broker refusing connections until back()."""

    def __init__(self):
        self.task = current_app.tasks["privacy.tasks.erasure_run"]
        self.eager = current_app.conf.task_always_eager
        current_app.conf.task_always_eager = False

        def refuse(*args, **kwargs):
            raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

        self.task.apply_async = refuse

    def back(self):
        """The broker answers again (tasks run in-process, as in the rest of the suite)."""
        current_app.conf.task_always_eager = self.eager
        self.task.__dict__.pop("apply_async", None)


@pytest.fixture
def broker_down():
    down = BrokerDown()
    yield down
    down.back()


def test_an_approved_erasure_is_saved_with_its_outbox_row_and_the_task_clears_it(
    member, store, cashier, run_on_commit
):
    # when: an erasure at the counter, tasks in-process
    with run_on_commit():
        ticket = erase_at_counter(member, store, cashier)
    # then: it ran, and its outbox row is gone
    ticket.refresh_from_db()
    assert ticket.state == TicketState.COMPLETED
    assert not TicketTask.objects.exists()


def test_broker_down_at_approval_keeps_the_ticket_and_the_sweeper_runs_it_later(
    member, store, cashier, run_on_commit, broker_down
):
    # given: the broker refuses connections when the erasure is approved
    with run_on_commit():
        ticket = erase_at_counter(member, store, cashier)
    # then: the service returned (the caller can say the ticket was saved), the work is kept
    ticket.refresh_from_db()
    assert ticket.state == TicketState.SCHEDULED
    row = TicketTask.objects.get()
    assert (row.task, row.args, row.sent_at, row.attempts) == (
        "privacy.tasks.erasure_run",
        [ticket.pk],
        None,
        1,
    )
    # when: the broker is back and beat runs the sweeper
    broker_down.back()
    assert outbox.ticket_tasks_sweep() == 1
    # then: the erasure ran once, nothing is left to send
    ticket.refresh_from_db()
    assert ticket.state == TicketState.COMPLETED
    assert not Member.objects.filter(pk=member.pk).exists()
    assert not TicketTask.objects.exists()
    assert outbox.ticket_tasks_sweep() == 0


def test_a_scheduled_ticket_without_outbox_row_is_queued_by_the_sweeper(
    member, store, cashier, run_on_commit, broker_down
):
    # given: a ticket stranded as `scheduled` before the outbox existed
    with run_on_commit():
        ticket = erase_at_counter(member, store, cashier)
    TicketTask.objects.all().delete()
    broker_down.back()
    # when
    assert outbox.ticket_tasks_sweep() == 1
    # then
    ticket.refresh_from_db()
    assert ticket.state == TicketState.COMPLETED
    assert not TicketTask.objects.exists()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed again when the block ends: nothing listens


def test_a_task_that_failed_stays_in_the_outbox_and_is_sent_again_after_its_delay(
    member, store, cashier, run_on_commit, settings
):
    # given: no mail server where the settings point
    from privacy import services

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", _closed_port()
    with pytest.raises(ConnectionRefusedError), run_on_commit():
        services.ticket_open_for_subject(
            kind=TicketKind.ACCESS,
            subject_key=f"member:{member.pk}",
            source="public_form",  # verified already; counter requests wait for the member
            store=store,
            by=cashier,
        )
    ticket = PrivacyTicket.objects.get(kind=TicketKind.ACCESS)
    assert ticket.state == TicketState.SCHEDULED
    row = TicketTask.objects.get()
    assert row.attempts == 1 and row.sent_at is not None
    # when: the sweeper runs before the retry delay: nothing is sent twice
    assert outbox.ticket_tasks_sweep() == 0
    # when: the mail server is back and the delay has passed
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    later = timezone.now() + timedelta(seconds=settings.PRIVACY_TASK_RETRY_SECONDS + 1)
    assert outbox.ticket_tasks_sweep(now=later) == 1
    # then: the export went out and the ticket is done
    ticket.refresh_from_db()
    assert ticket.state == TicketState.COMPLETED
    assert len(mail.outbox) == 1
    assert not TicketTask.objects.exists()


def test_retry_delay_doubles_up_to_an_hour(settings):
    settings.PRIVACY_TASK_RETRY_SECONDS = 360
    assert [outbox._retry_delay(n).total_seconds() for n in (1, 2, 3, 4, 10)] == [
        360,
        720,
        1440,
        2880,
        3600,
    ]


def test_services_do_not_import_the_tasks_module():
    """The services queue tasks by name: privacy.tasks imports them, never the other way."""
    import ast
    from pathlib import Path

    import privacy.services

    for path in Path(privacy.services.__file__).parent.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                names = {node.module or ""} | {f"{node.module}.{a.name}" for a in node.names}
                assert "privacy.tasks" not in names, path.name
