"""Celery entry points of the dashboard: keep the figures current, check the chain, warn."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from dashboard import selectors, services
from stores.selectors import chain_settings

logger = logging.getLogger(__name__)


@shared_task(name="dashboard.tasks.stats_refresh")
def stats_refresh() -> int:
    """Add what was written since the last run to the figures; return the rows read."""
    return services.stats_refresh()


@shared_task(name="dashboard.tasks.consent_chain_check")
def consent_chain_check() -> bool:
    """Verify the consent log's chain and keep the result; return whether it is intact."""
    check = services.chain_check_run()
    if not check.ok:
        logger.error("consent log chain broken at #%s: %s", check.broken_seq, check.reason)
    return check.ok


@shared_task(name="dashboard.tasks.tickets_deadline_mail")
def tickets_deadline_mail() -> int:
    """E-mail head office the open privacy tickets due within 7 days or overdue.

    Returns the number of tickets listed (0: no mail sent). Carries ticket numbers, kinds,
    states and dates only: never who the request is about.
    """
    today = timezone.localdate()
    tickets = list(selectors.tickets_due_soon(today=today))
    recipients = selectors.head_office_emails()
    if not tickets or not recipients:
        return 0
    site = chain_settings().site_url
    with translation.override(settings.LANGUAGE_CODE):
        lines = []
        for t in tickets:
            days = (t.due_on - today).days
            when = (
                _("overdue by %(days)d day(s)") % {"days": -days}
                if days < 0
                else _("due in %(days)d day(s)") % {"days": days}
            )
            lines.append(
                f"#{t.pk} {t.get_kind_display()} · {t.get_state_display()} · "
                f"{t.due_on.isoformat()} ({when})\n  "
                f"{site}{reverse('dashboard:ticket', args=[t.pk])}"
            )
        subject = _("Privacy requests close to their deadline: %(n)d") % {"n": len(tickets)}
        body = "\n".join(
            [
                _("These erasure and access requests are due within 7 days or overdue:"),
                "",
                *lines,
                "",
                _("The privacy queue: %(url)s") % {"url": site + reverse("dashboard:tickets")},
            ]
        )
    send_mail(subject, body, None, recipients)
    logger.info(
        "privacy deadline mail: %s ticket(s) to %s recipient(s)", len(tickets), len(recipients)
    )
    return len(tickets)
