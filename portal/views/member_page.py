"""A member's page and what the cashier does there: earn, redeem, withdraw, export, erase."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.errors import ApplicationError
from core.qr import qr_svg
from loyalty import services
from loyalty.contact import email_masked, phone_masked
from loyalty.models import Member, ReadKind
from loyalty.privacy import member_subject_key
from loyalty.purposes import Purpose
from loyalty.selectors import (
    member_by_reference,
    member_card_presented,
    reward_get,
    rewards_offered,
)
from loyalty.wallet import wallet_offer
from portal import selectors
from portal.errors import error_message
from portal.forms import (
    ConfirmCodeForm,
    EarnForm,
    EmailAddForm,
    ExportForm,
    RedeemPointsForm,
    RedeemRewardForm,
    form_focus,
)
from portal.views.common import counter_view, store_context
from portal.views.wallet import wallet_qr_for_counter
from privacy import selectors as privacy_selectors
from privacy import services as privacy_services
from privacy.downloads import export_response
from privacy.models import Channel, TicketKind, TicketState, Verification
from privacy.registry import registry
from stores.access import staff_access_for_request
from stores.models import CustomerLanguage, Store


def _member_page(
    request: HttpRequest, store: Store, member: Member, *, status: int = 200, **forms
) -> HttpResponse:
    subject_key = member_subject_key(member)
    consent = privacy_selectors.consent_state(subject_key=subject_key)
    rewards = list(rewards_offered(store=store))
    access = staff_access_for_request(request)
    # The cashier's next keystrokes go to the purchase amount (the next purchase costs no Tab),
    # or to the points field the error is about.
    earn_form = forms.get("earn_form") or EarnForm()
    points_form = forms.get("points_form") or RedeemPointsForm()
    if points_form.errors:
        form_focus(points_form, "points")
    else:
        form_focus(earn_form, "amount")
    context = store_context(
        store,
        member=member,
        member_ref=request.member_ref,
        email_masked=email_masked(member.email),
        phone_masked=phone_masked(member.phone),
        has_eid_card=hasattr(member, "eid_card"),
        ledger=[
            (entry, access.sees_store_in_full(entry.store_id))
            for entry in selectors.member_ledger_recent(member=member)
        ],
        rewards=rewards,
        consent=[(registry.purpose_label(p), record) for p, record in consent.items()],
        eid_consent=consent.get(Purpose.EID_RECOGNITION),
        earn_form=earn_form,
        points_form=points_form,
        reward_key=RedeemRewardForm().fields["key"].initial(),
        export_form=ExportForm(),
        customer_languages=CustomerLanguage.choices,
        error=forms.get("error", ""),
        erasure_open=privacy_selectors.ticket_open_find(
            kind=TicketKind.ERASURE, subject_key=subject_key
        ),
    )
    offer = wallet_offer()
    if offer.any:
        # The customer scans this with their phone: their own page to add the card.
        context.update(wallet=offer, wallet_qr=wallet_qr_for_counter(member))
    return render(request, "portal/member.html", context, status=status)


def _member_loaded(request: HttpRequest, store: Store, member_ref: str):
    """Return the member this visit's reference designates, and the reference read."""
    member, ref = member_by_reference(
        access=staff_access_for_request(request), store=store, reference=member_ref
    )
    request.member_ref = member_ref  # the page's links carry it on
    return member, ref


@counter_view
@require_GET
def member(request: HttpRequest, store: Store, member_ref: str) -> HttpResponse:
    """Show a member: balance, ledger, purchase, redeem, consent. Every opening is recorded."""
    found = services.member_read_by_reference(
        access=staff_access_for_request(request),
        store=store,
        reference=member_ref,
        kind=ReadKind.PAGE,
    )
    request.member_ref = member_ref  # the page's links carry it on
    return _member_page(request, store, found)


def _after_write(request: HttpRequest, store: Store, member: Member, text: str) -> HttpResponse:
    messages.success(request, text)
    return redirect("portal:member", store_code=store.code, member_ref=request.member_ref)


@counter_view
@require_POST
def member_earn(request: HttpRequest, store: Store, member_ref: str) -> HttpResponse:
    """Record a purchase; the points it earned show at once."""
    found, _ref = _member_loaded(request, store, member_ref)
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
def member_redeem(request: HttpRequest, store: Store, member_ref: str) -> HttpResponse:
    """Redeem a reward, or part of the balance in points."""
    found, _ref = _member_loaded(request, store, member_ref)
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
def member_eid_withdraw(request: HttpRequest, store: Store, member_ref: str) -> HttpResponse:
    """Withdraw eID consent in one action: the card link goes; number and points stay."""
    found, _ref = _member_loaded(request, store, member_ref)
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
def member_email_add(request: HttpRequest, store: Store, member_ref: str) -> HttpResponse:
    """Add an e-mail address for a member who has none, with their consent (optional)."""
    found, _ref = _member_loaded(request, store, member_ref)
    form = EmailAddForm(request.POST)
    if not form.is_valid():
        return _member_page(
            request, store, found, status=400, error=_("Enter a valid e-mail address.")
        )
    try:
        services.member_email_add(
            member=found,
            email=form.cleaned_data["email"],
            store=store,
            staff=request.user,
            language=form.cleaned_data["language"],
        )
    except ApplicationError as exc:
        return _member_page(request, store, found, status=400, error=error_message(exc))
    return _after_write(
        request,
        store,
        found,
        _(
            "E-mail address added, with the customer's consent recorded: they can now use "
            "“my membership” online."
        ),
    )


