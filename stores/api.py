"""Thin API classes for staff authentication and the stores a staff member works for."""

from __future__ import annotations

from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import StrictInputMixin
from core.errors import ApplicationError
from stores.selectors import stores_for_staff


class InvalidCredentials(ApplicationError):
    code = "invalid_credentials"
    status = 401
    message = "Wrong username or password."


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
        stores = stores_for_staff(request.user).order_by("code")
        return Response(self.OutputSerializer(stores, many=True).data)
