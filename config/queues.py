"""Which Celery queue each task goes to, so that a slow kind of work never holds up another.

A stack has one base queue, `CELERY_QUEUE` (`loyalty` by default: the counter's own work,
points expiry, token purges), and three named after it:

- `<base>.privacy`: erasures (a retention run queues hundreds of batches), access exports,
  withdrawals, the retention job, the outbox sweep;
- `<base>.dashboard`: the figures' refresh, the consent log's chain check and the
  equal-benefits parity check;
- `<base>.webhooks`: outgoing calls that wait on another server: the tills' and CRMs'
  webhooks (loyalty.services.webhooks), and every mail (the
  confirmation code a cashier waits for, links, notices, receipts, head office's deadline
  mail), so a slow mail server delays no erasure, and a retention run delays no mail.

The names follow the base queue, so a test or staging stack given a queue of its own
(`CELERY_QUEUE=smoke-1a2b`) has all four to itself on a shared Redis. Standard library only:
deploy/prod.py reads it without importing Django or Celery.
"""

from __future__ import annotations

PRIVACY = "privacy"
DASHBOARD = "dashboard"
WEBHOOKS = "webhooks"
KINDS = (PRIVACY, DASHBOARD, WEBHOOKS)

# Task name -> queue kind; a task not named here goes to the base queue.
TASK_QUEUES = {
    "privacy.tasks.erasure_run": PRIVACY,
    "privacy.tasks.erasure_run_batch": PRIVACY,
    "privacy.tasks.access_run": PRIVACY,
    "privacy.tasks.withdrawal_run": PRIVACY,
    "privacy.tasks.retention_run": PRIVACY,
    "privacy.tasks.ticket_tasks_sweep": PRIVACY,
    "privacy.tasks.tickets_drop_unverified": PRIVACY,
    "privacy.tasks.public_request_take": WEBHOOKS,
    "privacy.tasks.ticket_link_send": WEBHOOKS,
    "privacy.tasks.ticket_code_send": WEBHOOKS,
    "privacy.tasks.ticket_notify": WEBHOOKS,
    "privacy.tasks.consent_receipt_send": WEBHOOKS,
    "membership.tasks.sign_in_link_send": WEBHOOKS,
    "membership.tasks.marketing_opt_in_send": WEBHOOKS,
    "dashboard.tasks.tickets_deadline_mail": WEBHOOKS,
    "loyalty.tasks.webhook_deliver": WEBHOOKS,
    "loyalty.tasks.webhooks_sweep": WEBHOOKS,
    "dashboard.tasks.stats_refresh": DASHBOARD,
    "dashboard.tasks.consent_chain_check": DASHBOARD,
    "loyalty.tasks.parity_check": DASHBOARD,
}
# Tasks that stay on the base queue on purpose (a test holds every task to one of the two).
BASE_TASKS = (
    "loyalty.tasks.expire_points",
    "loyalty.tasks.expire_eid_scans",
    "loyalty.tasks.tiers_recompute",
    "loyalty.tasks.anniversaries_reward",
    "stores.tasks.staff_tokens_purge",
)


def queue_name(base: str, kind: str) -> str:
    """Return the name of the `kind` queue of the stack whose base queue is `base`."""
    return f"{base}.{kind}"


def queue_names(base: str) -> list[str]:
    """Return every queue of the stack whose base queue is `base`, the base queue first."""
    return [base, *(queue_name(base, kind) for kind in KINDS)]


def queue_for(task_name: str, base: str) -> str:
    """Return the queue a task of this name goes to."""
    kind = TASK_QUEUES.get(task_name)
    return queue_name(base, kind) if kind else base
