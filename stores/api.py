"""Thin API classes for staff authentication and the stores a staff member works for."""

from __future__ import annotations

from django.contrib.auth import authenticate, get_user_model
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import StrictInputMixin, error_responses
from core.errors import ApplicationError, Forbidden, NotFound
from core.security import LOCKED_MESSAGE
from stores.access import Action, staff_access_for_request
from stores.models import StaffToken
from stores.selectors import staff_tokens_of
from stores.services import (
    reader_device_register,
    reader_device_revoke,
    staff_token_create,
    staff_token_revoke,
    staff_tokens_revoke,
)


class InvalidCredentials(ApplicationError):
    code = "invalid_credentials"
    status = 401
    message = gettext_lazy("Wrong username or password.")


class LoginLocked(ApplicationError):
    code = "login_locked"
    status = 429
    message = LOCKED_MESSAGE  # the words of axes' own lockout answer (core.security)


class StaffTokenApi(APIView):
    """Exchange a staff login for a new API token (one per login, or per device named)."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    class InputSerializer(StrictInputMixin, serializers.Serializer):
        username = serializers.CharField(max_length=150)
        password = serializers.CharField(max_length=128, trim_whitespace=False)
        device = serializers.CharField(
            max_length=100,
            required=False,
            default="",
            allow_blank=True,
            help_text="The till or device logging in: its previous token is replaced.",
        )

    class OutputSerializer(serializers.Serializer):
        token = serializers.CharField(help_text="Shown this once; only its hash is kept.")
        expires_at = serializers.DateTimeField(
            allow_null=True, help_text="Log in again after this; null when tokens never expire."
        )
        device = serializers.CharField()

    @extend_schema(
        request=InputSerializer,
        responses={
            200: OutputSerializer,
            **error_responses(
                {
                    400: ["invalid_input"],
                    401: ["invalid_credentials"],
                    429: ["login_locked"],
                }
            ),
        },
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = authenticate(request, **data.validated_data)
        if user is None and getattr(request, "axes_locked_out", False):
            # Login throttling (django-axes) refused the attempt before checking the password.
            raise LoginLocked()
        if user is None or not user.is_active:
            raise InvalidCredentials()
        token, text = staff_token_create(user=user, device=data.validated_data["device"])
        answer = self.OutputSerializer(
            {"token": text, "expires_at": token.expiry, "device": token.device}
        )
        # The token is in this answer only: no cache along the way may keep a copy.
        return Response(answer.data, headers={"Cache-Control": "no-store"})


TOKEN_REFUSED = {401: ["not_authenticated", "authentication_failed", "token_expired"]}


class StaffLogoutApi(APIView):
    """Revoke the token of this request."""

    @extend_schema(request=None, responses={204: None, **error_responses(TOKEN_REFUSED)})
    def post(self, request):
        if isinstance(request.auth, StaffToken):
            staff_token_revoke(token=request.auth)
        return Response(status=status.HTTP_204_NO_CONTENT)


class RevokedOutputSerializer(serializers.Serializer):
    revoked = serializers.IntegerField(help_text="How many tokens were revoked.")


class StaffLogoutAllApi(APIView):
    """Revoke every token of the signed-in staff member, on every device."""

    @extend_schema(
        request=None, responses={200: RevokedOutputSerializer, **error_responses(TOKEN_REFUSED)}
    )
    def post(self, request):
        return Response({"revoked": staff_tokens_revoke(user=request.user)})


class StaffTokenListApi(APIView):
    """List the signed-in staff member's live tokens: when, which device, until when."""

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        device = serializers.CharField()
        created = serializers.DateTimeField()
        expiry = serializers.DateTimeField(allow_null=True)
        current = serializers.SerializerMethodField(help_text="The token of this request.")

        def get_current(self, token: StaffToken) -> bool:
            return token.pk == getattr(self.context.get("token"), "pk", None)

    @extend_schema(
        responses={
            200: OutputSerializer(many=True),
            **error_responses(TOKEN_REFUSED),
        }
    )
    def get(self, request):
        tokens = staff_tokens_of(request.user)
        context = {"token": request.auth}
        return Response(self.OutputSerializer(tokens, many=True, context=context).data)


class StaffTokensRevokeApi(APIView):
    """Head office: revoke every token of another staff member (a lost till, a leaver)."""

    @extend_schema(
        request=None,
        responses={
            200: RevokedOutputSerializer,
            **error_responses({**TOKEN_REFUSED, 403: ["forbidden"], 404: ["not_found"]}),
        },
    )
    def post(self, request, user_id: int):
        if not staff_access_for_request(request).may(Action.OFFICE_HEAD):
            raise Forbidden(_("Only head office revokes another staff member's tokens."))
        user = get_user_model().objects.filter(pk=user_id).first()
        if user is None:
            raise NotFound(_("No such staff member."))
        return Response({"revoked": staff_tokens_revoke(user=user)})


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
            raise NotFound(_("No such reader in this store."))
        return Response(ReaderDeviceOutputSerializer(reader_device_revoke(device=device)).data)
