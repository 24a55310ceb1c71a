"""The counter screen's pages. Thin: parse the form, call one service or selector, render.

Every page under /counter/<store>/ reaches its store through `store_for_staff`, so a cashier
acts only for a store they work in. Search terms travel in POST bodies, never in URLs.
"""

from __future__ import annotations

from functools import wraps

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.errors import (
    ApplicationError,
    InvalidInput,
    MemberNotFound,
    NoticeMissing,
    ScanNotFound,
    StoreForbidden,
    StoreInactive,
    StoreNotFound,
)
from loyalty import eid_services, services
from loyalty.models import Member, ScanState
from loyalty.privacy import member_subject_key
from loyalty.selectors import member_at_store, reward_get, rewards_offered
from portal import selectors
from portal.errors import error_message, field_errors, scan_failure_message
from portal.forms import (
    ConsentForm,
    EarnForm,
    ExportForm,
    JoinForm,
    RedeemPointsForm,
    RedeemRewardForm,
    SearchForm,
)
from portal.services import member_page_view_record
from privacy import selectors as privacy_selectors
from privacy import services as privacy_services
from privacy.downloads import export_response
from privacy.models import Channel, NoticeVersion, Purpose, TicketKind, TicketSource
from stores.models import Language, Store
from stores.selectors import store_for_staff, stores_for_staff

SESSION_STORE = "portal_store"
# A reader agent polls at least every 20 s; silence for longer means it is not running.
READER_SILENT_SECONDS = 60


def _problem(request: HttpRequest, message: str, status: int) -> HttpResponse:
    return render(request, "portal/problem.html", {"message": message}, status=status)


def counter_view(view):
    """Sign-in required; resolve `store_code` to a store the user works for, else 403/404."""

    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, store_code: str, **kwargs) -> HttpResponse:
        try:
            store = store_for_staff(request.user, store_code)
        except (StoreForbidden, StoreNotFound) as error:
            return _problem(request, error_message(error), error.status)
        except StoreInactive as error:
            return _problem(request, error_message(error), error.status)
        try:
            return view(request, store, **kwargs)
        except (MemberNotFound, ScanNotFound) as error:
            return _problem(request, error_message(error), 404)

    return wrapped


# Choosing the store
@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """Go to the counter of the user's store; ask which one when they work in several."""
    stores = list(stores_for_staff(request.user).filter(is_active=True).order_by("code"))
    if not stores:
        return _problem(request, _("You are not assigned to any store. Ask your manager."), 403)
    remembered = request.session.get(SESSION_STORE)
    for store in stores:
        if store.code == remembered or len(stores) == 1:
            return redirect("portal:counter", store_code=store.code)
    return render(request, "portal/store_pick.html", {"stores": stores})


@login_required
@require_POST
def store_pick(request: HttpRequest) -> HttpResponse:
    """Remember the store the user picked, if they work there."""
    try:
        store = store_for_staff(request.user, request.POST.get("store", ""))
    except ApplicationError as error:
        return _problem(request, error_message(error), error.status)
    request.session[SESSION_STORE] = store.code
    return redirect("portal:counter", store_code=store.code)


@login_required
@require_GET
def store_change(request: HttpRequest) -> HttpResponse:
    """Forget the remembered store and show the list again."""
    request.session.pop(SESSION_STORE, None)
    stores = list(stores_for_staff(request.user).filter(is_active=True).order_by("code"))
    return render(request, "portal/store_pick.html", {"stores": stores})


def _context(store: Store, **extra) -> dict:
    return {"store": store, **extra}


# Finding members
@counter_view
@require_GET
def counter(request: HttpRequest, store: Store) -> HttpResponse:
    request.session[SESSION_STORE] = store.code
    return render(request, "portal/counter.html", _context(store, form=SearchForm(), nav="counter"))


@counter_view
@require_POST
def search(request: HttpRequest, store: Store) -> HttpResponse:
    """Find members as the cashier types (htmx), or on Enter (a scanner ends with Enter)."""
    form = SearchForm(request.POST)
    live = bool(request.htmx) and request.htmx.trigger != "search-form"
    members, error = [], ""
    if form.is_valid():
        try:
            members = selectors.member_search(query=form.cleaned_data["query"])
        except InvalidInput as exc:
            error = (
                error_message(exc)
                if exc.code != "invalid_input"
                else _("Type a member number, an e-mail address, a phone number or a name.")
            )
    elif not live:
        error = _("Type a member number, an e-mail address, a phone number or a name.")
    if not live and not error and len(members) == 1:
        url = reverse("portal:member", args=[store.code, members[0].pk])
        if request.htmx:
            response = HttpResponse(status=204)
            response["HX-Redirect"] = url
            return response
        return redirect(url)
    context = _context(
        store, form=form, members=members, error=error, searched=form.is_valid(), nav="counter"
    )
    if request.htmx:
        return render(request, "portal/_search_results.html", context)
    return render(request, "portal/counter.html", context, status=400 if error else 200)


