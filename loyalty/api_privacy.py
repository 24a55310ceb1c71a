"""Counter API for a member's privacy: consent state, withdrawal, erasure, export.

Thin: each class finds the member through the staff scoping helpers, calls one privacy
service with the member's subject key, and renders the result.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from core.api import StrictInputMixin
from core.errors import ConfirmationRequired
from loyalty import selectors, services
from loyalty.api import (
    MEMBER_REF,
    REFERENCE_ERRORS,
    STORE_PARAM,
    CounterApi,
    StoreCodeField,
    StoreQueryParam,
)
from loyalty.models import ReadKind
from loyalty.privacy import member_subject_key
from loyalty.purposes import Channel, Purpose
from privacy import selectors as privacy_selectors
from privacy import services as privacy_services
from privacy.downloads import export_response
from privacy.models import Channel as PrivacyChannel
from privacy.models import PrivacyTicket, TicketKind, TicketState, Verification
from privacy.registry import registry
from stores.access import Action
from stores.models import CustomerLanguage


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


class CounterPrivacyApi(CounterApi):
    """A member's privacy at the counter, reached by the visit's member reference."""

    def member_here(self, request, store_code: str, member_ref: str, action: Action):
        store = self.counter_store(store_code, action)
        member, ref = selectors.member_by_reference(
            access=self.access, store=store, reference=member_ref, action=action
        )
        return store, member, ref


class MemberConsentApi(CounterPrivacyApi):
    """Show a member's consent, per purpose: given, withdrawn, or none (never asked)."""

    @extend_schema(
        parameters=[MEMBER_REF, STORE_PARAM],
        responses={200: ConsentOutputSerializer(many=True), **REFERENCE_ERRORS},
    )
    def get(self, request, member_ref: str):
        query = StoreQueryParam(data=request.query_params)
        query.is_valid(raise_exception=True)
        store = self.counter_store(query.validated_data["store"], Action.MEMBER_READ)
        member = services.member_read_by_reference(
            access=self.access, store=store, reference=member_ref, kind=ReadKind.CONSENT
        )
        return Response(_consent_rows(member_subject_key(member)))


# At the counter a withdrawal never erases: ending the membership is an erasure request, which
# waits for the member's confirmation (MemberErasureApi).
COUNTER_WITHDRAWALS = [p for p in Purpose.values if not registry.purposes[p].erases_on_withdrawal]


class MemberConsentWithdrawApi(CounterPrivacyApi):
    """Withdraw consent in one action. eID: the card link goes, number and points stay."""

    class InputSerializer(StrictInputMixin, serializers.Serializer):
        store = StoreCodeField()
        purpose = serializers.ChoiceField(choices=COUNTER_WITHDRAWALS)
        channel = serializers.ChoiceField(choices=[*Channel.values, *PrivacyChannel.values])
        language = serializers.ChoiceField(choices=CustomerLanguage.values, required=False)

    class OutputSerializer(serializers.Serializer):
        consent = ConsentOutputSerializer(many=True)
        has_eid_card = serializers.BooleanField()

    @extend_schema(
        parameters=[MEMBER_REF],
        request=InputSerializer,
        responses={200: OutputSerializer, **REFERENCE_ERRORS},
    )
    def post(self, request, member_ref: str):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        store, member, _reference = self.member_here(
            request, data.validated_data["store"], member_ref, Action.CONSENT_WITHDRAW
        )
        subject_key = member_subject_key(member)
        privacy_services.consent_withdraw(
            subject_key=subject_key,
            purpose=data.validated_data["purpose"],
            channel=data.validated_data["channel"],
            language=data.validated_data.get("language", store.language),
            store=store,
            staff=request.user,
        )
        has_eid_card = type(member).objects.filter(pk=member.pk, eid_card__isnull=False).exists()
        return Response({"consent": _consent_rows(subject_key), "has_eid_card": has_eid_card})


