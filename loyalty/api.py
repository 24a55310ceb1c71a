"""Thin API classes for the counter: find, join, earn, redeem, ledger.

Each class parses input, calls one service or selector and renders the result.
"""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import StrictInputMixin
from core.parsing import LimitOffsetPagination
from loyalty import selectors, services
from loyalty.models import JoinChannel, Member, MemberStatus, Reward
from stores.selectors import store_for_staff

IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="A retry with the same key returns the first answer and writes nothing new.",
)


class CounterApi(APIView):
    """An API class of the counter: the configured authentication (the staff token first,
    stores.authentication.StaffTokenAuthentication)."""


# Formats a datetime as the declared DateTimeFields do (ISO 8601 in the current time zone).
# Unbound and stateless, so one instance serves every hand-written `to_representation`.
_DATETIME = serializers.DateTimeField()


class MemberOutputSerializer(serializers.Serializer):
    # Declared field by field rather than a ModelSerializer, which rebuilds its fields from the
    # model on every use: a third of a counter lookup's time. Same output.
    id = serializers.BigIntegerField(read_only=True)
    number = serializers.CharField()
    given_name = serializers.CharField()
    surname = serializers.CharField()
    email = serializers.EmailField(allow_null=True)
    phone = serializers.CharField(allow_null=True, help_text="E.164")
    joined_via = serializers.ChoiceField(choices=JoinChannel.choices)
    home_store = serializers.CharField(source="home_store.code")
    status = serializers.ChoiceField(choices=MemberStatus.choices)
    points_balance = serializers.IntegerField()
    has_eid_card = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()

    def get_has_eid_card(self, member: Member) -> bool:
        return hasattr(member, "eid_card")

    def to_representation(self, member: Member) -> dict:
        return member_output(member)


def member_output(member: Member) -> dict:
    """Return what MemberOutputSerializer renders for `member`, written out.

    DRF deep-copies the twelve declared fields for every member it renders, the largest cost
    of a counter lookup once its queries were trimmed. The serializer's fields still describe
    the schema; tests/api/test_counter_hot_paths.py holds both to the same output.
    """
    return {
        "id": member.pk,
        "number": member.number,
        "given_name": member.given_name,
        "surname": member.surname,
        "email": member.email,
        "phone": member.phone,
        "joined_via": member.joined_via,
        "home_store": member.home_store.code,
        "status": member.status,
        "points_balance": member.points_balance,
        "has_eid_card": hasattr(member, "eid_card"),
        "created_at": _DATETIME.to_representation(member.created_at),
    }


_DECIMAL_2 = serializers.DecimalField(max_digits=10, decimal_places=2)


class LedgerEntryOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    points = serializers.IntegerField()
    balance_after = serializers.IntegerField()
    purchase_amount = serializers.DecimalField(max_digits=10, decimal_places=2, allow_null=True)
    store = serializers.CharField(source="store.code")
    reward = serializers.CharField(source="reward.name", allow_null=True, default=None)
    reference = serializers.CharField()
    created_at = serializers.DateTimeField()

    def to_representation(self, entry) -> dict:
        return ledger_entry_output(entry)


def ledger_entry_output(entry) -> dict:
    """Return what LedgerEntryOutputSerializer renders, written out as `member_output` is:
    every earn and redeem answers with one."""
    amount = entry.purchase_amount
    return {
        "id": entry.pk,
        "kind": entry.kind,
        "points": entry.points,
        "balance_after": entry.balance_after,
        "purchase_amount": None if amount is None else _DECIMAL_2.to_representation(amount),
        "store": entry.store.code,
        "reward": entry.reward.name if entry.reward_id is not None else None,
        "reference": entry.reference,
        "created_at": _DATETIME.to_representation(entry.created_at),
    }


class StoreCodeField(serializers.CharField):
    def __init__(self, **kwargs):
        super().__init__(max_length=20, **kwargs)


class MemberLookupApi(CounterApi):
    """Find members by member number, e-mail or phone (a POST, so none of it lands in URLs)."""

    class InputSerializer(StrictInputMixin, serializers.Serializer):
        query = serializers.CharField(max_length=254)

    @extend_schema(request=InputSerializer, responses={200: MemberOutputSerializer(many=True)})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        selectors.stores_for_staff_required(request.user)
        members = selectors.member_find_for_counter(query=data.validated_data["query"])
        # MemberOutputSerializer(members, many=True).data, without building the serializers.
        return Response({"results": [member_output(member) for member in members]})


