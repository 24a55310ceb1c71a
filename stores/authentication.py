"""API authentication for reader devices: `Authorization: Device <token>`."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.permissions import BasePermission

from stores.models import ReaderDevice
from stores.services import reader_device_authenticate


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
