"""Coupons: issued by campaigns or in bulk by head office, redeemed once at a counter."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import CouponNotFound, CouponUnavailable, InvalidInput
from loyalty.models import Coupon, Member
from loyalty.services import webhooks
from loyalty.services.effects import CODE_LENGTH, coupon_code_generate
from stores.models import Store

BULK_MAX = 10_000


def coupon_code_clean(code: str) -> str:
    """Return the code as stored (upper case, spaces and dashes dropped), or raise."""
    cleaned = "".join(str(code or "").split()).replace("-", "").upper()
    if len(cleaned) != CODE_LENGTH or not cleaned.isascii() or not cleaned.isalnum():
        raise CouponNotFound()
    return cleaned


@transaction.atomic
def coupon_redeem(
    *,
    code: str,
    store: Store,
    staff: AbstractBaseUser | None,
    member: Member | None = None,
    at: datetime | None = None,
) -> Coupon:
    """Redeem a coupon by its code; a code redeemed twice at once is redeemed once.

    One conditional UPDATE decides: only the call that finds it unredeemed and unexpired
    changes the row. With `member`, a coupon issued to someone else is refused.
    """
    at = at or timezone.now()
    coupon = Coupon.objects.filter(code=coupon_code_clean(code)).first()
    if coupon is None:
        raise CouponNotFound()
    if member is not None and coupon.member_id not in (None, member.pk):
        raise CouponUnavailable()
    won = Coupon.objects.filter(pk=coupon.pk, redeemed_at__isnull=True, expires_at__gt=at).update(
        redeemed_at=at,
        redeemed_store=store,
        redeemed_by=staff if staff is not None and staff.is_authenticated else None,
    )
    if won != 1:
        raise CouponUnavailable()
    coupon.refresh_from_db()
    webhooks.coupon_redeemed(coupon=coupon, store=store, at=at)
    return coupon


@transaction.atomic
def coupons_issue_bulk(
    *, count: int, value: Decimal | None, product: str, valid_days: int, at: datetime | None = None
) -> list[Coupon]:
    """Issue `count` coupons held by no member (head office hands the codes out)."""
    if not 1 <= count <= BULK_MAX:
        raise InvalidInput(
            details={"count": [_("Issue 1 to %(max)s coupons at a time.") % {"max": BULK_MAX}]}
        )
    if (value is None or value <= 0) and not product.strip():
        raise InvalidInput(details={"value": [_("Give a value or a free product.")]})
    if not 1 <= valid_days <= 3660:
        raise InvalidInput(details={"valid_days": [_("Valid for 1 to 3660 days.")]})
    at = at or timezone.now()
    for _attempt in range(3):
        coupons = [
            Coupon(
                code=coupon_code_generate(),
                value=value if value and value > 0 else None,
                product=product.strip()[:64],
                issued_at=at,
                expires_at=at + timedelta(days=valid_days),
            )
            for _ in range(count)
        ]
        try:
            with transaction.atomic():
                Coupon.objects.bulk_create(coupons, batch_size=1000)
        except IntegrityError:
            continue  # a code collided (about 59 bits each): draw them again
        webhooks.coupons_issued(coupons=coupons, member=None, at=at)
        return coupons
    raise IntegrityError("Could not draw unique coupon codes.")
