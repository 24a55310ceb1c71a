"""Public pages: ask for erasure, a copy of one's data or an end to eID recognition; confirm.

Thin: parse the form, call one service, render. The answer to a request is the same page
whether or not the person is a member; the address typed never goes into a URL or a log.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.views import View

from core.errors import LinkInvalid, RateLimited
from core.security import client_ip
from privacy import services
from privacy.forms import SubjectRequestForm
from privacy.models import TicketKind
from privacy.ratelimit import ratelimit_hit
from privacy.registry import registry

# Each request's own page: its language links lead to the same request in another language.
REQUEST_PAGES = {
    TicketKind.ERASURE: "privacy:erasure-request",
    TicketKind.ACCESS: "privacy:access-request",
}


def _request_page(kind: str) -> str:
    withdrawal = registry.withdrawal_kinds.get(kind)
    return f"privacy:{withdrawal.url_name}" if withdrawal else REQUEST_PAGES[kind]


class SubjectRequestView(View):
    """Ask for erasure, a copy of one's data, or a consent withdrawal an app registered."""

    kind = TicketKind.ERASURE
    template_name = "privacy/request_form.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        return self._form(request, SubjectRequestForm())

    def post(self, request: HttpRequest) -> HttpResponse:
        form = SubjectRequestForm(request.POST)
        if not form.is_valid():
            return self._form(request, form, status=400)
        try:
            # The look-up and the mail happen in a task: the answer tells nothing, not even
            # by the time it takes.
            services.ticket_request_queue(
                kind=self.kind,
                identifier=form.cleaned_data["identifier"],
                language=get_language(),
                client_ip=client_ip(request),
            )
        except RateLimited:
            return _rate_limited(request)
        # Post/redirect/get: a reload does not post twice, and the address leaves no trace.
        return redirect("privacy:request-sent", kind=self.kind)

    def _form(self, request: HttpRequest, form: SubjectRequestForm, status: int = 200):
        context = {"form": form, "kind": self.kind, "url_name": _request_page(self.kind)}
        return render(request, self.template_name, context, status=status)


def request_sent(request: HttpRequest, kind: str) -> HttpResponse:
    """Say what happens next, identically for members and strangers."""
    kind = kind if kind in registry.ticket_kinds else TicketKind.ERASURE
    return render(
        request,
        "privacy/request_sent.html",
        {"kind": kind, "hours": settings.PRIVACY_LINK_EXPIRY_HOURS},
    )


def _rate_limited(request: HttpRequest) -> HttpResponse:
    response = render(request, "privacy/rate_limited.html", status=429)
    response["Retry-After"] = str(settings.PRIVACY_RATE_LIMIT_WINDOW_SECONDS)
    return response


def _link_tries_left(request: HttpRequest) -> bool:
    """Count one use of a confirmation link from this address; False past the limit.

    Tokens cannot be guessed, but a burst from one address costs a database look-up each:
    past the limit it gets the same page as the request form, whatever the token.
    """
    return ratelimit_hit(
        scope="link",
        value=client_ip(request) or "unknown",
        limit=settings.PRIVACY_RATE_LIMIT_PER_IP,
    )


class ConfirmView(View):
    """The confirmation link: shows a button (mail scanners follow links), the POST verifies."""

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.method in ("GET", "POST") and not _link_tries_left(request):
            return _rate_limited(request)
        return super().dispatch(request, *args, **kwargs)

    def get(self, request: HttpRequest, token: str) -> HttpResponse:
        try:
            ticket = services.ticket_link_check(token=token)
        except LinkInvalid:
            return render(request, "privacy/link_invalid.html", status=400)
        return render(request, "privacy/confirm.html", {"kind": ticket.kind})

    def post(self, request: HttpRequest, token: str) -> HttpResponse:
        try:
            ticket = services.ticket_link_confirm(token=token)
        except LinkInvalid:
            return render(request, "privacy/link_invalid.html", status=400)
        return render(request, "privacy/confirmed.html", {"ticket": ticket, "kind": ticket.kind})
