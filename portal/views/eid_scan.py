"""Reading the eID card, after consent: the notice, arming a reader, waiting for the card."""

from __future__ import annotations

import contextlib

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.errors import ApplicationError, NoticeMissing
from loyalty import eid_services, services
from loyalty.models import FoundBy, Member, ReadKind, ScanState
from loyalty.purposes import Purpose
from loyalty.selectors import member_by_reference
from portal import selectors
from portal.errors import error_message, scan_failure_message
from portal.forms import ConsentForm
from portal.views.common import counter_view, store_context
from privacy import selectors as privacy_selectors
from privacy.models import NoticeVersion
from stores.access import Action, readers_registered_by, staff_access_for_request
from stores.models import CustomerLanguage, StaffRole, Store

# A reader agent polls at least every 20 s; silence for longer means it is not running.
READER_SILENT_SECONDS = 60


def _customer_language(request: HttpRequest, store: Store) -> str:
    language = request.GET.get("lang") or request.POST.get("language")
    return language if language in CustomerLanguage.values else store.language


def _consent_screen(
    request: HttpRequest,
    store: Store,
    *,
    link_member: Member | None,
    link_ref: str = "",
    error: str = "",
) -> HttpResponse:
    language = _customer_language(request, store)
    readers = list(selectors.readers_of_store(store=store))
    try:
        notice = privacy_selectors.notice_current(
            purpose=Purpose.EID_RECOGNITION, language=language
        )
    except NoticeMissing as exc:
        notice, error = None, error_message(exc)
    context = store_context(
        store,
        notice=notice,
        customer_language=language,
        languages=CustomerLanguage.choices,
        readers=readers,
        # Who can register one, said when there is none (stores.access decides).
        managers_register_readers=not readers
        and StaffRole.STORE_MANAGER in readers_registered_by(),
        link_member=link_member,
        link_ref=link_ref,
        error=error,
        nav="eid",
    )
    return render(request, "portal/eid_consent.html", context, status=400 if error else 200)


def _arm(
    request: HttpRequest, store: Store, *, link_member: Member | None, link_ref: str = ""
) -> HttpResponse:
    form = ConsentForm(request.POST)
    again = {"link_member": link_member, "link_ref": link_ref}
    if not form.is_valid():
        return _consent_screen(request, store, **again, error=_("Choose a reader and try again."))
    device = selectors.readers_of_store(store=store).filter(pk=form.cleaned_data["device"]).first()
    notice = NoticeVersion.objects.filter(
        purpose=Purpose.EID_RECOGNITION,
        language=form.cleaned_data["language"],
        version=form.cleaned_data["notice_version"],
    ).first()
    if device is None or notice is None:
        return _consent_screen(request, store, **again, error=_("Choose a reader and try again."))
    try:
        scan = eid_services.eid_scan_arm(
            store=store,
            device=device,
            staff=request.user,
            notice_language=notice.language,
            notice=notice,
            link_member=link_member,
            anonymous=form.cleaned_data["anonymous"] and link_member is None,
            guardian_consent=form.cleaned_data["guardian_consent"],
        )
    except ApplicationError as exc:
        return _consent_screen(request, store, **again, error=error_message(exc))
    url = reverse("portal:scan", args=[store.code, scan.pk])
    return redirect(f"{url}?link={link_ref}" if link_ref else url)


@counter_view
@require_http_methods(["GET", "POST"])
def eid_consent(request: HttpRequest, store: Store) -> HttpResponse:
    """Show the customer the notice; "Yes" records consent and arms the reader."""
    if request.method == "POST":
        return _arm(request, store, link_member=None)
    return _consent_screen(request, store, link_member=None)


@counter_view
@require_http_methods(["GET", "POST"])
def eid_link(request: HttpRequest, store: Store, member_ref: str) -> HttpResponse:
    """Link a renewed eID card to a member reached at the counter: the same consent first."""
    member, _ref = member_by_reference(
        access=staff_access_for_request(request),
        store=store,
        reference=member_ref,
        action=Action.EID_SCAN,
    )
    if request.method == "POST":
        return _arm(request, store, link_member=member, link_ref=member_ref)
    return _consent_screen(request, store, link_member=member, link_ref=member_ref)


def _scan_context(request: HttpRequest, store: Store, scan) -> dict:
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
    elif state in (ScanState.EXPIRED, ScanState.CANCELLED):
        failure = scan_failure_message(state)
    member_ref = link_ref = ""
    if state == ScanState.COMPLETED and scan.member is not None:
        # The customer presented their card: the member is found by eID, and that is a read.
        services.member_reads_record(
            members=[scan.member],
            staff=request.user,
            store=store,
            found_by=FoundBy.EID,
            kind=ReadKind.LOOKUP,
        )
        member_ref = services.member_references_issue(
            members=[scan.member],
            staff=request.user,
            store=store,
            found_by=FoundBy.EID,
            found_at=scan.finished_at,
        )[scan.member.pk]
    elif scan.link_member_id is not None and request.GET.get("link"):
        try:
            member_by_reference(
                access=staff_access_for_request(request),
                store=store,
                reference=request.GET["link"],
                action=Action.EID_SCAN,
            )
            link_ref = request.GET["link"]
        except ApplicationError:
            link_ref = ""
    return store_context(
        store,
        scan=scan,
        member_ref=member_ref,
        link_ref=link_ref,
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
    return render(request, "portal/scan.html", _scan_context(request, store, found))


@counter_view
@require_GET
def scan_state(request: HttpRequest, store: Store, scan_id) -> HttpResponse:
    found = selectors.scan_at_store(store=store, scan_id=scan_id)
    return render(request, "portal/_scan_state.html", _scan_context(request, store, found))


@counter_view
@require_POST
def scan_cancel(request: HttpRequest, store: Store, scan_id) -> HttpResponse:
    """Disarm the scan at once: the reader will not read a card for it."""
    found = selectors.scan_at_store(store=store, scan_id=scan_id)
    # Already read, failed or expired: the scan page says which.
    with contextlib.suppress(ApplicationError):
        eid_services.eid_scan_cancel(scan=found)
    return redirect("portal:scan", store_code=store.code, scan_id=found.pk)
