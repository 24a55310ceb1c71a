"""Every Celery task has its queue (config/queues.py), and Celery's own router sends it there."""

from __future__ import annotations

import pytest

from config import queues
from config.celery import app


def _route(name: str, base: str = "loyalty") -> str:
    """Return the queue Celery's router picks for the task on a stack with this base queue
    (the suite's worker, when it runs, has set a base queue of its own)."""
    previous = app.conf.task_default_queue
    app.conf.task_default_queue = base
    try:
        return app.amqp.router.route({}, name)["queue"].name
    finally:
        app.conf.task_default_queue = previous


def _our_tasks() -> set[str]:
    app.loader.import_default_modules()
    return {name for name in app.tasks if not name.startswith("celery.")}


def test_every_task_is_given_a_queue():
    tasks = _our_tasks()

    unrouted = tasks - set(queues.TASK_QUEUES) - set(queues.BASE_TASKS)
    assert not unrouted, f"add these tasks to config/queues.py: {sorted(unrouted)}"
    # and the table names no task that is gone
    assert set(queues.TASK_QUEUES) | set(queues.BASE_TASKS) <= tasks


@pytest.mark.parametrize(
    ("task", "queue"),
    [
        ("privacy.tasks.erasure_run_batch", "loyalty.privacy"),
        ("privacy.tasks.retention_run", "loyalty.privacy"),
        ("privacy.tasks.ticket_code_send", "loyalty.webhooks"),
        ("membership.tasks.sign_in_link_send", "loyalty.webhooks"),
        ("dashboard.tasks.stats_refresh", "loyalty.dashboard"),
        ("loyalty.tasks.expire_points", "loyalty"),
    ],
)
def test_celery_routes_each_kind_of_work_to_its_queue(task, queue):
    assert _route(task) == queue


def test_the_queues_follow_a_stack_s_own_base_queue():
    # given: a test or staging stack on a queue of its own (the suite's worker does this)
    base = "smoke-1a2b"

    # then: its privacy, dashboard and webhooks work stays on queues of its own too
    assert _route("privacy.tasks.erasure_run", base) == "smoke-1a2b.privacy"
    assert _route("dashboard.tasks.consent_chain_check", base) == "smoke-1a2b.dashboard"
    assert _route("privacy.tasks.ticket_link_send", base) == "smoke-1a2b.webhooks"
    assert _route("stores.tasks.staff_tokens_purge", base) == "smoke-1a2b"
    assert queues.queue_names(base) == [
        "smoke-1a2b",
        "smoke-1a2b.privacy",
        "smoke-1a2b.dashboard",
        "smoke-1a2b.webhooks",
    ]


def test_an_explicit_queue_wins_over_the_table():
    route = app.amqp.router.route({"queue": "elsewhere"}, "privacy.tasks.erasure_run")

    assert route["queue"].name == "elsewhere"


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_the_suite_s_worker_runs_the_work_of_every_queue(celery_worker):
    from dashboard.tasks import consent_chain_check, tickets_deadline_mail
    from loyalty.tasks import expire_eid_scans
    from privacy.tasks import tickets_drop_unverified

    # one task per queue, each sent through the broker to the worker: none is left waiting
    assert expire_eid_scans.delay().get(timeout=60) == 0
    assert tickets_drop_unverified.delay().get(timeout=60) == 0
    assert consent_chain_check.delay().get(timeout=60) is True
    assert tickets_deadline_mail.delay().get(timeout=60) == 0