def _waiting(request: HttpRequest, store: Store, member: Member, ticket, *, status=200):
    """The screen of a counter request that waits for the member: the code, or head office."""
    return render(
        request,
        "portal/request_waiting.html",
        store_context(
            store,
            member=member,
            member_ref=request.member_ref,
            ticket=ticket,
            email_masked=email_masked(member.email),
            form=ConfirmCodeForm(),
        ),
        status=status,
    )


@counter_view
@require_POST
def member_export(request: HttpRequest, store: Store, member_ref: str) -> HttpResponse:
    """Give the member their data: here, just after their card was scanned (JSON or a zip of
    CSV files); otherwise by e-mail, once they confirm with the code sent there."""
    found, ref = _member_loaded(request, store, member_ref)
    form = ExportForm(request.POST)
    if not form.is_valid():
        return _member_page(request, store, found, status=400, error=_("Choose JSON or CSV."))
    try:
        ticket = privacy_services.ticket_open_at_counter(
            kind=TicketKind.ACCESS,
            subject_key=member_subject_key(found),
            store=store,
            by=request.user,
            presented=member_card_presented(ref),
        )
        if ticket.verification == Verification.CREDENTIAL and ticket.state == TicketState.VERIFIED:
            ticket, export = privacy_services.access_export_at_counter(
                ticket=ticket, staff=request.user
            )
            return export_response(ticket=ticket, export=export, fmt=form.cleaned_data["format"])
    except ApplicationError as exc:
        return _member_page(request, store, found, status=400, error=error_message(exc))
    return _waiting(request, store, found, ticket)


@counter_view
@require_http_methods(["GET", "POST"])
def member_erasure(request: HttpRequest, store: Store, member_ref: str) -> HttpResponse:
    """Ask to erase the member's data; it runs once the member confirms it is them."""
    found, ref = _member_loaded(request, store, member_ref)
    if request.method == "GET":
        return render(
            request,
            "portal/erasure_confirm.html",
            store_context(store, member=found, member_ref=member_ref),
        )
    try:
        ticket = privacy_services.ticket_open_at_counter(
            kind=TicketKind.ERASURE,
            subject_key=member_subject_key(found),
            store=store,
            by=request.user,
            presented=member_card_presented(ref),
        )
    except ApplicationError as exc:
        return _member_page(request, store, found, status=400, error=error_message(exc))
    if ticket.state in (TicketState.RECEIVED, TicketState.AWAITING_VERIFICATION):
        return _waiting(request, store, found, ticket)
    return _erasure_done(request, store, ticket)


def _erasure_done(request: HttpRequest, store: Store, ticket) -> HttpResponse:
    ticket.refresh_from_db()
    if ticket.state == TicketState.COMPLETED:
        text = _("Erasure request %(ticket)s: the member's data has been erased.")
    elif ticket.state == TicketState.SCHEDULED:
        text = _("Erasure request %(ticket)s confirmed: the data is being erased now.")
    else:
        text = _(
            "Erasure request %(ticket)s confirmed. Head office approves it; the data will be "
            "erased by %(due)s at the latest."
        )
    messages.success(
        request,
        text % {"ticket": ticket.pk, "due": date_format(ticket.due_on, "SHORT_DATE_FORMAT")},
    )
    return redirect("portal:counter", store_code=store.code)


@counter_view
@require_POST
def member_request_confirm(request: HttpRequest, store: Store, member_ref: str) -> HttpResponse:
    """Confirm the member's erasure or export request with the code they received."""
    found, _ref = _member_loaded(request, store, member_ref)
    form = ConfirmCodeForm(request.POST)
    kind = request.POST.get("kind")
    ticket = None
    if kind in (TicketKind.ERASURE, TicketKind.ACCESS):
        ticket = privacy_selectors.ticket_open_find(
            kind=kind, subject_key=member_subject_key(found)
        )
    if ticket is None:
        return _member_page(request, store, found, status=400, error=_("No request to confirm."))
    if not form.is_valid():
        return _waiting(request, store, found, ticket, status=400)
    try:
        ticket = privacy_services.ticket_code_confirm(
            ticket=ticket, code=form.cleaned_data["code"], by=request.user
        )
    except ApplicationError as exc:
        form.add_error("code", error_message(exc))
        return render(
            request,
            "portal/request_waiting.html",
            store_context(
                store,
                member=found,
                member_ref=member_ref,
                ticket=ticket,
                email_masked=email_masked(found.email),
                form=form,
            ),
            status=400,
        )
    if ticket.kind == TicketKind.ERASURE:
        return _erasure_done(request, store, ticket)
    return _after_write(
        request, store, found, _("Confirmed: the member's data is sent to their e-mail address.")
    )


@counter_view
@require_GET
def member_card(request: HttpRequest, store: Store, member_ref: str) -> HttpResponse:
    """A printable member card: the member number as a QR code and in digits."""
    found, _ref = _member_loaded(request, store, member_ref)
    return render(
        request,
        "portal/member_card.html",
        store_context(
            store,
            member=found,
            member_ref=member_ref,
            qr_svg=qr_svg(found.number),
        ),
    )
