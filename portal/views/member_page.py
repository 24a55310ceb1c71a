"""A member's page and what the cashier does there: earn, redeem, withdraw, export, erase."""

from __future__ import annotations

import segno
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.errors import ApplicationError
from loyalty import services
from loyalty.models import Member
from loyalty.privacy import member_subject_key
from loyalty.purposes import Purpose
from loyalty.selectors import reward_get, rewards_offered
from portal import selectors
from portal.errors import error_message
from portal.forms import EarnForm, ExportForm, RedeemPointsForm, RedeemRewardForm
from portal.services import member_page_view_record
from portal.views.common import counter_view, store_context
from privacy import selectors as privacy_selectors
from privacy import services as privacy_services
from privacy.downloads import export_response
from privacy.models import Channel, TicketKind, TicketSource
from privacy.registry import registry
from stores.models import Store


def _member_page(
    request: HttpRequest, store: Store, member: Member, *, status: int = 200, **forms
) -> HttpResponse:
    subject_key = member_subject_key(member)
    consent = privacy_selectors.consent_state(subject_key=subject_key)
    rewards = list(rewards_offered(store=store))
    context = store_context(
        store,
        member=member,
        has_eid_card=hasattr(member, "eid_card"),
        ledger=selectors.member_ledger_recent(member=member),
        rewards=rewards,
        consent=[(registry.purpose_label(p), record) for p, record in consent.items()],
        eid_consent=consent.get(Purpose.EID_RECOGNITION),
        earn_form=forms.get("earn_form") or EarnForm(),
        points_form=forms.get("points_form") or RedeemPointsForm(),
        reward_key=RedeemRewardForm().fields["key"].initial(),
        export_form=ExportForm(),
        error=forms.get("error", ""),
        erasure_open=privacy_selectors.ticket_open_find(
            kind=TicketKind.ERASURE, subject_key=subject_key
        ),
    )
    return render(request, "portal/member.html", context, status=status)


def _member_loaded(store: Store, member_id: int) -> Member:
    return selectors.member_for_counter_page(store=store, member_id=member_id)


@counter_view
@require_GET
def member(request: HttpRequest, store: Store, member_id: int) -> HttpResponse:
    """Show a member: balance, ledger, purchase, redeem, consent. Every opening is recorded."""
    found = _member_loaded(store, member_id)
    member_page_view_record(member=found, staff=request.user, store=store)
    return _member_page(request, store, found)


def _after_write(request: HttpRequest, store: Store, member: Member, text: str) -> HttpResponse:
    messages.success(request, text)
    return redirect("portal:member", store_code=store.code, member_id=member.pk)


@counter_view
@require_POST
def member_earn(request: HttpRequest, store: Store, member_id: int) -> HttpResponse:
    """Record a purchase; the points it earned show at once."""
    found = _member_loaded(store, member_id)
    form = EarnForm(request.POST)
    if form.is_valid():
        try:
            entry = services.points_earn(
                member=found,
                store=store,
                staff=request.user,
                amount=form.cleaned_data["amount"],
                reference=form.cleaned_data["reference"],
                idempotency_key=form.cleaned_data["key"],
            )
        except ApplicationError as exc:
            form.add_error("amount", error_message(exc))
        else:
            return _after_write(
                request,
                store,
                found,
                _("+%(points)s points for EUR %(amount)s. New balance: %(balance)s points.")
                % {
                    "points": entry.points,
                    "amount": entry.purchase_amount,
                    "balance": entry.balance_after,
                },
            )
    return _member_page(request, store, found, status=400, earn_form=form)


