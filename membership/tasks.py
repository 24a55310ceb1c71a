"""Celery entry points of "my membership": the mails, sent after the page has answered."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings

from membership import services
from privacy.mail import mail_send, site_url
from privacy.outbox import task_payload, ticket_task_done

logger = logging.getLogger(__name__)


@shared_task(name="membership.tasks.sign_in_link_send")
def sign_in_link_send(outbox_id: int | None = None) -> bool:
    """Mail a sign-in link if the address typed is a member's; return whether one went out."""
    payload = task_payload(outbox_id)
    if payload is None:
        return False
    issued = services.sign_in_link_issue(email=payload["email"], language=payload["language"])
    if issued is not None:
        member, token = issued
        language = payload["language"]
        mail_send(
            to=member.email,
            language=language,
            template="membership/email/sign_in",
            context={
                "link": site_url("membership:link", language=language, token=token),
                "minutes": settings.MEMBERSHIP_LINK_MINUTES,
            },
        )
        logger.info("membership: sign-in link sent")
    ticket_task_done(outbox_id)
    return issued is not None


@shared_task(name="membership.tasks.marketing_opt_in_send")
def marketing_opt_in_send(outbox_id: int | None = None) -> bool:
    """Mail the link that confirms a member's wish to receive offers (double opt-in)."""
    payload = task_payload(outbox_id)
    if payload is None:
        return False
    issued = services.marketing_opt_in_issue(opt_in_id=payload["opt_in"])
    if issued is not None:
        opt_in, token = issued
        mail_send(
            to=opt_in.member.email,
            language=opt_in.language,
            template="membership/email/marketing_confirm",
            context={
                "link": site_url(
                    "membership:marketing-confirm", language=opt_in.language, token=token
                ),
                "hours": settings.PRIVACY_LINK_EXPIRY_HOURS,
                "notice": opt_in.notice.text,
            },
        )
    ticket_task_done(outbox_id)
    return issued is not None