class MemberEnrollApi(CounterApi):
    """Join by form: given name, surname, e-mail and phone, nothing else."""

    class InputSerializer(StrictInputMixin, serializers.Serializer):
        store = StoreCodeField()
        given_name = serializers.CharField(max_length=100)
        surname = serializers.CharField(max_length=100)
        email = serializers.CharField(max_length=254)
        phone = serializers.CharField(max_length=32)

    @extend_schema(request=InputSerializer, responses={201: MemberOutputSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        store = store_for_staff(request.user, fields.pop("store"))
        member = services.member_enroll_by_form(store=store, **fields)
        return Response(MemberOutputSerializer(member).data, status=status.HTTP_201_CREATED)


class MemberDetailApi(CounterApi):
    """Show one member to staff."""

    @extend_schema(responses={200: MemberOutputSerializer})
    def get(self, request, member_id: int):
        member = selectors.member_for_staff(request.user, member_id)
        return Response(MemberOutputSerializer(member).data)


class MemberLedgerApi(CounterApi):
    """List a member's ledger entries, newest first."""

    @extend_schema(responses={200: LedgerEntryOutputSerializer(many=True)})
    def get(self, request, member_id: int):
        member = selectors.member_for_staff(request.user, member_id)
        paginator = LimitOffsetPagination()
        page = paginator.paginate_queryset(selectors.member_ledger(member=member), request, self)
        return paginator.get_paginated_response(LedgerEntryOutputSerializer(page, many=True).data)


class PointsOutputSerializer(serializers.Serializer):
    entry = LedgerEntryOutputSerializer(source="*")
    member_id = serializers.IntegerField()
    points_balance = serializers.IntegerField(source="balance_after")

    def to_representation(self, entry) -> dict:
        # Written out, as MemberOutputSerializer's.
        return {
            "entry": ledger_entry_output(entry),
            "member_id": entry.member_id,
            "points_balance": entry.balance_after,
        }


class PointsEarnApi(CounterApi):
    """Record a purchase: the member earns the store's points for it."""

    class InputSerializer(StrictInputMixin, serializers.Serializer):
        store = StoreCodeField()
        amount = serializers.DecimalField(max_digits=12, decimal_places=2)
        reference = serializers.CharField(
            max_length=64, required=False, default="", allow_blank=True
        )

    @extend_schema(
        request=InputSerializer,
        responses={201: PointsOutputSerializer},
        parameters=[IDEMPOTENCY_HEADER],
    )
    def post(self, request, member_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        now = timezone.now()
        store = store_for_staff(request.user, data.validated_data["store"], campaign_at=now)
        member = selectors.member_to_lock_at_store(store, member_id)
        entry = services.points_earn(
            at=now,
            member=member,
            store=store,
            staff=request.user,
            amount=data.validated_data["amount"],
            reference=data.validated_data["reference"],
            idempotency_key=request.headers.get("Idempotency-Key"),
        )
        return Response(PointsOutputSerializer(entry).data, status=status.HTTP_201_CREATED)


class PointsRedeemApi(CounterApi):
    """Redeem a reward, or a number of points (part of the balance)."""

    class InputSerializer(StrictInputMixin, serializers.Serializer):
        store = StoreCodeField()
        reward = serializers.IntegerField(required=False, min_value=1)
        points = serializers.IntegerField(required=False, min_value=1, max_value=10_000_000)
        reference = serializers.CharField(
            max_length=64, required=False, default="", allow_blank=True
        )

        def validate(self, attrs):
            if ("reward" in attrs) == ("points" in attrs):
                raise serializers.ValidationError("Give either a reward or a number of points.")
            return attrs

    @extend_schema(
        request=InputSerializer,
        responses={201: PointsOutputSerializer},
        parameters=[IDEMPOTENCY_HEADER],
    )
    def post(self, request, member_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        store = store_for_staff(request.user, data.validated_data["store"])
        member = selectors.member_to_lock_at_store(store, member_id)
        reward = None
        if "reward" in data.validated_data:
            reward = selectors.reward_get(data.validated_data["reward"])
        entry = services.points_redeem(
            member=member,
            store=store,
            staff=request.user,
            reward=reward,
            points=data.validated_data.get("points"),
            reference=data.validated_data["reference"],
            idempotency_key=request.headers.get("Idempotency-Key"),
        )
        return Response(PointsOutputSerializer(entry).data, status=status.HTTP_201_CREATED)


class RewardListApi(CounterApi):
    """List the rewards a store offers now."""

    class OutputSerializer(serializers.ModelSerializer):
        class Meta:
            model = Reward
            fields = ["id", "name", "description", "point_cost"]

    @extend_schema(responses={200: OutputSerializer(many=True)})
    def get(self, request, store_code: str):
        store = store_for_staff(request.user, store_code, require_active=False)
        return Response(
            self.OutputSerializer(selectors.rewards_offered(store=store), many=True).data
        )
