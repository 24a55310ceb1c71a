"""The API's one error format and the helpers every API class shares."""

from __future__ import annotations

import copy
import logging
from typing import Any

from django.http import Http404, HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.plumbing import force_instance
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.errors import ApplicationError, RequestTooLarge, ServiceUnavailable, ValueOutOfRange
from core.inputs import TEXT_PATTERN, VISIBLE_TEXT_PATTERN, text_unsafe

# Free text takes anything but NUL, which DRF refuses in any text (ProhibitNullCharacters).
NUL_FREE_PATTERN = "^[^\\u0000]*$"

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

    # JSON Schema keywords for rules across fields, added to the request component (AutoSchema).
    schema_rules: dict[str, Any] = {}
    # Text fields that take any character (a password is compared, never stored or shown).
    free_text_fields: frozenset[str] = frozenset({"password"})

    def text_checked(self, name: str, field) -> bool:
        """Return whether this field's text is refused when it holds an invisible character."""
        from rest_framework import serializers

        return isinstance(field, serializers.CharField) and name not in self.free_text_fields

    def text_pattern(self, name: str, field) -> str:
        """Return the JSON Schema pattern of what this text field takes (AutoSchema)."""
        if not self.text_checked(name, field):
            return NUL_FREE_PATTERN
        return TEXT_PATTERN if field.allow_blank else VISIBLE_TEXT_PATTERN

    def to_internal_value(self, data):
        from rest_framework import serializers

        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    {key: [_("This field is not accepted.")] for key in unknown}
                )
            # Text and amounts are JSON strings, as the schema says: DRF would read 0 as "0".
            textual = serializers.CharField | serializers.DecimalField
            not_text = sorted(
                name
                for name, field in self.fields.items()
                if isinstance(field, textual)
                and data.get(name) is not None
                and not isinstance(data[name], str)
            )
            if not_text:
                raise serializers.ValidationError(
                    {name: [_("A string is expected.")] for name in not_text}
                )
            unsafe = sorted(
                name
                for name, field in self.fields.items()
                if self.text_checked(name, field)
                and isinstance(data.get(name), str)
                and text_unsafe(data[name])
            )
            if unsafe:
                raise serializers.ValidationError(
                    {
                        name: [_("This text holds a control or invisible character.")]
                        for name in unsafe
                    }
                )
        return super().to_internal_value(data)


# Statuses any API operation may answer, whatever its view: the request guard and the parser
# (400, 413), an outage of the database or Redis (503). core.middleware, core.parsing.
ANY_OPERATION_ERRORS: dict[int, list[str]] = {
    400: ["invalid_input", "malformed_request", "invalid_path", "value_out_of_range"],
    413: ["request_too_large"],
    503: ["service_unavailable"],
}
# ... one that needs a caller (a staff token or session, or a reader device's token),
AUTHENTICATED_ERRORS: dict[int, list[str]] = {
    401: [
        "not_authenticated",
        "authentication_failed",
        "token_expired",
        "device_unknown",
        "device_revoked",
    ],
    403: ["forbidden", "store_forbidden"],
}
# ... one that names a store or another object (in its path, query or body),
LOOKUP_ERRORS: dict[int, list[str]] = {
    404: ["not_found", "store_not_found", "member_reference_invalid", "member_not_found"],
    409: ["store_inactive"],
}
# ... one that takes a body, one that limits its callers' rate.
BODY_ERRORS: dict[int, list[str]] = {415: ["unsupported_media_type"]}
THROTTLED_ERRORS: dict[int, list[str]] = {429: ["throttled"]}

STORE_CODE_SCHEMA = {"type": "string", "pattern": "^[A-Z0-9-]+$", "minLength": 1, "maxLength": 20}
# Path parameters by name, as the URLs take them (the converters only say "a string").
PATH_PARAMETER_SCHEMAS: dict[str, dict[str, Any]] = {
    "store_code": STORE_CODE_SCHEMA,
    "member_ref": {"type": "string", "pattern": "^[A-Za-z0-9_-]+$", "maxLength": 200},
    "scan_id": {"type": "string", "format": "uuid"},
}


