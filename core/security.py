"""Login throttling glue for django-axes: the client's address, a log-safe label, the answer.

Axes counts failed staff logins (portal, admin and the API's token endpoint) per username and
per address. What it writes to a log goes through `client_str`, which names neither.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.shortcuts import render
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

from core.api import error_body

LOCKED_MESSAGE = _("Too many failed logins; try again later.")


def client_ip(request: HttpRequest) -> str:
    """Return the client's address: REMOTE_ADDR, or X-Forwarded-For behind trusted proxies.

    Each of `TRUSTED_PROXY_COUNT` proxies appends the address it received the request from;
    the one the last trusted proxy saw is the client. Entries further left are the client's
    own claims and are ignored.
    """
    remote = request.META.get("REMOTE_ADDR", "")
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    if len(forwarded) < proxies:
        return remote
    return forwarded[-proxies]


def client_str(username, ip_address, user_agent, path_info, request) -> str:
    """Label a login attempt in axes' log lines without the username or the address."""
    digest = salted_hmac("axes-log", f"{username}|{ip_address}").hexdigest()[:12]
    return f"{{client {digest}, path {path_info}}}"


def lockout_response(request: HttpRequest, original_response=None, credentials=None):
    """Answer a locked-out login: the API's error format under /api/, a plain page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse(error_body("login_locked", LOCKED_MESSAGE), status=429)
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(request, "security/locked_out.html", {"minutes": minutes}, status=429)