@counter_view
@require_POST
def member_redeem(request: HttpRequest, store: Store, member_id: int) -> HttpResponse:
    """Redeem a reward, or part of the balance in points."""
    found = _member_loaded(store, member_id)
    if "reward" in request.POST:
        form = RedeemRewardForm(request.POST)
        points_form = None
    else:
        form = points_form = RedeemPointsForm(request.POST)
    if not form.is_valid():
        return _member_page(
            request,
            store,
            found,
            status=400,
            points_form=points_form,
            error="" if points_form else _("Choose a reward."),
        )
    try:
        reward = None
        if "reward" in form.cleaned_data:
            reward = reward_get(form.cleaned_data["reward"])
        entry = services.points_redeem(
            member=found,
            store=store,
            staff=request.user,
            reward=reward,
            points=form.cleaned_data.get("points"),
            idempotency_key=form.cleaned_data["key"],
        )
    except ApplicationError as exc:
        if points_form is not None:
            points_form.add_error("points", error_message(exc))
        return _member_page(
            request,
            store,
            found,
            status=400,
            points_form=points_form,
            error="" if points_form else error_message(exc),
        )
    what = reward.name if reward else _("%(points)s points") % {"points": -entry.points}
    return _after_write(
        request,
        store,
        found,
        _("Redeemed: %(what)s. New balance: %(balance)s points.")
        % {"what": what, "balance": entry.balance_after},
    )


@counter_view
@require_POST
def member_eid_withdraw(request: HttpRequest, store: Store, member_id: int) -> HttpResponse:
    """Withdraw eID consent in one action: the card link goes; number and points stay."""
    found = _member_loaded(store, member_id)
    try:
        privacy_services.consent_withdraw(
            subject_key=member_subject_key(found),
            purpose=Purpose.EID_RECOGNITION,
            channel=Channel.STAFF_PORTAL,
            language=found.home_store.language,
            store=store,
            staff=request.user,
        )
    except ApplicationError as exc:
        return _member_page(request, store, found, status=400, error=error_message(exc))
    return _after_write(
        request,
        store,
        found,
        _("eID consent withdrawn. The card is no longer linked; the member keeps their points."),
    )


@counter_view
@require_POST
def member_export(request: HttpRequest, store: Store, member_id: int) -> HttpResponse:
    """Hand the member their data: a JSON file, or a zip of CSV files."""
    found = _member_loaded(store, member_id)
    form = ExportForm(request.POST)
    if not form.is_valid():
        return _member_page(request, store, found, status=400, error=_("Choose JSON or CSV."))
    try:
        ticket, export = privacy_services.access_export_at_counter(
            subject_key=member_subject_key(found), store=store, staff=request.user
        )
    except ApplicationError as exc:
        return _member_page(request, store, found, status=400, error=error_message(exc))
    return export_response(ticket=ticket, export=export, fmt=form.cleaned_data["format"])


@counter_view
@require_http_methods(["GET", "POST"])
def member_erasure(request: HttpRequest, store: Store, member_id: int) -> HttpResponse:
    """Open an erasure request for the customer standing at the counter (verified in person)."""
    found = _member_loaded(store, member_id)
    if request.method == "GET":
        return render(request, "portal/erasure_confirm.html", store_context(store, member=found))
    try:
        ticket = privacy_services.ticket_open_for_subject(
            kind=TicketKind.ERASURE,
            subject_key=member_subject_key(found),
            source=TicketSource.COUNTER,
            store=store,
            by=request.user,
        )
    except ApplicationError as exc:
        return _member_page(request, store, found, status=400, error=error_message(exc))
    messages.success(
        request,
        _("Erasure request %(ticket)s recorded. The data will be erased by %(due)s at the latest.")
        % {"ticket": ticket.pk, "due": ticket.due_on.strftime("%d/%m/%Y")},
    )
    return redirect("portal:counter", store_code=store.code)


@counter_view
@require_GET
def member_card(request: HttpRequest, store: Store, member_id: int) -> HttpResponse:
    """A printable member card: the member number as a QR code and in digits."""
    found = _member_loaded(store, member_id)
    qr = segno.make(found.number, error="m", micro=False)
    return render(
        request,
        "portal/member_card.html",
        store_context(
            store, member=found, qr_svg=qr.svg_inline(border=2, dark="#1d2430", omitsize=True)
        ),
    )
