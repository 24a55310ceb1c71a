"""Thin API classes for the counter: find, join, earn, redeem, ledger.

Each class parses input, calls one service or selector and renders the result. Who may do
what is decided once per request by `stores.access` (`CounterApi.initial`); members are
reached only through what the customer presents, then by the reference the lookup handed out.
"""

from __future__ import annotations

import re
from decimal import Decimal

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from core.api import PATH_PARAMETER_SCHEMAS, STORE_CODE_SCHEMA, StrictInputMixin
from core.parsing import LimitOffsetPagination
from loyalty import selectors, services
from loyalty.contact import email_masked, phone_masked
from loyalty.models import JoinChannel, Member, MemberStatus, ReadKind, Reward
from loyalty.rules import BasketLine
from loyalty.selectors import NAME_SEARCH_PATTERN
from loyalty.services.ledger import IDEMPOTENCY_KEY
from stores.access import Action, StaffAccess, staff_access_for_request
from stores.models import Store

IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    {"type": "string", "pattern": f"^{IDEMPOTENCY_KEY.pattern}$"},
    OpenApiParameter.HEADER,
    required=False,
    description="A retry with the same key returns the first answer and writes nothing new.",
)

MEMBER_REF = OpenApiParameter(
    "member_ref",
    PATH_PARAMETER_SCHEMAS["member_ref"],
    OpenApiParameter.PATH,
    description=(
        "The member reference a lookup (or an eID scan, or joining) handed out: opaque, valid "
        "for the customer's visit, for the staff member and store it was issued to. A member "
        "id is refused (`member_reference_invalid`)."
    ),
)

REFERENCE_ERRORS = {
    400: OpenApiResponse(description="`member_reference_expired`, `invalid_input`"),
    403: OpenApiResponse(description="`store_forbidden`"),
    404: OpenApiResponse(
        description="`member_reference_invalid`, `member_not_found`, `store_not_found`"
    ),
}


