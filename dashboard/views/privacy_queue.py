"""The privacy queue (erasure, access and withdrawal tickets) and the consent log."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import BadRequest
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from core.errors import ApplicationError
from core.inputs import plain_int
from dashboard import forms, selectors, services
from dashboard.selectors.erasure_preview import ticket_erasure_preview, ticket_rescan
from dashboard.views.common import csv_response, fail, form_errors, office_page
from privacy import services as privacy_services
from privacy.models import OPEN_STATES, TicketState
from privacy.services.tickets import TRANSITIONS


def _ticket_rows(tickets, today):
    return [
        (
            t.pk,
            t.get_kind_display(),
            t.get_state_display(),
            t.get_source_display(),
            t.store.code if t.store else "",
            timezone.localtime(t.received_at).strftime("%Y-%m-%d %H:%M"),
            t.due_on.isoformat(),
            _("yes") if t.extended_at else "",
            selectors.ticket_urgency(t, today=today),
        )
        for t in tickets
    ]


TICKET_HEADERS = (
    gettext_lazy("ticket"),
    gettext_lazy("kind"),
    gettext_lazy("state"),
    gettext_lazy("source"),
    gettext_lazy("store"),
    gettext_lazy("received"),
    gettext_lazy("due on"),
    gettext_lazy("extended"),
    gettext_lazy("urgency"),
)
MAX_PAGE = 100_000
TICKETS_PAGE = 50


@office_page(head_office=True)
@require_GET
def tickets(request):
    form = forms.TicketFilterForm(request.GET or None)
    state, kind = "open", ""
    if form.is_valid():
        state = form.cleaned_data["state"] or "open"
        kind = form.cleaned_data["kind"]
    page = plain_int(request.GET.get("page") or 1, minimum=1, maximum=MAX_PAGE)
    if page is None:
        raise BadRequest("page")
    today = timezone.localdate()
    queue = selectors.tickets_queue(state=state, kind=kind)
    rows = list(queue[(page - 1) * TICKETS_PAGE : page * TICKETS_PAGE + 1])
    more = len(rows) > TICKETS_PAGE
    rows = rows[:TICKETS_PAGE]
    for t in rows:
        t.urgency = selectors.ticket_urgency(t, today=today)
    counts = selectors.tickets_count_by_state()
    tabs = [("open", _("Open"), counts["open"])] + [
        (value, label, counts[value]) for value, label in TicketState.choices
    ]
    return render(
        request,
        "dashboard/tickets.html",
        {
            "form": form,
            "tickets": rows,
            "tabs": tabs,
            "state": state,
            "kind": kind,
            "page": page,
            "more": more,
            "today": today,
            "nav": "tickets",
        },
    )


@office_page(head_office=True)
@require_GET
def tickets_csv(request):
    form = forms.TicketFilterForm(request.GET or None)
    state = (form.cleaned_data["state"] or "open") if form.is_valid() else "open"
    kind = form.cleaned_data["kind"] if form.is_valid() else ""
    today = timezone.localdate()
    queue = selectors.tickets_queue(state=state, kind=kind)
    return csv_response(
        f"tickets-{state}.csv", TICKET_HEADERS, _ticket_rows(queue.iterator(), today)
    )


def _ticket_actions(ticket) -> dict[str, bool]:
    allowed = TRANSITIONS[ticket.state]
    return {
        "verify": TicketState.VERIFIED in allowed,
        "approve": TicketState.SCHEDULED in allowed and ticket.state == TicketState.VERIFIED,
        "extend": ticket.state in OPEN_STATES and ticket.extended_at is None,
        "reject": TicketState.REJECTED in allowed,
    }


@office_page(head_office=True)
@require_GET
def ticket(request, pk: int):
    t = selectors.ticket_for_office(pk)
    if t is None:
        raise Http404
    today = timezone.localdate()
    return render(
        request,
        "dashboard/ticket.html",
        {
            "t": t,
            "urgency": selectors.ticket_urgency(t, today=today),
            "days_left": (t.due_on - today).days,
            "days_over": (today - t.due_on).days,
            "history": t.history.select_related("by"),
            "actions": _ticket_actions(t),
            "preview": ticket_erasure_preview(t),
            "rescan": ticket_rescan(t),
            "verify_form": forms.VerifyForm(),
            "extend_form": forms.ExtendForm(),
            "reject_form": forms.RejectForm(),
            "nav": "tickets",
        },
    )


@office_page(head_office=True)
@require_POST
def ticket_action(request, pk: int, action: str):
    t = selectors.ticket_for_office(pk)
    if t is None:
        raise Http404
    user = request.user
    done = {
        "verify": _("Ticket #%(n)s verified: approve it to schedule the work."),
        "approve": _("Ticket #%(n)s approved: the work is scheduled."),
        "extend": _("Ticket #%(n)s: deadline extended; the customer is told."),
        "reject": _("Ticket #%(n)s rejected; the customer is told."),
    }
    form_class = {
        "verify": forms.VerifyForm,
        "extend": forms.ExtendForm,
        "reject": forms.RejectForm,
    }.get(action)
    if action not in done:
        raise Http404
    form = form_class(request.POST) if form_class else None
    if form is not None and not form.is_valid():
        form_errors(request, form)
        return redirect("dashboard:ticket", pk=pk)
    try:
        if action == "verify":
            privacy_services.ticket_verify(ticket=t, by=user, note=form.cleaned_data["note"])
            t.refresh_from_db(fields=["state"])
            if t.state != TicketState.VERIFIED:
                # Access and withdrawals need no approval (nor erasures, where set so).
                done["verify"] = _("Ticket #%(n)s verified: the work is scheduled.")
        elif action == "approve":
            privacy_services.ticket_approve(ticket=t, by=user)
        elif action == "extend":
            privacy_services.ticket_extend(
                ticket=t,
                months=form.cleaned_data["months"],
                reason=form.cleaned_data["reason"],
                by=user,
            )
        else:
            privacy_services.ticket_reject(ticket=t, reason=form.cleaned_data["reason"], by=user)
    except ApplicationError as error:
        fail(request, error)
    else:
        messages.success(request, done[action] % {"n": t.pk})
    return redirect("dashboard:ticket", pk=pk)


# Consent log
CONSENT_HEADERS = (
    gettext_lazy("seq"),
    gettext_lazy("time"),
    gettext_lazy("purpose"),
    gettext_lazy("action"),
    gettext_lazy("notice"),
    gettext_lazy("language"),
    gettext_lazy("channel"),
    gettext_lazy("store"),
    gettext_lazy("staff"),
    gettext_lazy("device"),
    gettext_lazy("subject digest"),
)


def _consent_row(r):
    return (
        r.seq,
        timezone.localtime(r.created_at).strftime("%Y-%m-%d %H:%M:%S"),
        r.purpose,
        r.action,
        f"v{r.notice.version}",
        r.language,
        r.channel,
        r.store.code if r.store else "",
        r.staff.get_username() if r.staff else "",
        r.device_id or "",
        r.subject_digest[:12],
    )


@office_page(head_office=True)
@require_GET
def consent(request):
    access = request.office
    form = forms.ConsentFilterForm(request.GET or None, stores=access.stores)
    filters = form.filters() if form.is_bound else {}
    before = form.cleaned_data.get("before") if form.is_bound and form.is_valid() else None
    records = list(
        selectors.consent_records(**filters, before_seq=before)[: selectors.CONSENT_PAGE + 1]
    )
    more = len(records) > selectors.CONSENT_PAGE
    records = records[: selectors.CONSENT_PAGE]
    params = request.GET.copy()
    params.pop("before", None)
    older = None
    if more:
        params["before"] = records[-1].seq
        older = params.urlencode()
    params.pop("before", None)
    return render(
        request,
        "dashboard/consent.html",
        {
            "form": form,
            "records": records,
            "older": older,
            "first_page": params.urlencode() if before else None,
            "query": params.urlencode(),
            "chain": selectors.consent_chain_status(),
            "nav": "consent",
        },
    )


@office_page(head_office=True)
@require_GET
def consent_csv(request):
    form = forms.ConsentFilterForm(request.GET or None, stores=request.office.stores)
    filters = form.filters() if form.is_bound else {}
    records = selectors.consent_records(**filters).iterator(chunk_size=2000)
    return csv_response("consent-log.csv", CONSENT_HEADERS, (_consent_row(r) for r in records))


@office_page(head_office=True)
@require_POST
def consent_verify(request):
    check = services.chain_check_run()
    if check.ok:
        messages.success(
            request,
            _("Consent log intact: %(n)s record(s) verified.") % {"n": check.records_checked},
        )
    else:
        messages.error(
            request,
            _("Consent log broken at record #%(seq)s: %(reason)s")
            % {"seq": check.broken_seq, "reason": check.reason},
        )
    return redirect("dashboard:consent")
