"""The API's parser and pagination: deep JSON and absurd offsets are a 400, never a 500.

Named in REST_FRAMEWORK's settings (a module of their own: DRF imports them while it reads
its settings, before core.api could be).
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework import exceptions, pagination, parsers

from core.inputs import plain_int


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, refusing JSON nested too deep with a 400 instead of a crash.

    Python's decoder recurses once per level: `[[[[...]]]]` 100,000 deep exhausts the stack
    (RecursionError, a 500). No input of this API nests more than a few levels.
    """

    MAX_DEPTH = 32

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError(_("JSON nested too deep.")) from None
        if _depth(data, self.MAX_DEPTH) > self.MAX_DEPTH:
            raise exceptions.ParseError(_("JSON nested too deep."))
        return data


def _depth(value, limit: int) -> int:
    """Return how deep `value` nests (stopping once past `limit`), iteratively."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            if deepest > limit:
                return deepest
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return deepest


class LimitOffsetPagination(pagination.LimitOffsetPagination):
    """DRF's limit/offset pagination, refusing a limit or offset that is not a plain number.

    DRF reads `?offset=²` as 0 and passes `?offset=99999999999999999999` to the database
    (a 500 on PostgreSQL). Here both are a 400 with the field named.
    """

    max_limit = 500
    MAX_OFFSET = 10_000_000

    def _param(self, request, name: str, maximum: int) -> int | None:
        raw = request.query_params.get(name)
        if raw is None or raw == "":
            return None
        value = plain_int(raw, minimum=0, maximum=maximum)
        if value is None:
            raise exceptions.ValidationError(
                {name: [_("Expected a whole number from 0 to %(maximum)s.") % {"maximum": maximum}]}
            )
        return value

    def get_limit(self, request):
        value = self._param(request, self.limit_query_param, self.max_limit)
        return self.default_limit if value in (None, 0) else value

    def get_offset(self, request):
        return self._param(request, self.offset_query_param, self.MAX_OFFSET) or 0
