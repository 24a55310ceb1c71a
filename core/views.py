"""Error pages: JSON under /api/, a short HTML page elsewhere, never a stack trace."""

import sys

from django.http import HttpRequest, HttpResponse
from django.views import defaults

from core.api import api_not_found, api_server_error
from core.middleware import outage_errors, outage_response


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if request.path.startswith("/api/"):
        return api_not_found(request, exception)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    # Django calls this inside its `except`: an outage anywhere (a middleware reading the
    # session, the view) is a 503 with Retry-After, not a 500.
    exc = sys.exc_info()[1]
    if exc is not None and isinstance(exc, outage_errors()):
        return outage_response(request, exc)
    if request.path.startswith("/api/"):
        return api_server_error(request)
    return defaults.server_error(request)
