"""The API's one error format and the helpers every API class shares."""

from __future__ import annotations

import copy
import logging
from typing import Any

from django.http import Http404, HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.errors import ApplicationError, RequestTooLarge, ServiceUnavailable, ValueOutOfRange

logger = logging.getLogger(__name__)

_DRF_CODES = {
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.PermissionDenied: "forbidden",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "throttled",
    exceptions.ParseError: "malformed_request",
    exceptions.ValidationError: "invalid_input",
}


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    """Return the one error body every API answer uses."""
    return {"code": code, "message": message, "details": details or {}}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Turn domain and DRF errors into `{"code", "message", "details"}` with a stable code.

    A body too large is a 413; a database or Redis that does not answer is a 503 with a
    Retry-After header, so clients retry instead of reporting a bug.
    """
    from django.core.exceptions import RequestDataTooBig
    from django.db import DataError

    from core.middleware import RETRY_AFTER_SECONDS, outage_errors

    if isinstance(exc, RequestDataTooBig):
        exc = RequestTooLarge()
    elif isinstance(exc, DataError):
        # The last line of defence: a number past its column or text the database refuses.
        logger.warning("input refused by the database: %s", type(exc).__name__)
        exc = ValueOutOfRange()
    elif isinstance(exc, outage_errors()):
        logger.warning("service unavailable: %s", type(exc).__name__)
        response = Response(
            error_body(ServiceUnavailable.code, ServiceUnavailable.message),
            status=ServiceUnavailable.status,
        )
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    if isinstance(exc, ApplicationError):
        return Response(error_body(exc.code, exc.message, exc.details), status=exc.status)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    response = drf_exception_handler(exc, context)
    if response is None:
        # Unexpected: log the type only (the message may hold input), answer in the one format.
        logger.error("Unhandled API error: %s", type(exc).__name__, exc_info=exc)
        return Response(
            error_body("server_error", _("Something went wrong on our side; nothing was saved.")),
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    code = next((c for cls, c in _DRF_CODES.items() if isinstance(exc, cls)), "error")
    if isinstance(exc, exceptions.AuthenticationFailed) and isinstance(exc.get_codes(), str):
        # A refused credential may name its core.errors code (token_expired).
        code = exc.get_codes()
    if isinstance(exc, exceptions.ValidationError):
        details = response.data if isinstance(response.data, dict) else {"errors": response.data}
        message = _("Some fields are missing or invalid.")
    else:
        details = {}
        message = str(getattr(exc, "detail", "")) or _("The request could not be carried out.")
    response.data = error_body(code, message, details)
    return response


def api_not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    """Answer unknown API URLs in the API's error format."""
    return JsonResponse(error_body("not_found", _("No such endpoint.")), status=404)


def api_server_error(request: HttpRequest) -> JsonResponse:
    """Answer a crash in the API's error format, never with a stack trace."""
    return JsonResponse(
        error_body("server_error", _("Something went wrong on our side; nothing was saved.")),
        status=500,
    )


class StrictInputMixin:
    """Refuse input keys the serializer does not declare, instead of silently dropping them.

    Also copies its declared fields cheaply. DRF deep-copies them for every serializer it
    builds, which runs each field's __init__ again (validators, messages): half the cost of
    validating a counter lookup. A field's per-serializer state is what bind() sets, so a
    shallow copy serves a field that holds no other field and no mutable default; its
    validators and messages, never changed after __init__, are shared. Nested serializers,
    fields with a child and mutable defaults keep DRF's deep copy.
    """

    def get_fields(self):
        from rest_framework import fields, serializers

        def clone(field):
            nested = serializers.BaseSerializer | fields.ListField | fields.DictField
            if isinstance(field, nested) or isinstance(field.default, list | dict | set):
                return copy.deepcopy(field)
            return copy.copy(field)

        return {name: clone(field) for name, field in self._declared_fields.items()}

    def to_internal_value(self, data):
        from rest_framework import serializers

        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    {key: [_("This field is not accepted.")] for key in unknown}
                )
        return super().to_internal_value(data)


class AutoSchema(SpectacularAutoSchema):
    """Name nested serializers after their API class, so every component name is unique.

    `MemberEnrollApi.InputSerializer` becomes `MemberEnrollInput` instead of a bare `Input`
    that another API's input would overwrite.
    """

    def get_serializer_name(self, serializer, direction) -> str:
        qualname = type(serializer).__qualname__
        if "." in qualname:
            outer, _dot, inner = qualname.rpartition(".")
            owner = outer.split(".")[-1].removesuffix("Api").removesuffix("View")
            return owner + inner.removesuffix("Serializer")
        return super().get_serializer_name(serializer, direction)


class ErrorSerializer(serializers.Serializer):
    """The one error body (`error_body`), as the schema describes it."""

    code = serializers.CharField(help_text="Stable; see core/errors.py.")
    message = serializers.CharField()
    details = serializers.DictField()


def error_responses(codes_by_status: dict[int, list[str]]) -> dict[int, OpenApiResponse]:
    """Return schema responses for these statuses, each naming the codes it may carry."""
    return {
        status_code: OpenApiResponse(
            ErrorSerializer, description="Codes: " + ", ".join(f"`{c}`" for c in codes)
        )
        for status_code, codes in codes_by_status.items()
    }