class CounterApi(APIView):
    """An API class of the counter: the caller's access decided once, before the handler."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self.access: StaffAccess = staff_access_for_request(request)

    def counter_store(self, code: str, action: Action = Action.MEMBER_READ, **kwargs) -> Store:
        return self.access.store(code, action, **kwargs)


class MemberFindThrottle(ScopedRateThrottle):
    """Lookups per staff account (settings REST_FRAMEWORK DEFAULT_THROTTLE_RATES)."""

    def allow_request(self, request, view):
        return _rate_off(self, request, view) or super().allow_request(request, view)


class MemberReadThrottle(MemberFindThrottle):
    pass


def _rate_off(throttle, request, view) -> bool:
    scope = getattr(view, "throttle_scope", None)
    return not scope or throttle.THROTTLE_RATES.get(scope) in (None, "off")


# Formats a datetime as the declared DateTimeFields do (ISO 8601 in the current time zone).
# Unbound and stateless, so one instance serves every hand-written `to_representation`.
_DATETIME = serializers.DateTimeField()


class MaskedEmailField(serializers.CharField):
    def to_representation(self, value):
        return email_masked(value)


class MaskedPhoneField(serializers.CharField):
    def to_representation(self, value):
        return phone_masked(value)


class MemberOutputSerializer(serializers.Serializer):
    # Declared field by field rather than a ModelSerializer, which rebuilds its fields from the
    # model on every use. Contact details are masked: enough for the customer to confirm.
    reference = serializers.CharField(help_text="Use it in this visit's other counter calls.")
    number = serializers.CharField()
    given_name = serializers.CharField()
    surname = serializers.CharField()
    email = MaskedEmailField(allow_null=True, help_text="Masked: j***@example.be")
    phone = MaskedPhoneField(allow_null=True, help_text="Masked: +32 *** 67")
    joined_via = serializers.ChoiceField(choices=JoinChannel.choices)
    home_store = serializers.CharField(source="home_store.code")
    status = serializers.ChoiceField(choices=MemberStatus.choices)
    points_balance = serializers.IntegerField()
    has_eid_card = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()

    def get_has_eid_card(self, member: Member) -> bool:
        return hasattr(member, "eid_card")


def member_output(member: Member, reference: str) -> dict:
    """Return what MemberOutputSerializer renders for `member`, written out (a counter lookup
    renders one per scan); tests/api/test_counter_hot_paths.py holds both to the same output."""
    return {
        "reference": reference,
        "number": member.number,
        "given_name": member.given_name,
        "surname": member.surname,
        "email": email_masked(member.email),
        "phone": phone_masked(member.phone),
        "joined_via": member.joined_via,
        "home_store": member.home_store.code,
        "status": member.status,
        "points_balance": member.points_balance,
        "has_eid_card": hasattr(member, "eid_card"),
        "created_at": _DATETIME.to_representation(member.created_at),
    }


class RewardOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Reward
        fields = ["id", "name", "description", "point_cost"]


class MemberDetailOutputSerializer(MemberOutputSerializer):
    rewards_within_reach = RewardOutputSerializer(many=True)


_DECIMAL_2 = serializers.DecimalField(max_digits=10, decimal_places=2)


class ReasonSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(
        choices=[
            "purchase",
            "campaign",
            "tier",
            "redemption",
            "return",
            "shortfall",
            "expiry",
            "adjustment",
            "reversal",
        ]
    )
    name = serializers.CharField(required=False, help_text="The campaign's or the tier's name.")
    by = serializers.CharField(required=False, help_text="The staff account, for a correction.")
    points = serializers.IntegerField()


PLAIN_DECIMAL = r"^[0-9]{1,8}(\.[0-9]{1,2})?$"  # max_digits=10, two decimals


@extend_schema_field(
    {
        "type": "string",
        "pattern": PLAIN_DECIMAL,
        "description": "Euros as plain digits, e.g. `4.99`.",
    }
)
class PlainDecimalField(serializers.DecimalField):
    """Euros as the schema says: plain digits with at most two decimals, as text. DRF's own
    DecimalField would also take `1e3`, `1_000` or a JSON number."""

    def to_internal_value(self, data):
        if not isinstance(data, str) or not re.fullmatch(PLAIN_DECIMAL, data):
            self.fail("invalid")
        return super().to_internal_value(data)


class BasketLineSerializer(StrictInputMixin, serializers.Serializer):
    product = serializers.CharField(
        max_length=64, trim_whitespace=False, help_text="The till's product code."
    )
    category = serializers.CharField(
        max_length=64, required=False, default="", allow_blank=True, trim_whitespace=False
    )
    quantity = serializers.IntegerField(min_value=1, max_value=10_000, default=1)
    amount = PlainDecimalField(
        max_digits=10,
        decimal_places=2,
        min_value=Decimal("0"),
        required=False,
        default=Decimal("0"),
    )


def basket_lines(data) -> tuple[BasketLine, ...]:
    return tuple(
        BasketLine(
            product=line["product"],
            category=line["category"],
            quantity=line["quantity"],
            amount=line["amount"],
        )
        for line in data
    )


def basket_field():
    return BasketLineSerializer(
        many=True,
        required=False,
        default=list,
        max_length=500,
        help_text="The basket's lines, for campaigns on products or categories.",
    )


class LedgerEntryOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    points = serializers.IntegerField()
    balance_after = serializers.IntegerField()
    purchase_amount = serializers.DecimalField(max_digits=10, decimal_places=2, allow_null=True)
    store = serializers.CharField(source="store.code")
    reward = serializers.CharField(source="reward.name", allow_null=True, default=None)
    reference = serializers.CharField()
    detail = ReasonSerializer(
        many=True, help_text="Why the points moved, part by part (purchase, campaign, tier...)."
    )
    created_at = serializers.DateTimeField()


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
        "detail": entry.detail,
        "created_at": _DATETIME.to_representation(entry.created_at),
    }


class LedgerLineOutputSerializer(serializers.Serializer):
    date = serializers.DateField()
    store = serializers.CharField()
    points = serializers.IntegerField()
    entry = LedgerEntryOutputSerializer(
        allow_null=True,
        help_text="In full for the stores the caller works for; null for other stores' lines.",
    )


def ledger_line_output(entry, *, access: StaffAccess) -> dict:
    """Return a ledger line as this caller may see it: other stores' lines as date, store and
    points only (rule 9: the least they need)."""
    return {
        "date": timezone.localdate(entry.created_at).isoformat(),
        "store": entry.store.code,
        "points": entry.points,
        "entry": ledger_entry_output(entry) if access.sees_store_in_full(entry.store_id) else None,
    }


@extend_schema_field(STORE_CODE_SCHEMA)
class StoreCodeField(serializers.CharField):
    def __init__(self, **kwargs):
        super().__init__(max_length=20, **kwargs)


@extend_schema_field(
    {
        "anyOf": [
            {"type": "string", "format": "member-number", "pattern": "^[0-9]{12}$"},
            {"type": "string", "format": "email", "maxLength": 254},
            {"type": "string", "format": "phone", "maxLength": 32},
        ],
        "description": "A member number (12 digits, the last a check digit), an exact e-mail "
        "address or a phone number.",
    }
)
class LookupQueryField(serializers.CharField):
    pass


@extend_schema_field(
    {
        "type": "string",
        "pattern": NAME_SEARCH_PATTERN.format(minimum=2),
        "maxLength": 110,
        "description": "The whole surname: at least two letters, no digits.",
    }
)
class SearchSurnameField(serializers.CharField):
    pass


@extend_schema_field(
    {
        "type": "string",
        "pattern": NAME_SEARCH_PATTERN.format(minimum=1),
        "maxLength": 95,
        "description": "The first letters of the given name, no digits.",
    }
)
class SearchGivenNameStartField(serializers.CharField):
    pass


@extend_schema_field({"type": "string", "format": "email", "maxLength": 254})
class ContactEmailField(serializers.CharField):
    pass


@extend_schema_field(
    {
        "type": "string",
        "format": "phone",
        "maxLength": 32,
        "description": "A phone number that can be dialled; Belgian unless it starts with +.",
    }
)
class ContactPhoneField(serializers.CharField):
    pass


def _amount_pattern(maximum: int) -> str:
    """Return the pattern of amounts in euros above 0 and up to `maximum`, at most cents."""
    digits = len(str(maximum))
    below = rf"0[.,](?:0[1-9]|[1-9][0-9]?)|[1-9][0-9]{{0,{digits - 2}}}(?:[.,][0-9]{{1,2}})?"
    if maximum != 10 ** (digits - 1):
        # Not a power of ten: the pattern takes every amount of as many digits; the service
        # refuses those above the maximum (invalid_amount).
        below += rf"|[1-9][0-9]{{{digits - 1}}}(?:[.,][0-9]{{1,2}})?"
    return rf"^(?:{below}|{maximum}(?:[.,]00?)?)$"


@extend_schema_field(
    {
        "type": "string",
        "pattern": _amount_pattern(settings.LOYALTY_MAX_PURCHASE_AMOUNT),
        "maxLength": 25,
        "description": f"Euros, above 0 and at most {settings.LOYALTY_MAX_PURCHASE_AMOUNT}, "
        "in cents at most: 12.34 or 12,34.",
    }
)
class AmountField(serializers.CharField):
    """A purchase amount in euros as text (points_earn checks and parses it)."""


class MemberLookupApi(CounterApi):
    """Find members by what the customer presents (a POST, so none of it lands in URLs).

    By member number or QR, exact e-mail or phone (`query`); or, as a fallback, the whole
    surname and the first letters of the given name (at most five answers). Each member found
    comes with a reference for this visit's other calls, and the read is recorded.
    """

    throttle_classes = [MemberFindThrottle]
    throttle_scope = "member_find"

    class InputSerializer(StrictInputMixin, serializers.Serializer):
        store = StoreCodeField()
        query = LookupQueryField(max_length=254, required=False)
        surname = SearchSurnameField(max_length=110, required=False)
        given_name_start = SearchGivenNameStartField(max_length=95, required=False)

        schema_rules = {
            "oneOf": [
                {
                    "required": ["query"],
                    "not": {
                        "anyOf": [{"required": ["surname"]}, {"required": ["given_name_start"]}]
                    },
                },
                {"required": ["surname", "given_name_start"], "not": {"required": ["query"]}},
            ]
        }

        def validate(self, attrs):
            by_name = "surname" in attrs or "given_name_start" in attrs
            if by_name == ("query" in attrs):
                raise serializers.ValidationError(
                    _("Give either a query, or a surname with the first letters of the given name.")
                )
            return attrs

    class OutputSerializer(serializers.Serializer):
        results = MemberOutputSerializer(many=True, help_text="At most five by name search.")

    @extend_schema(
        request=InputSerializer,
        responses={200: OutputSerializer, **REFERENCE_ERRORS},
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        store = self.counter_store(fields["store"], Action.MEMBER_FIND)
        if "query" in fields:
            found = services.member_lookup_recorded(
                query=fields["query"], staff=request.user, store=store
            )
        else:
            found = selectors.members_by_name_narrow(
                surname=fields.get("surname", ""),
                given_name_start=fields.get("given_name_start", ""),
            )
            services.member_reads_record(
                members=found.members,
                staff=request.user,
                store=store,
                found_by=found.found_by,
                kind=ReadKind.LOOKUP,
            )
        refs = services.member_references_issue(
            members=found.members, staff=request.user, store=store, found_by=found.found_by
        )
        return Response({"results": [member_output(m, refs[m.pk]) for m in found.members]})


class MemberEnrollApi(CounterApi):
    """Join by form: given name, surname, e-mail and phone, nothing else."""

    class InputSerializer(StrictInputMixin, serializers.Serializer):
        store = StoreCodeField()
        given_name = serializers.CharField(max_length=100)
        surname = serializers.CharField(max_length=100)
        email = ContactEmailField(max_length=254)
        phone = ContactPhoneField(max_length=32)

    @extend_schema(request=InputSerializer, responses={201: MemberOutputSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        store = self.counter_store(fields.pop("store"), Action.MEMBER_ENROLL)
        member = services.member_enroll_by_form(store=store, **fields)
        ref = services.member_references_issue(
            members=[member], staff=request.user, store=store, found_by="enrolment"
        )[member.pk]
        return Response(member_output(member, ref), status=status.HTTP_201_CREATED)


class StoreQueryParam(serializers.Serializer):
    store = StoreCodeField()


STORE_PARAM = OpenApiParameter(
    "store",
    STORE_CODE_SCHEMA,
    OpenApiParameter.QUERY,
    required=True,
    description="The counter's store code.",
)


class MemberDetailApi(CounterApi):
    """Show the member the reference designates: balance, rewards within reach. Recorded."""

    throttle_classes = [MemberReadThrottle]
    throttle_scope = "member_read"

    @extend_schema(
        parameters=[MEMBER_REF, STORE_PARAM],
        responses={200: MemberDetailOutputSerializer, **REFERENCE_ERRORS},
    )
    def get(self, request, member_ref: str):
        query = StoreQueryParam(data=request.query_params)
        query.is_valid(raise_exception=True)
        store = self.counter_store(query.validated_data["store"], require_active=False)
        member = services.member_read_by_reference(
            access=self.access, store=store, reference=member_ref, kind=ReadKind.PROFILE
        )
        body = member_output(member, member_ref)
        body["rewards_within_reach"] = RewardOutputSerializer(
            selectors.rewards_within_reach(store=store, balance=member.points_balance), many=True
        ).data
        return Response(body)


LEDGER_PAGE_PARAMS = [
    OpenApiParameter(
        "limit",
        {"type": "integer", "minimum": 0, "maximum": LimitOffsetPagination.max_limit},
        description="Lines per page (default 50; 0 means the default).",
    ),
    OpenApiParameter(
        "offset",
        {"type": "integer", "minimum": 0, "maximum": LimitOffsetPagination.MAX_OFFSET},
    ),
]


class MemberLedgerApi(CounterApi):
    """List the member's ledger, newest first: own stores' lines in full. Recorded."""

    throttle_classes = [MemberReadThrottle]
    throttle_scope = "member_read"

    class OutputSerializer(serializers.Serializer):
        count = serializers.IntegerField()
        next = serializers.URLField(allow_null=True)
        previous = serializers.URLField(allow_null=True)
        results = LedgerLineOutputSerializer(many=True)

    @extend_schema(
        parameters=[MEMBER_REF, STORE_PARAM, *LEDGER_PAGE_PARAMS],
        responses={200: OutputSerializer, **REFERENCE_ERRORS},
    )
    def get(self, request, member_ref: str):
        query = StoreQueryParam(data=request.query_params)
        query.is_valid(raise_exception=True)
        store = self.counter_store(query.validated_data["store"], require_active=False)
        member = services.member_read_by_reference(
            access=self.access, store=store, reference=member_ref, kind=ReadKind.LEDGER
        )
        paginator = LimitOffsetPagination()
        page = paginator.paginate_queryset(selectors.member_ledger(member=member), request, self)
        lines = [ledger_line_output(entry, access=self.access) for entry in page]
        return paginator.get_paginated_response(lines)


class CouponOutputSerializer(serializers.Serializer):
    code = serializers.CharField()
    value = serializers.DecimalField(max_digits=8, decimal_places=2, allow_null=True)
    product = serializers.CharField()
    expires_at = serializers.DateTimeField()


def coupon_output(coupon) -> dict:
    return {
        "code": coupon.code,
        "value": None if coupon.value is None else _DECIMAL_2.to_representation(coupon.value),
        "product": coupon.product,
        "expires_at": _DATETIME.to_representation(coupon.expires_at),
    }


class PointsOutputSerializer(serializers.Serializer):
    entry = LedgerEntryOutputSerializer(source="*")
    points_balance = serializers.IntegerField(source="balance_after")
    coupons = CouponOutputSerializer(many=True, help_text="Coupons this purchase issued.")


def points_output(entry) -> dict:
    coupons = getattr(entry, "coupons_issued", ())
    return {
        "entry": ledger_entry_output(entry),
        "points_balance": entry.balance_after,
        "coupons": [coupon_output(c) for c in coupons],
    }


class PointsEarnApi(CounterApi):
    """Record a purchase: the member earns the store's points for it."""

    class InputSerializer(StrictInputMixin, serializers.Serializer):
        store = StoreCodeField()
        # Text, not DRF's DecimalField: that takes "1e3" and "1_000"; the service refuses
        # anything but plain digits (code amount_not_plain).
        amount = AmountField(
            max_length=25, help_text="Euros as plain digits: 12.34 or 12,34 (no 1e3, no 1_000)."
        )
        reference = serializers.CharField(
            max_length=64,
            required=False,
            default="",
            allow_blank=True,
            help_text="The sale's reference at the till: a return names it.",
        )
        lines = basket_field()

    @extend_schema(
        request=InputSerializer,
        responses={201: PointsOutputSerializer, **REFERENCE_ERRORS},
        parameters=[MEMBER_REF, IDEMPOTENCY_HEADER],
    )
    def post(self, request, member_ref: str):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        store = self.counter_store(data.validated_data["store"], Action.POINTS_EARN)
        member, _reference = selectors.member_ref_only(
            access=self.access, store=store, reference=member_ref, action=Action.POINTS_EARN
        )
        entry = services.points_earn(
            at=timezone.now(),
            member=member,
            store=store,
            staff=request.user,
            amount=data.validated_data["amount"],
            reference=data.validated_data["reference"],
            idempotency_key=request.headers.get("Idempotency-Key"),
            lines=basket_lines(data.validated_data["lines"]),
        )
        return Response(points_output(entry), status=status.HTTP_201_CREATED)


