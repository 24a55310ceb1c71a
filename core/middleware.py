"""Middleware every request passes: hostile input refused early, outages answered clearly,
personal data never cached.

- A path holding NUL or another control or format character is a 400 (`invalid_path`): no
  view, converter or database query ever sees it.
- A body larger than DATA_UPLOAD_MAX_MEMORY_SIZE is a 413 (`request_too_large`) before any
  view reads it, also on endpoints anyone may call (the token login).
- A database or cache (Redis) that does not answer is a 503 (`service_unavailable`) with a
  Retry-After header, in the API's one error format under /api/, a short HTML page
  elsewhere (templates/error.html, rendered without the request: nothing in it reads the
  database).
- Every answer without its own cache rule gets `Cache-Control: no-store`: nearly every page
  and API answer holds personal data (members, staff, tickets), and static files are served
  before this middleware by whitenoise, with their own long cache.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import DataError, InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext_lazy as _

from core.api import error_body
from core.cache import memo_scope
from core.errors import RequestTooLarge, ServiceUnavailable, ValueOutOfRange
from core.inputs import text_forbidden

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5
PAGE_MESSAGES = {
    400: _("Bad request."),
    413: _("The request is too large."),
    503: _("The service is briefly unavailable; please try again in a few seconds."),
}
PAGE_TITLES = {
    400: _("Bad request"),
    413: _("Request too large"),
    503: _("Service unavailable"),
}


def _is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith("/api/")


def error_response(request: HttpRequest, code: str, message: str, status: int) -> HttpResponse:
    """Answer an error in the API's format under /api/, as a short HTML page elsewhere."""
    if _is_api(request):
        response = JsonResponse(error_body(code, message), status=status)
    else:
        # A page of its own, rendered without the request: no context processor, session or
        # user may touch the database that just failed.
        context = {
            "title": PAGE_TITLES.get(status, ""),
            "message": PAGE_MESSAGES.get(status, message),
        }
        try:
            page = render_to_string("error.html", context)
        except Exception:  # an error page must never fail in turn (e.g. no static manifest)
            logger.exception("error page not rendered")
            page = f"<!doctype html><title>{context['title']}</title><p>{context['message']}</p>"
        response = HttpResponse(page, status=status)
    if status == 503:
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    patch_cache_control(response, no_store=True)
    return response


def outage_errors() -> tuple[type[BaseException], ...]:
    """Return the exception types that mean "a server we need did not answer"."""
    import psycopg
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    # psycopg's own errors too: one raised outside Django's wrapper is the same outage.
    return (
        OperationalError,
        InterfaceError,
        psycopg.OperationalError,
        psycopg.InterfaceError,
        RedisConnectionError,
        RedisTimeoutError,
    )


def outage_response(request: HttpRequest, exc: BaseException) -> HttpResponse:
    logger.warning("service unavailable: %s (%s)", type(exc).__name__, request.path_info[:40])
    return error_response(
        request, ServiceUnavailable.code, ServiceUnavailable.message, ServiceUnavailable.status
    )


class CacheScopeMiddleware:
    """Each request is a scope in which values the cache holds for every call are reused
    (core.cache.memo_scope)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with memo_scope():
            return self.get_response(request)


class RequestGuardMiddleware:
    """Refuse hostile paths and oversized bodies, and answer outages with a 503."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if text_forbidden(request.path_info):
            return error_response(
                request, "invalid_path", "The address holds characters it may not.", 400
            )
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        length = request.META.get("CONTENT_LENGTH") or "0"
        if not (length.isascii() and length.isdigit()):
            return error_response(request, "malformed_request", "Bad Content-Length.", 400)
        if limit is not None and int(length) > limit:
            return error_response(
                request, RequestTooLarge.code, RequestTooLarge.message, RequestTooLarge.status
            )
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        if isinstance(exc, RequestDataTooBig):
            return error_response(
                request, RequestTooLarge.code, RequestTooLarge.message, RequestTooLarge.status
            )
        if isinstance(exc, DataError):
            logger.warning("input refused by the database: %s", type(exc).__name__)
            return error_response(request, ValueOutOfRange.code, ValueOutOfRange.message, 400)
        if isinstance(exc, outage_errors()):
            return outage_response(request, exc)
        return None


class NoStoreMiddleware:
    """Mark every answer that sets no cache rule of its own as never to be stored."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not response.has_header("Cache-Control"):
            patch_cache_control(response, no_store=True)
        return response


STAFF_PREFIXES = ("/counter/", "/office/", "/admin/", "/api/")


class StaffLanguageMiddleware:
    """Keep staff pages in the staff languages (nl, fr, en) when a customer language is chosen.

    German is for customers: a cashier whose browser, or whose customer's language link, asks
    for it gets the first staff language the browser accepts, else the default.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from django.utils import translation
        from django.utils.translation.trans_real import parse_accept_lang_header

        if (
            request.path_info.startswith(STAFF_PREFIXES)
            and translation.get_language() not in settings.STAFF_LANGUAGES
        ):
            accepted = parse_accept_lang_header(request.headers.get("Accept-Language", ""))
            language = next(
                (
                    code.split("-")[0]
                    for code, _q in accepted
                    if code.split("-")[0] in settings.STAFF_LANGUAGES
                ),
                settings.LANGUAGE_CODE,
            )
            translation.activate(language)
            request.LANGUAGE_CODE = language
        return self.get_response(request)
