"""The member card in the phone: the member's own page (a sealed link) and the counter's links.

A member reaches their pass only by the link sealed for them (sent with the consent receipt,
or shown at the counter as a QR code for their phone); staff at the counter by the member
reference of the visit. Without the chain's wallet settings there is nothing here (404).
"""

from __future__ import annotations

import json
import logging

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import http_date, parse_http_date_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.api import error_body
from core.qr import qr_svg
from loyalty import services
from loyalty.models import Member, ReadKind
from loyalty.wallet import (
    PassUnauthorized,
    WalletLinkInvalid,
    apple_pass_build,
    google_save_url,
    pass_find,
    pass_register,
    pass_unregister,
    pass_updated_at,
    passes_updated,
    wallet_link_issue,
    wallet_link_read,
    wallet_offer,
)
from portal.views.common import counter_view
from privacy.mail import site_url
from stores.access import staff_access_for_request
from stores.models import Store

PKPASS = "application/vnd.apple.pkpass"
logger = logging.getLogger(__name__)


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


# Apple's pass web service: the phone's own calls, authenticated by the pass's token.
def _web_service_on() -> None:
    if not wallet_offer().apple:
        raise Http404


def _pass_called(request: HttpRequest, pass_type: str, serial: str):
    return pass_find(
        pass_type=pass_type, serial=serial, authorization=request.headers.get("Authorization", "")
    )


@csrf_exempt  # the phone's calls carry the pass's token, not a CSRF token
@require_http_methods(["POST", "DELETE"])
def passkit_registration(
    request: HttpRequest, device: str, pass_type: str, serial: str
) -> HttpResponse:
    """Register a phone for a pass's updates (201 new, 200 known), or unregister it."""
    _web_service_on()
    try:
        found = _pass_called(request, pass_type, serial)
    except PassUnauthorized:
        return HttpResponse(status=401)
    if request.method == "DELETE":
        pass_unregister(wallet_pass=found, device=device[:128])
        return HttpResponse(status=200)
    try:
        push_token = json.loads(request.body)["pushToken"]
    except (ValueError, KeyError, TypeError):
        push_token = None
    if not isinstance(push_token, str) or not 0 < len(push_token) <= 256 or len(device) > 128:
        body = error_body("invalid_input", _("A registration needs a push token."))
        return JsonResponse(body, status=400)
    created = pass_register(wallet_pass=found, device=device, push_token=push_token)
    return HttpResponse(status=201 if created else 200)


@require_GET
def passkit_serials(request: HttpRequest, device: str, pass_type: str) -> HttpResponse:
    """The serials of the phone's passes changed since its last ask (204: none)."""
    _web_service_on()
    serials, newest = passes_updated(
        device=device, pass_type=pass_type, since=request.GET.get("passesUpdatedSince", "")
    )
    if not serials:
        return HttpResponse(status=204)
    return JsonResponse({"serialNumbers": serials, "lastUpdated": str(newest)})


@require_GET
def passkit_pass(request: HttpRequest, pass_type: str, serial: str) -> HttpResponse:
    """The pass as it is now (304 when unchanged since If-Modified-Since)."""
    _web_service_on()
    try:
        found = _pass_called(request, pass_type, serial)
    except PassUnauthorized:
        return HttpResponse(status=401)
    updated = pass_updated_at(found.member)
    since = parse_http_date_safe(request.headers.get("If-Modified-Since", ""))
    if since is not None and updated <= since:
        return HttpResponse(status=304)
    response = HttpResponse(apple_pass_build(found.member), content_type=PKPASS)
    response["Last-Modified"] = http_date(updated)
    return response


@csrf_exempt
@require_POST
def passkit_log(request: HttpRequest) -> HttpResponse:
    """The phones' error logs: counted, not kept (they may name a pass)."""
    _web_service_on()
    try:
        logs = json.loads(request.body).get("logs", [])
    except (ValueError, AttributeError):
        logs = []
    logger.info(
        "wallet web service: %d log line(s) from a phone",
        len(logs) if isinstance(logs, list) else 0,
    )
    return HttpResponse(status=200)