class PointsRedeemApi(CounterApi):
    """Redeem a reward, or a number of points (part of the balance)."""

    class InputSerializer(StrictInputMixin, serializers.Serializer):
        store = StoreCodeField()
        reward = serializers.IntegerField(required=False, min_value=1, max_value=2**31 - 1)
        points = serializers.IntegerField(required=False, min_value=1, max_value=10_000_000)
        reference = serializers.CharField(
            max_length=64, required=False, default="", allow_blank=True
        )

        schema_rules = {
            "oneOf": [
                {"required": ["reward"], "not": {"required": ["points"]}},
                {"required": ["points"], "not": {"required": ["reward"]}},
            ]
        }

        def validate(self, attrs):
            if ("reward" in attrs) == ("points" in attrs):
                raise serializers.ValidationError(_("Give either a reward or a number of points."))
            return attrs

    @extend_schema(
        request=InputSerializer,
        responses={201: PointsOutputSerializer, **REFERENCE_ERRORS},
        parameters=[MEMBER_REF, IDEMPOTENCY_HEADER],
    )
    def post(self, request, member_ref: str):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        store = self.counter_store(data.validated_data["store"], Action.POINTS_REDEEM)
        member, _reference = selectors.member_ref_only(
            access=self.access, store=store, reference=member_ref, action=Action.POINTS_REDEEM
        )
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
        return Response(points_output(entry), status=status.HTTP_201_CREATED)


class RewardListApi(CounterApi):
    """List the rewards a store offers now."""

    @extend_schema(responses={200: RewardOutputSerializer(many=True)})
    def get(self, request, store_code: str):
        store = self.counter_store(store_code, require_active=False)
        return Response(
            RewardOutputSerializer(selectors.rewards_offered(store=store), many=True).data
        )
