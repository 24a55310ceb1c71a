"""Celery entry points of the stores app."""

from __future__ import annotations

from celery import shared_task

from stores import services


@shared_task(name="stores.tasks.staff_tokens_purge")
def staff_tokens_purge() -> int:
    """Delete expired staff API tokens; return how many."""
    return services.staff_tokens_purge()