class CounterTicketOutputSerializer(serializers.ModelSerializer):
    confirmation = serializers.SerializerMethodField(
        help_text="What the request waits for: `email_code` (type the code the member "
        "received), `head_office` (a second person verifies), or `none`."
    )

    class Meta:
        model = PrivacyTicket
        fields = [
            "id",
            "kind",
            "state",
            "source",
            "verification",
            "confirmation",
            "received_at",
            "due_on",
            "extended_at",
        ]

    def get_confirmation(self, ticket) -> str:
        return privacy_services.ticket_counter_awaits(ticket)


class MemberErasureApi(CounterPrivacyApi):
    """Ask to erase the member at the counter. It runs once the member confirms: by their
    eID card just scanned, by the code sent to their e-mail, or else head office verifies."""

    class InputSerializer(StrictInputMixin, serializers.Serializer):
        store = StoreCodeField()

    @extend_schema(
        parameters=[MEMBER_REF],
        request=InputSerializer,
        responses={201: CounterTicketOutputSerializer, **REFERENCE_ERRORS},
    )
    def post(self, request, member_ref: str):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        store, member, ref = self.member_here(
            request, data.validated_data["store"], member_ref, Action.TICKET_OPEN
        )
        ticket = privacy_services.ticket_open_at_counter(
            kind=TicketKind.ERASURE,
            subject_key=member_subject_key(member),
            store=store,
            by=request.user,
            presented=selectors.member_card_presented(ref),
        )
        return Response(CounterTicketOutputSerializer(ticket).data, status=status.HTTP_201_CREATED)


class TicketConfirmApi(CounterPrivacyApi):
    """Confirm the member's counter request with the code they received by e-mail."""

    class InputSerializer(StrictInputMixin, serializers.Serializer):
        store = StoreCodeField()
        kind = serializers.ChoiceField(choices=[TicketKind.ERASURE, TicketKind.ACCESS])
        code = serializers.CharField(max_length=12)

    @extend_schema(
        parameters=[MEMBER_REF],
        request=InputSerializer,
        responses={
            200: CounterTicketOutputSerializer,
            409: OpenApiResponse(description="`member_confirmation_required`"),
            **REFERENCE_ERRORS,
        },
    )
    def post(self, request, member_ref: str):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        _store, member, _ref = self.member_here(
            request, data.validated_data["store"], member_ref, Action.TICKET_OPEN
        )
        ticket = privacy_selectors.ticket_open_find(
            kind=data.validated_data["kind"], subject_key=member_subject_key(member)
        )
        if ticket is None:
            raise ConfirmationRequired(_("There is no request of this member to confirm."))
        ticket = privacy_services.ticket_code_confirm(
            ticket=ticket, code=data.validated_data["code"], by=request.user
        )
        return Response(CounterTicketOutputSerializer(ticket).data)


class MemberExportApi(CounterPrivacyApi):
    """Give a member their data. Just after their eID card was scanned: handed over here (JSON,
    or a zip of CSV files). Otherwise a code goes to their e-mail; once they give it to the
    cashier (TicketConfirmApi) the data is sent to that address."""

    class InputSerializer(StrictInputMixin, serializers.Serializer):
        store = StoreCodeField()
        format = serializers.ChoiceField(choices=["json", "csv"], default="json")

    @extend_schema(
        parameters=[MEMBER_REF],
        request=InputSerializer,
        responses={
            200: OpenApiResponse(description="The export: JSON, or a zip of CSV files."),
            202: CounterTicketOutputSerializer,
            409: OpenApiResponse(description="`member_confirmation_required`"),
            **REFERENCE_ERRORS,
        },
    )
    def post(self, request, member_ref: str):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        store, member, ref = self.member_here(
            request, data.validated_data["store"], member_ref, Action.TICKET_OPEN
        )
        ticket = privacy_services.ticket_open_at_counter(
            kind=TicketKind.ACCESS,
            subject_key=member_subject_key(member),
            store=store,
            by=request.user,
            presented=selectors.member_card_presented(ref),
        )
        if ticket.verification != Verification.CREDENTIAL or ticket.state != TicketState.VERIFIED:
            return Response(
                CounterTicketOutputSerializer(ticket).data, status=status.HTTP_202_ACCEPTED
            )
        ticket, export = privacy_services.access_export_at_counter(
            ticket=ticket, staff=request.user
        )
        return export_response(ticket=ticket, export=export, fmt=data.validated_data["format"])
