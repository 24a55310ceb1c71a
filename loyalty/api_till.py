"""What a till asks besides earn and redeem: a quote before payment, coupons at the counter.

Thin, as `loyalty.api`: parse, call one service, render. Access is `stores.access`'s.
"""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from core.api import StrictInputMixin, error_responses
from loyalty import selectors, services
from loyalty.api import (
    IDEMPOTENCY_HEADER,
    MEMBER_REF,
    AmountField,
    CounterApi,
    CouponOutputSerializer,
    PointsOutputSerializer,
    ReasonSerializer,
    StoreCodeField,
    basket_field,
    basket_lines,
    coupon_output,
    points_output,
)
from stores.access import Action

TOKEN_REFUSED = ["not_authenticated", "authentication_failed", "token_expired"]


class QuoteCouponSerializer(serializers.Serializer):
    campaign = serializers.CharField()
    value = serializers.DecimalField(max_digits=8, decimal_places=2, allow_null=True)
    product = serializers.CharField()
    valid_days = serializers.IntegerField()


class QuoteOutputSerializer(serializers.Serializer):
    points = serializers.IntegerField(help_text="What the earn would credit now.")
    detail = ReasonSerializer(many=True)
    coupons = QuoteCouponSerializer(many=True, help_text="Coupons the earn would issue.")


class PointsQuoteApi(CounterApi):
    """Say what a basket would earn the member (campaigns and tier included), writing nothing.

    The commit is the earn (`.../earn/`) with its Idempotency-Key. Campaigns with a cap may be
    used up between the quote and the earn: the earn's answer is what counts.
    """

    class InputSerializer(StrictInputMixin, serializers.Serializer):
        store = StoreCodeField()
        amount = AmountField(max_length=25, help_text="Euros as plain digits: 12.34 or 12,34.")
        lines = basket_field()

    @extend_schema(
        request=InputSerializer,
        parameters=[MEMBER_REF],
        responses={
            200: QuoteOutputSerializer,
            **error_responses(
                {
                    400: [
                        "invalid_input",
                        "invalid_amount",
                        "points_out_of_range",
                        "member_reference_invalid",
                        "member_reference_expired",
                    ],
                    401: TOKEN_REFUSED,
                    403: ["store_forbidden"],
                    404: ["member_not_found", "store_not_found"],
                    409: ["member_inactive", "store_inactive"],
                }
            ),
        },
    )
    def post(self, request, member_ref: str):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        store = self.counter_store(data.validated_data["store"], Action.POINTS_EARN)
        member, _ = selectors.member_ref_only(
            access=self.access, store=store, reference=member_ref, action=Action.POINTS_EARN
        )
        outcome = services.points_quote(
            member=member,
            store=store,
            amount=data.validated_data["amount"],
            lines=basket_lines(data.validated_data["lines"]),
            at=timezone.now(),
        )
        return Response(
            {
                "points": outcome.points,
                "detail": list(outcome.parts),
                "coupons": [
                    {
                        "campaign": g.campaign,
                        "value": None if g.value is None else f"{g.value:.2f}",
                        "product": g.product,
                        "valid_days": g.valid_days,
                    }
                    for g in outcome.coupons
                ],
            }
        )


class CouponRedeemApi(CounterApi):
    """Redeem a coupon by its code at the counter: once, however many tills try at once."""

    class InputSerializer(StrictInputMixin, serializers.Serializer):
        store = StoreCodeField()
        code = serializers.CharField(max_length=32)
        member = serializers.CharField(
            max_length=200,
            required=False,
            help_text="The member reference, if the customer presented their membership.",
        )

    @extend_schema(
        request=InputSerializer,
        responses={
            201: CouponOutputSerializer,
            **error_responses(
                {
                    400: ["invalid_input", "member_reference_invalid", "member_reference_expired"],
                    401: TOKEN_REFUSED,
                    403: ["store_forbidden"],
                    404: ["coupon_not_found", "store_not_found"],
                    409: ["coupon_unavailable", "store_inactive"],
                }
            ),
        },
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        store = self.counter_store(data.validated_data["store"], Action.POINTS_REDEEM)
        member = None
        if "member" in data.validated_data:
            member, _ = selectors.member_ref_only(
                access=self.access,
                store=store,
                reference=data.validated_data["member"],
                action=Action.POINTS_REDEEM,
            )
        coupon = services.coupon_redeem(
            code=data.validated_data["code"], store=store, staff=request.user, member=member
        )
        return Response(coupon_output(coupon), status=status.HTTP_201_CREATED)


class PointsReturnInputSerializer(StrictInputMixin, serializers.Serializer):
    store = StoreCodeField()
    sale_reference = serializers.CharField(
        max_length=64, help_text="The reference the sale's earn was sent with."
    )
    amount = AmountField(max_length=25, help_text="The amount returned (part of the sale).")


class PointsReturnApi(CounterApi):
    """Take back the points of a returned purchase, in proportion to the amount returned.

    Partial returns add up to the whole sale at most. The balance never goes negative: what it
    cannot cover is taken from the member's next points (the entry's detail says so).
    """

    @extend_schema(
        request=PointsReturnInputSerializer,
        parameters=[MEMBER_REF, IDEMPOTENCY_HEADER],
        responses={
            201: PointsOutputSerializer,
            **error_responses(
                {
                    400: [
                        "invalid_input",
                        "invalid_amount",
                        "member_reference_invalid",
                        "member_reference_expired",
                    ],
                    401: TOKEN_REFUSED,
                    403: ["store_forbidden"],
                    404: ["member_not_found", "sale_not_found", "store_not_found"],
                    409: [
                        "return_too_large",
                        "member_inactive",
                        "idempotency_key_reused",
                        "store_inactive",
                    ],
                }
            ),
        },
    )
    def post(self, request, member_ref: str):
        data = PointsReturnInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        store = self.counter_store(data.validated_data["store"], Action.POINTS_EARN)
        member, _ = selectors.member_ref_only(
            access=self.access, store=store, reference=member_ref, action=Action.POINTS_EARN
        )
        entry = services.points_return(
            member=member,
            store=store,
            staff=request.user,
            sale_reference=data.validated_data["sale_reference"],
            amount=data.validated_data["amount"],
            idempotency_key=request.headers.get("Idempotency-Key"),
        )
        return Response(points_output(entry), status=status.HTTP_201_CREATED)