# Joining with the form
@counter_view
@require_http_methods(["GET", "POST"])
def join(request: HttpRequest, store: Store) -> HttpResponse:
    """Join with the form: given name, surname, e-mail, phone. The same benefits as the eID."""
    form = JoinForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        try:
            member = services.member_enroll_by_form(store=store, **form.cleaned_data)
        except ApplicationError as exc:
            fields = field_errors(exc)
            for field, message in fields.items():
                form.add_error(field, message)
            error = "" if fields else error_message(exc)
        else:
            messages.success(
                request,
                _("Welcome, %(name)s! Member number %(number)s.")
                % {"name": member.given_name, "number": member.number},
            )
            return redirect("portal:member", store_code=store.code, member_id=member.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "portal/join.html",
        _context(
            store, form=form, error=error, from_eid=request.GET.get("from") == "eid", nav="join"
        ),
        status=status,
    )


# Reading the eID card, after consent
def _customer_language(request: HttpRequest, store: Store) -> str:
    language = request.GET.get("lang") or request.POST.get("language")
    return language if language in Language.values else store.language


def _consent_screen(
    request: HttpRequest, store: Store, *, link_member: Member | None, error: str = ""
) -> HttpResponse:
    language = _customer_language(request, store)
    readers = list(selectors.readers_of_store(store=store))
    try:
        notice = privacy_selectors.notice_current(
            purpose=Purpose.EID_RECOGNITION, language=language
        )
    except NoticeMissing as exc:
        notice, error = None, error_message(exc)
    context = _context(
        store,
        notice=notice,
        customer_language=language,
        languages=Language.choices,
        readers=readers,
        link_member=link_member,
        error=error,
        nav="eid",
    )
    return render(request, "portal/eid_consent.html", context, status=400 if error else 200)


def _arm(request: HttpRequest, store: Store, *, link_member: Member | None) -> HttpResponse:
    form = ConsentForm(request.POST)
    if not form.is_valid():
        return _consent_screen(
            request, store, link_member=link_member, error=_("Choose a reader and try again.")
        )
    device = selectors.readers_of_store(store=store).filter(pk=form.cleaned_data["device"]).first()
    notice = NoticeVersion.objects.filter(
        purpose=Purpose.EID_RECOGNITION,
        language=form.cleaned_data["language"],
        version=form.cleaned_data["notice_version"],
    ).first()
    if device is None or notice is None:
        return _consent_screen(
            request, store, link_member=link_member, error=_("Choose a reader and try again.")
        )
    try:
        scan = eid_services.eid_scan_arm(
            store=store,
            device=device,
            staff=request.user,
            notice_language=notice.language,
            notice=notice,
            link_member=link_member,
        )
    except ApplicationError as exc:
        return _consent_screen(request, store, link_member=link_member, error=error_message(exc))
    return redirect("portal:scan", store_code=store.code, scan_id=scan.pk)


@counter_view
@require_http_methods(["GET", "POST"])
def eid_consent(request: HttpRequest, store: Store) -> HttpResponse:
    """Show the customer the notice; "Yes" records consent and arms the reader."""
    if request.method == "POST":
        return _arm(request, store, link_member=None)
    return _consent_screen(request, store, link_member=None)


@counter_view
@require_http_methods(["GET", "POST"])
def eid_link(request: HttpRequest, store: Store, member_id: int) -> HttpResponse:
    """Link a renewed eID card to a member: the same consent first, then the read."""
    member = member_at_store(store, member_id)
    if request.method == "POST":
        return _arm(request, store, link_member=member)
    return _consent_screen(request, store, link_member=member)


def _scan_context(store: Store, scan) -> dict:
    now = timezone.now()
    state = scan.state
    if state == ScanState.ARMED and scan.expires_at <= now:
        state = ScanState.EXPIRED
    last_seen = scan.device.last_seen_at
    reader_silent = state == ScanState.ARMED and (
        last_seen is None or (now - last_seen).total_seconds() > READER_SILENT_SECONDS
    )
    failure = ""
    if state == ScanState.FAILED:
        failure = scan_failure_message(scan.failure_code)
    elif state == ScanState.EXPIRED:
        failure = scan_failure_message("expired")
    return _context(
        store,
        scan=scan,
        state=state,
        waiting=state == ScanState.ARMED,
        failure=failure,
        reader_silent=reader_silent,
    )


@counter_view
@require_GET
def scan(request: HttpRequest, store: Store, scan_id) -> HttpResponse:
    """Wait for the card; the status below refreshes itself every second."""
    found = selectors.scan_at_store(store=store, scan_id=scan_id)
    return render(request, "portal/scan.html", _scan_context(store, found))


@counter_view
@require_GET
def scan_state(request: HttpRequest, store: Store, scan_id) -> HttpResponse:
    found = selectors.scan_at_store(store=store, scan_id=scan_id)
    return render(request, "portal/_scan_state.html", _scan_context(store, found))


# A member's page
def _member_page(
    request: HttpRequest, store: Store, member: Member, *, status: int = 200, **forms
) -> HttpResponse:
    subject_key = member_subject_key(member)
    consent = privacy_selectors.consent_state(subject_key=subject_key)
    rewards = list(rewards_offered(store=store))
    context = _context(
        store,
        member=member,
        has_eid_card=hasattr(member, "eid_card"),
        ledger=selectors.member_ledger_recent(member=member),
        rewards=rewards,
        consent=[(Purpose(p).label, record) for p, record in consent.items()],
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
        return render(request, "portal/erasure_confirm.html", _context(store, member=found))
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
        _context(
            store, member=found, qr_svg=qr.svg_inline(border=2, dark="#1d2430", omitsize=True)
        ),
    )
