"""Outgoing e-mail to customers, in their language, through Django's e-mail settings."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from stores.models import Language


def site_url(viewname: str, *, language: str, **kwargs) -> str:
    """Return an absolute URL to a public page, under the language's prefix."""
    with translation.override(language):
        path = reverse(viewname, kwargs=kwargs or None)
    return settings.PRIVACY_SITE_URL.rstrip("/") + path


def mail_send(
    *,
    to: str,
    language: str,
    template: str,
    context: dict,
    attachments: list[tuple[str, str, str]] | None = None,
) -> None:
    """Render `privacy/email/<template>_subject.txt` and `.txt` in `language` and send them."""
    language = language if language in Language.values else Language.NL
    context = {**context, "chain_name": settings.CHAIN_NAME}
    with translation.override(language):
        subject = render_to_string(f"privacy/email/{template}_subject.txt", context)
        body = render_to_string(f"privacy/email/{template}.txt", context)
    message = EmailMessage(
        subject=" ".join(subject.split()),
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
    )
    for name, content, mimetype in attachments or []:
        message.attach(name, content, mimetype)
    message.send()
