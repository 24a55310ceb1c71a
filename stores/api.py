"""Thin API classes for staff authentication and the stores a staff member works for."""

from __future__ import annotations

from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import StrictInputMixin
from core.errors import ApplicationError, NotFound
from stores.access import Action, staff_access_for_request
from stores.services import reader_device_register, reader_device_revoke


class InvalidCredentials(ApplicationError):
    code = "invalid_credentials"
    status = 401
    message = "Wrong username or password."


class LoginLocked(ApplicationError):
    code = "login_locked"
    status = 429
    message = "Too many failed logins; try again later."


class StaffTokenApi(APIView):
    """Exchange a staff login for an API token."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    class InputSerializer(StrictInputMixin, serializers.Serializer):
        username = serializers.CharField(max_length=150)
        password = serializers.CharField(max_length=128, trim_whitespace=False)

    class OutputSerializer(serializers.Serializer):
        token = serializers.CharField()

    @extend_schema(request=InputSerializer, responses={200: OutputSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = authenticate(request, **data.validated_data)
        if user is None and getattr(request, "axes_locked_out", False):
            # Login throttling (django-axes) refused the attempt before checking the password.
            raise LoginLocked()
        if user is None or not user.is_active:
            raise InvalidCredentials()
        token, _ = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})


class PingApi(APIView):
    """Answer that the API process is up; touches no database (liveness, benchmark baseline)."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    class OutputSerializer(serializers.Serializer):
        status = serializers.CharField()

    @extend_schema(responses={200: OutputSerializer})
    def get(self, request):
        return Response({"status": "ok"})


class StoreListApi(APIView):
    """List the stores the signed-in staff member may act for."""

    class OutputSerializer(serializers.Serializer):
        code = serializers.CharField()
        name = serializers.CharField()
        city = serializers.CharField()
        language = serializers.CharField()
        is_active = serializers.BooleanField()

    @extend_schema(responses={200: OutputSerializer(many=True)})
    def get(self, request):
        stores = staff_access_for_request(request).stores().order_by("code")
        return Response(self.OutputSerializer(stores, many=True).data)


class ReaderDeviceOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    store = serializers.CharField(source="store.code")
    token_prefix = serializers.CharField()
    created_at = serializers.DateTimeField()
    last_seen_at = serializers.DateTimeField(allow_null=True)
    revoked_at = serializers.DateTimeField(allow_null=True)


class ReaderDeviceListApi(APIView):
    """List a store's readers (any staff of the store); register one (manager, head office)."""

    class InputSerializer(StrictInputMixin, serializers.Serializer):
        name = serializers.CharField(max_length=100)

    class CreatedSerializer(ReaderDeviceOutputSerializer):
        token = serializers.CharField(help_text="Shown this once; only its hash is kept.")

    @extend_schema(responses={200: ReaderDeviceOutputSerializer(many=True)})
    def get(self, request, store_code: str):
        store = staff_access_for_request(request).store(store_code, require_active=False)
        devices = store.reader_devices.select_related("store").order_by("name")
        return Response(ReaderDeviceOutputSerializer(devices, many=True).data)

    @extend_schema(request=InputSerializer, responses={201: CreatedSerializer})
    def post(self, request, store_code: str):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        store = staff_access_for_request(request).store(store_code, Action.READERS_MANAGE)
        device, token = reader_device_register(
            store=store, name=data.validated_data["name"], created_by=request.user
        )
        body = dict(ReaderDeviceOutputSerializer(device).data, token=token)
        return Response(body, status=status.HTTP_201_CREATED)


class ReaderDeviceRevokeApi(APIView):
    """Revoke a reader: its token is refused from its next call on."""

    @extend_schema(request=None, responses={200: ReaderDeviceOutputSerializer})
    def post(self, request, store_code: str, device_id: int):
        store = staff_access_for_request(request).store(
            store_code, Action.READERS_MANAGE, require_active=False
        )
        device = store.reader_devices.filter(pk=device_id).first()
        if device is None:
            raise NotFound("No such reader in this store.")
        return Response(ReaderDeviceOutputSerializer(reader_device_revoke(device=device)).data)