def _codes_description(codes: list[str]) -> str:
    return "Codes: " + ", ".join(f"`{c}`" for c in codes)


class AutoSchema(SpectacularAutoSchema):
    """The schema as the API behaves: every status an operation may answer, exact inputs.

    - Nested serializers are named after their API class, so every component name is unique:
      `MemberEnrollApi.InputSerializer` becomes `MemberEnrollInput` instead of a bare `Input`
      that another API's input would overwrite.
    - Every error status an operation can answer is listed, each with the one error body
      (`Error`): those of any operation, of an authenticated one, of one naming a store or
      object, taking a body or throttled, besides those its view declares.
    - Inputs say what the server refuses: no unknown keys (`additionalProperties: false`),
      no control or invisible characters in text, path parameters in their real shape.
    """

    def get_serializer_name(self, serializer, direction) -> str:
        qualname = type(serializer).__qualname__
        if "." in qualname:
            outer, _dot, inner = qualname.rpartition(".")
            owner = outer.split(".")[-1].removesuffix("Api").removesuffix("View")
            return owner + inner.removesuffix("Serializer")
        return super().get_serializer_name(serializer, direction)

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "path" and parameter["name"] in PATH_PARAMETER_SCHEMAS:
                parameter["schema"] = dict(PATH_PARAMETER_SCHEMAS[parameter["name"]])
        return operation

    def _map_serializer(self, serializer, direction, bypass_extensions=False):
        schema = super()._map_serializer(serializer, direction, bypass_extensions)
        if "__doc__" not in vars(type(serializer)) or not type(serializer).__doc__:
            # Not the docstring of a mixin or base class the serializer inherits.
            schema.pop("description", None)
        if direction != "request" or not isinstance(serializer, StrictInputMixin):
            return schema
        schema["additionalProperties"] = False
        # Rules across fields ("either a query or a name"), written as the view checks them.
        schema.update(copy.deepcopy(getattr(serializer, "schema_rules", {})))
        for name, field in serializer.fields.items():
            prop = schema.get("properties", {}).get(name)
            if (
                isinstance(field, serializers.CharField)
                and prop is not None
                and prop.get("type") == "string"
                and not {"pattern", "format", "enum"} & set(prop)
            ):
                prop["pattern"] = serializer.text_pattern(name, field)
        return schema

    def _operation_errors(self) -> dict[int, list[str]]:
        errors = {status_code: list(codes) for status_code, codes in ANY_OPERATION_ERRORS.items()}

        def add(more: dict[int, list[str]]) -> None:
            for status_code, codes in more.items():
                errors.setdefault(status_code, []).extend(
                    c for c in codes if c not in errors[status_code]
                )

        authenticated = bool(self.view.get_authenticators())
        request_serializer = self.get_request_serializer() if self.method != "GET" else None
        has_body = request_serializer is not None
        if authenticated:
            add(AUTHENTICATED_ERRORS)
            if "{" in self.path or has_body or self._names_store(request_serializer):
                add({404: LOOKUP_ERRORS[404]})
            if self._names_store(request_serializer):
                add({409: LOOKUP_ERRORS[409]})
        if has_body:
            add(BODY_ERRORS)
        if getattr(self.view, "throttle_classes", None):
            add(THROTTLED_ERRORS)
        return errors

    def _names_store(self, request_serializer) -> bool:
        """Return whether the operation names a store (path, query or body): it may be inactive."""
        fields = getattr(force_instance(request_serializer), "fields", {}) or {}
        return (
            "{store_code}" in self.path
            or "store" in fields
            or any(getattr(p, "name", None) == "store" for p in self.get_override_parameters())
        )

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        error_ref = self.resolve_serializer(ErrorSerializer(), "response").ref
        for status_code, codes in self._operation_errors().items():
            responses.setdefault(str(status_code), {"description": _codes_description(codes)})
        for status_code, response in responses.items():
            if int(status_code) >= 400:
                response["content"] = {"application/json": {"schema": error_ref}}
        return responses


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
