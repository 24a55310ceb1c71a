"""Counter API for a member's privacy: consent state, withdrawal, erasure, export.

Thin: each class finds the member through the staff scoping helpers, calls one privacy
service with the member's subject key, and renders the result.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import StrictInputMixin
from loyalty import selectors
from loyalty.api import StoreCodeField
from loyalty.privacy import member_subject_key
from loyalty.purposes import Channel, Purpose
from privacy import selectors as privacy_selectors
from privacy import services as privacy_services
from privacy.downloads import export_response
from privacy.models import Channel as PrivacyChannel
from privacy.models import PrivacyTicket
from privacy.services import ALL_PURPOSES
from stores.models import Language
from stores.selectors import store_for_staff


class ConsentOutputSerializer(serializers.Serializer):
    purpose = serializers.CharField()
    state = serializers.CharField()
    notice_version = serializers.IntegerField(allow_null=True)
    language = serializers.CharField(allow_null=True)
    channel = serializers.CharField(allow_null=True)
    store = serializers.CharField(allow_null=True)
    at = serializers.DateTimeField(allow_null=True)


def _consent_rows(subject_key: str) -> list[dict]:
    rows = []
    for purpose, record in privacy_selectors.consent_state(subject_key=subject_key).items():
        rows.append(
            {
                "purpose": purpose,
                "state": record.action if record else "none",
                "notice_version": record.notice.version if record else None,
                "language": record.language if record else None,
                "channel": record.channel if record else None,
                "store": record.store.code if record and record.store else None,
                "at": record.created_at if record else None,
            }
        )
    return ConsentOutputSerializer(rows, many=True).data


class TicketOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = PrivacyTicket
        fields = ["id", "kind", "state", "source", "received_at", "due_on", "extended_at"]


class MemberConsentApi(APIView):
    """Show a member's consent, per purpose: given, withdrawn, or none (never asked)."""

    @extend_schema(responses={200: ConsentOutputSerializer(many=True)})
    def get(self, request, member_id: int):
        member = selectors.member_for_staff(request.user, member_id)
        return Response({"results": _consent_rows(member_subject_key(member))})


class MemberConsentWithdrawApi(APIView):
    """Withdraw consent in one action. eID: the card link goes, number and points stay.

    Withdrawing the membership, or "all", also opens an erasure ticket (verified in person).
    """

    class InputSerializer(StrictInputMixin, serializers.Serializer):
        store = StoreCodeField()
        purpose = serializers.ChoiceField(choices=[*Purpose.values, ALL_PURPOSES])
        channel = serializers.ChoiceField(choices=[*Channel.values, *PrivacyChannel.values])
        language = serializers.ChoiceField(choices=Language.values, required=False)

    class OutputSerializer(serializers.Serializer):
        consent = ConsentOutputSerializer(many=True)
        has_eid_card = serializers.BooleanField()
        erasure_ticket = TicketOutputSerializer(allow_null=True)

    @extend_schema(request=InputSerializer, responses={200: OutputSerializer})
    def post(self, request, member_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        store = store_for_staff(request.user, data.validated_data["store"])
        member = selectors.member_at_store(store, member_id)
        subject_key = member_subject_key(member)
        withdrawal = privacy_services.consent_withdraw(
            subject_key=subject_key,
            purpose=data.validated_data["purpose"],
            channel=data.validated_data["channel"],
            language=data.validated_data.get("language", store.language),
            store=store,
            staff=request.user,
        )
        has_eid_card = type(member).objects.filter(pk=member.pk, eid_card__isnull=False).exists()
        return Response(
            {
                "consent": _consent_rows(subject_key),
                "has_eid_card": has_eid_card,
                "erasure_ticket": (
                    TicketOutputSerializer(withdrawal.erasure_ticket).data
                    if withdrawal.erasure_ticket
                    else None
                ),
            }
        )


class MemberErasureApi(APIView):
    """Open an erasure ticket for a member standing at the counter, verified in person."""

    class InputSerializer(StrictInputMixin, serializers.Serializer):
        store = StoreCodeField()

    @extend_schema(request=InputSerializer, responses={201: TicketOutputSerializer})
    def post(self, request, member_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        store = store_for_staff(request.user, data.validated_data["store"])
        member = selectors.member_at_store(store, member_id)
        ticket = privacy_services.ticket_open_for_subject(
            kind="erasure",
            subject_key=member_subject_key(member),
            source="counter",
            store=store,
            by=request.user,
        )
        return Response(TicketOutputSerializer(ticket).data, status=status.HTTP_201_CREATED)


class MemberExportApi(APIView):
    """Hand a member at the counter their data: JSON, or a zip of CSV files (one per kind)."""

    class InputSerializer(StrictInputMixin, serializers.Serializer):
        store = StoreCodeField()
        format = serializers.ChoiceField(choices=["json", "csv"], default="json")

    @extend_schema(
        request=InputSerializer,
        responses={200: OpenApiResponse(description="The export: JSON, or a zip of CSV files.")},
    )
    def post(self, request, member_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        store = store_for_staff(request.user, data.validated_data["store"])
        member = selectors.member_at_store(store, member_id)
        ticket, export = privacy_services.access_export_at_counter(
            subject_key=member_subject_key(member), store=store, staff=request.user
        )
        return export_response(ticket=ticket, export=export, fmt=data.validated_data["format"])
