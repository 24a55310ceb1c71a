"""The member card in the phone: the member's own page (a sealed link) and the counter's links.

A member reaches their pass only by the link sealed for them (sent with the consent receipt,
or shown at the counter as a QR code for their phone); staff at the counter by the member
reference of the visit. Without the chain's wallet settings there is nothing here (404).
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.views.decorators.http import require_GET

from core.qr import qr_svg
from loyalty import services
from loyalty.models import Member, ReadKind
from loyalty.wallet import (
    WalletLinkInvalid,
    apple_pass_build,
    google_save_url,
    wallet_link_issue,
    wallet_link_read,
    wallet_offer,
)
from portal.views.common import counter_view
from privacy.mail import site_url
from stores.access import staff_access_for_request
from stores.models import Store

PKPASS = "application/vnd.apple.pkpass"


def _pkpass(member: Member) -> HttpResponse:
    if not wallet_offer().apple:
        raise Http404
    response = HttpResponse(apple_pass_build(member), content_type=PKPASS)
    response["Content-Disposition"] = 'attachment; filename="loyalty.pkpass"'
    return response


def _google(request: HttpRequest, member: Member) -> HttpResponse:
    if not wallet_offer().google:
        raise Http404
    origin = f"{request.scheme}://{request.get_host()}"
    return redirect(google_save_url(member, origin=origin))


def _member_by_link(token: str) -> Member:
    try:
        member_id = wallet_link_read(token)
    except WalletLinkInvalid:
        raise Http404 from None
    member = Member.objects.filter(pk=member_id).first()
    if member is None:
        raise Http404
    return member


@require_GET
def member_wallet(request: HttpRequest, token: str) -> HttpResponse:
    """The member's own page: add the card to Apple Wallet or Google Wallet."""
    member = _member_by_link(token)
    offer = wallet_offer()
    if not offer.any:
        raise Http404
    return render(
        request,
        "wallet/member_wallet.html",
        {"offer": offer, "token": token, "number": member.number, "url_name": None},
    )


@require_GET
def member_wallet_apple(request: HttpRequest, token: str) -> HttpResponse:
    return _pkpass(_member_by_link(token))


@require_GET
def member_wallet_google(request: HttpRequest, token: str) -> HttpResponse:
    return _google(request, _member_by_link(token))


def _counter_member(request: HttpRequest, store: Store, member_ref: str) -> Member:
    return services.member_read_by_reference(
        access=staff_access_for_request(request),
        store=store,
        reference=member_ref,
        kind=ReadKind.PROFILE,
    )


@counter_view
@require_GET
def counter_wallet_apple(request: HttpRequest, store: Store, member_ref: str) -> HttpResponse:
    """The member's pass, fetched at the counter by the visit's member reference."""
    return _pkpass(_counter_member(request, store, member_ref))


@counter_view
@require_GET
def counter_wallet_google(request: HttpRequest, store: Store, member_ref: str) -> HttpResponse:
    return _google(request, _counter_member(request, store, member_ref))


def wallet_qr_for_counter(member: Member) -> str:
    """Return an inline SVG QR code of the member's own wallet page, for their phone."""
    return qr_svg(
        site_url("member-wallet", language=get_language(), token=wallet_link_issue(member))
    )
