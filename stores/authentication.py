"""API authentication: staff by `Authorization: Token <token>`, readers by `Device <token>`."""

from __future__ import annotations

from hmac import compare_digest

from django.contrib.auth.models import AnonymousUser
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from knox.auth import TokenAuthentication
from knox.crypto import hash_token
from knox.settings import CONSTANTS
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.permissions import BasePermission

from core.cache import memo_get, memo_keep
from core.db.compiled import CompiledQuery
from core.errors import ApplicationError, TokenExpired, TokenRefused
from stores.access import staff_user
from stores.models import ReaderDevice, StaffToken
from stores.services import reader_device_authenticate

# A token is 64 hexadecimal characters (knox's default); anything far longer is not one.
_TOKEN_MAX_LENGTH = 128


# A token this process found in the database, kept for the next requests of the same cache
# generation (core.cache.memo_get): deleting any token moves the generation on everywhere
# (stores.signals), so a revoked token is refused from the next request, in every process.
_TOKEN_MEMO_KEY = "stores.token.v1:{}"  # noqa: S105 (a cache key, not a secret)

# The tokens whose key (the token's first characters) is this: the ORM's SQL, built once.
_TOKENS_BY_KEY = CompiledQuery(
    StaffToken, lambda key: StaffToken.objects.filter(token_key=key), arity=1
)


def _refused(error: type[ApplicationError]) -> exceptions.AuthenticationFailed:
    """Return DRF's 401 carrying a stable code of core.errors (the handler answers with it)."""
    return exceptions.AuthenticationFailed(error.message, code=error.code)


class StaffTokenAuthentication(TokenAuthentication):
    """Authenticate staff by their API token (django-rest-knox): one plain query.

    Knox's own check also reads every other token of the user to delete the expired ones, on
    every call; the counter makes this call at every scan and purchase, so here the token is
    read by a statement the ORM compiled once (`core.db.compiled`), an expired
    token is refused without a write and deleted at the user's next login or by the hourly
    purge (stores.tasks). The token row is read from the database, then kept in this process
    for the requests of the same cache generation (`core.cache.memo_get`, never in the shared
    cache); deleting any token moves the generation on in every process (stores.signals),
    so a revoked token is refused from the very next call. Its expiry is checked at each
    call. Its user comes from the cache (`stores.access.staff_user`, dropped whenever the
    user is saved), which spares the join the ORM is slow to build.
    """

    def authenticate_credentials(self, token: bytes):
        try:
            text = token.decode("ascii")
        except UnicodeDecodeError:
            raise _refused(TokenRefused) from None
        if len(text) > _TOKEN_MAX_LENGTH:
            raise _refused(TokenRefused)
        digest = hash_token(text)
        memo_key = _TOKEN_MEMO_KEY.format(digest)
        found = memo_get(memo_key)
        if found is None:
            candidates = _TOKENS_BY_KEY.run(text[: CONSTANTS.TOKEN_KEY_LENGTH])
            found = next((t for t in candidates if compare_digest(digest, t.digest)), None)
            if found is None:
                raise _refused(TokenRefused)
            memo_keep(memo_key, found)
        if found.expiry is not None and found.expiry <= timezone.now():
            raise _refused(TokenExpired)
        user = staff_user(found.user_id)
        if user is None or not user.is_active:
            raise _refused(TokenRefused)
        StaffToken._meta.get_field("user").set_cached_value(found, user)
        return user, found


class StaffTokenScheme(OpenApiAuthenticationExtension):
    """Describe the staff token in the OpenAPI schema."""

    target_class = StaffTokenAuthentication
    name = "staffTokenAuth"
    priority = 1

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": (
                "`Token <token>`: the token `POST /api/v1/auth/token/` answered with, shown"
                " that once. It expires (`expires_at`) and is revoked by a logout, a new"
                " password or head office; a refused token answers 401"
                " `authentication_failed` or `token_expired`."
            ),
        }


class DeviceTokenAuthentication(BaseAuthentication):
    """Authenticate a reader device; `request.auth` is the device, the user is anonymous."""

    keyword = b"device"

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword:
            return None
        if len(parts) != 2:
            return None
        try:
            token = parts[1].decode("ascii")
        except UnicodeDecodeError:
            return None
        return AnonymousUser(), reader_device_authenticate(token=token)

    def authenticate_header(self, request) -> str:
        return "Device"


class IsReaderDevice(BasePermission):
    """Allow only requests authenticated as an active reader device."""

    def has_permission(self, request, view) -> bool:
        return isinstance(request.auth, ReaderDevice)


class DeviceTokenScheme(OpenApiAuthenticationExtension):
    """Describe the device token in the OpenAPI schema."""

    target_class = DeviceTokenAuthentication
    name = "deviceToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Device <token>`: the token shown once when the reader was registered.",
        }
