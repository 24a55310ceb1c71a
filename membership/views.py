"""The customers' pages: the chain's public home, and "my membership".

Thin: parse, call one service or selector, render. Who is signed in is `membership.access`'s
to say. The sign-in form answers the same page, in the same time, whoever typed what.
"""

from __future__ import annotations

import io
import zipfile

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_cache_control
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.errors import InvalidInput, LinkInvalid, RateLimited
from core.qr import qr_svg
from core.security import client_ip
from loyalty.privacy import member_subject_key
from loyalty.wallet import wallet_link_issue, wallet_offer
from membership import selectors, services
from membership.access import member_page, member_sign_in, member_sign_out, member_signed_in
from membership.forms import SignInForm
from privacy import services as privacy
from stores.selectors import chain_logo


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """The chain's home for customers: who we are, our notices, your membership, your rights."""
    context = {"notices": selectors.notices_public(language=get_language())}
    return render(request, "membership/home.html", context)


@require_GET
def logo(request: HttpRequest, version: str) -> HttpResponse:
    """The chain's logo; its URL changes with it, so it may be cached for long."""
    found = chain_logo()
    if found is None:
        raise Http404
    content, content_type = found
    response = HttpResponse(content, content_type=content_type)
    patch_cache_control(response, public=True, max_age=86400)
    return response


def _rate_limited(request: HttpRequest) -> HttpResponse:
    response = render(request, "privacy/rate_limited.html", status=429)
    response["Retry-After"] = str(settings.PRIVACY_RATE_LIMIT_WINDOW_SECONDS)
    return response


# Signing in -------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    """Ask for a sign-in link by e-mail."""
    if member_signed_in(request) is not None:
        return redirect("membership:me")
    form = SignInForm(request.POST or None)
    if request.method == "POST":
        if not form.is_valid():
            return render(request, "membership/sign_in.html", {"form": form}, status=400)
        try:
            # The look-up and the mail happen in a task, after this answer.
            services.sign_in_request(
                email=form.cleaned_data["email"],
                language=get_language(),
                client_ip=client_ip(request),
            )
        except RateLimited:
            return _rate_limited(request)
        except InvalidInput:
            return render(request, "membership/sign_in.html", {"form": form}, status=400)
        return redirect("membership:sign-in-sent")
    return render(request, "membership/sign_in.html", {"form": form})


@require_GET
def sign_in_sent(request: HttpRequest) -> HttpResponse:
    return render(
        request, "membership/sign_in_sent.html", {"minutes": settings.MEMBERSHIP_LINK_MINUTES}
    )


@require_http_methods(["GET", "POST"])
def link(request: HttpRequest, token: str) -> HttpResponse:
    """The link from the mail: a button (mail scanners follow links), the POST signs in."""
    try:
        if request.method == "GET":
            services.sign_in_link_check(token=token)
            return render(request, "membership/link.html")
        member = services.sign_in_confirm(token=token)
    except LinkInvalid:
        return render(request, "membership/link_invalid.html", status=400)
    member_sign_in(request, member)
    return redirect("membership:me")


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    member_sign_out(request)
    return redirect("customer-home")


# My membership ----------------------------------------------------------------------------


@member_page
@require_GET
def me(request: HttpRequest) -> HttpResponse:
    """The member's own page: balance, history, expiring points, rewards, card, choices."""
    member = request.member
    context = {
        **selectors.membership_overview(member=member),
        "member": member,
        "qr_svg": qr_svg(member.number),
    }
    offer = wallet_offer()
    if offer.any:
        context.update(wallet=offer, wallet_token=wallet_link_issue(member))
    return render(request, "membership/me.html", context)


@member_page
@require_POST
def eid_withdraw(request: HttpRequest) -> HttpResponse:
    services.eid_recognition_withdraw(member=request.member, language=get_language())
    messages.success(
        request,
        _(
            "Done: our shops no longer recognise you by your eID card. You keep your "
            "membership, your member number and your points."
        ),
    )
    return redirect("membership:me")


@member_page
@require_POST
def marketing(request: HttpRequest) -> HttpResponse:
    """Ask for offers by e-mail (a confirmation mail follows), or stop them at once."""
    if request.POST.get("action") == "give":
        services.marketing_opt_in_request(member=request.member, language=get_language())
        messages.success(
            request,
            _(
                "Almost done: we sent you an e-mail. Open the link in it to confirm that you "
                "want our offers."
            ),
        )
    else:
        services.marketing_withdraw(member=request.member, language=get_language())
        messages.success(request, _("Done: you will no longer receive offers by e-mail."))
    return redirect("membership:me")


def _export(request: HttpRequest) -> dict:
    return privacy.access_export_build(subject_key=member_subject_key(request.member))


@member_page
@require_GET
def data_json(request: HttpRequest) -> HttpResponse:
    """The member's data from every app, as one JSON file (Art. 15, 20)."""
    response = HttpResponse(
        privacy.access_export_json(_export(request)), content_type="application/json"
    )
    response["Content-Disposition"] = 'attachment; filename="my-data.json"'
    return response


@member_page
@require_GET
def data_csv(request: HttpRequest) -> HttpResponse:
    """The member's data as CSV files, one per kind, in a ZIP file."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in privacy.access_export_csv(_export(request)).items():
            # With a byte-order mark, so spreadsheet programs read the accents.
            archive.writestr(name, "\ufeff" + text)
    response = HttpResponse(buffer.getvalue(), content_type="application/zip")
    response["Content-Disposition"] = 'attachment; filename="my-data-csv.zip"'
    return response


@member_page
@require_http_methods(["GET", "POST"])
def erasure(request: HttpRequest) -> HttpResponse:
    """Ask for erasure: a confirmation page, then a verified request (the sign-in verified it)."""
    if request.method == "GET":
        return render(request, "membership/erasure.html", {"member": request.member})
    ticket = services.erasure_request(member=request.member, language=get_language())
    member_sign_out(request)
    return render(request, "membership/erasure_done.html", {"ticket": ticket})


# Offers by e-mail: the double opt-in link and the unsubscribe link (no sign-in needed) -----


@require_http_methods(["GET", "POST"])
def marketing_confirm(request: HttpRequest, token: str) -> HttpResponse:
    try:
        if request.method == "GET":
            services.marketing_opt_in_check(token=token)
            return render(request, "membership/marketing_confirm.html")
        services.marketing_opt_in_confirm(token=token)
    except LinkInvalid:
        return render(request, "membership/link_invalid.html", status=400)
    return render(request, "membership/marketing_confirmed.html")


@csrf_exempt  # RFC 8058: the mail client's one-click POST carries no CSRF token.
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """Stop offers by e-mail from the link in one: a button, or the mail client's one click."""
    try:
        member = services.unsubscribe_member(token=token)
    except LinkInvalid:
        return render(request, "membership/link_invalid.html", status=400)
    if request.method == "GET":
        return render(request, "membership/unsubscribe.html")
    services.marketing_withdraw(member=member, language=get_language())
    return render(request, "membership/unsubscribed.html")
