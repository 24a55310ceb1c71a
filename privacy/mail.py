"""Outgoing e-mail to customers, in their language, through Django's e-mail settings.

Every mail names the chain and ends with its public home page and data-protection contact.
Links use the site address head office set, or the SITE_URL setting.
"""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from stores.models import CustomerLanguage
from stores.selectors import chain_settings


def site_url(viewname: str, *, language: str, **kwargs) -> str:
    """Return an absolute URL to a public page, under the language's prefix."""
    with translation.override(language):
        path = reverse(viewname, kwargs=kwargs or None)
    return chain_settings().site_url + path


def mail_send(
    *,
    to: str,
    language: str,
    template: str,
    context: dict,
    attachments: list[tuple[str, str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> None:
    """Render `<template>_subject.txt` and `.txt` in `language` and send them.

    A bare name ("confirm_erasure") is privacy's own, under `privacy/email/`; another app
    names its template by path ("membership/email/sign_in").
    """
    language = language if language in CustomerLanguage.values else CustomerLanguage.NL
    chain = chain_settings()
    path = template if "/" in template else f"privacy/email/{template}"
    context = {
        **context,
        "chain_name": chain.name,
        "chain_contact": chain.privacy_contact,
        "home_url": site_url("customer-home", language=language),
    }
    with translation.override(language):
        subject = render_to_string(f"{path}_subject.txt", context)
        body = render_to_string(f"{path}.txt", context)
        footer = render_to_string("privacy/email/_footer.txt", context)
    message = EmailMessage(
        subject=" ".join(subject.split()),
        body=body.rstrip() + "\n\n" + footer,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        headers=headers,
    )
    for name, content, mimetype in attachments or []:
        message.attach(name, content, mimetype)
    message.send()
