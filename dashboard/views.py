"""The head-office dashboard's pages. Each one parses input, calls a selector or a service,
and renders; who may see what is decided by `selectors.office_access`.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from core.errors import ApplicationError, Forbidden
from dashboard import charts, forms, selectors, services
from dashboard.selectors import Table
from loyalty.models import Reward
from privacy import services as privacy_services
from privacy.management.commands.processing_record import processing_record
from privacy.models import OPEN_STATES, NoticeVersion, TicketState
from privacy.services.tickets import TRANSITIONS
from stores import services as store_services
from stores.models import Campaign, ReaderDevice
from stores.selectors import earning_rule_for_store


def office_page(*, head_office: bool = False):
    """Let in signed-in staff the dashboard admits (head office only, if asked); 403 otherwise."""

    def decorate(view):
        @wraps(view)
        @login_required
        @never_cache
        def wrapped(request, *args, **kwargs):
            try:
                access = selectors.office_access(request.user)
                if head_office:
                    selectors.office_head_required(access)
            except Forbidden as error:
                return render(
                    request, "dashboard/forbidden.html", {"message": error.message}, status=403
                )
            request.office = access
            return view(request, *args, **kwargs)

        return wrapped

    return decorate


def _fail(request, error: ApplicationError) -> None:
    details = "; ".join(
        str(m) for msgs in error.details.values() if isinstance(msgs, list) for m in msgs
    )
    messages.error(request, f"{error.message} {details}".strip())


def _form_errors(request, form) -> None:
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        for error in errors:
            messages.error(request, f"{label}: {error}" if label else error)


def csv_response(filename: str, headers: Iterable[str], rows: Iterable[Iterable]) -> HttpResponse:
    """Stream rows as a CSV download (UTF-8 with BOM, so spreadsheet programs read accents)."""

    class Echo:
        def write(self, value):
            return value

    writer = csv.writer(Echo())

    def lines():
        yield "\ufeff" + writer.writerow(list(headers))
        for row in rows:
            yield writer.writerow(["" if v is None else v for v in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def table_csv(table: Table, suffix: str = "") -> HttpResponse:
    return csv_response(f"{table.key}{suffix}.csv", table.headers, table.rows)


# Figures
def _figures(request):
    access = request.office
    form = forms.PeriodForm(request.GET or None, stores=access.stores)
    start, end, store = form.period()
    figures = selectors.figures_for(
        access=access, start=start, end=end, store_ids=[store.pk] if store else None
    )
    return form, figures


@office_page()
@require_GET
def figures(request):
    services.stats_refresh_if_no_scheduler()
    form, f = _figures(request)
    week_labels = [w["week"].strftime("%d/%m") for w in f.weeks]
    eid, form_label = _("eID card"), _("Form")
    chart = {
        "joined": charts.stacked_bars(
            _("New members per week"),
            week_labels,
            [
                (eid, [w["new_members_eid"] for w in f.weeks], "s-eid"),
                (form_label, [w["new_members_form"] for w in f.weeks], "s-form"),
            ],
        ),
        "points": charts.lines(
            _("Points per week"),
            week_labels,
            [
                (_("Issued"), [w["points_issued"] for w in f.weeks], "s-issued"),
                (_("Redeemed"), [w["points_redeemed"] for w in f.weeks], "s-redeemed"),
                (_("Expired"), [w["points_expired"] for w in f.weeks], "s-expired"),
            ],
        ),
        "channels": charts.shares(
            _("How members joined"),
            [(r["store"].code, [r["new_members_eid"], r["new_members_form"]]) for r in f.per_store]
            + (
                [(_("All"), [f.totals["new_members_eid"], f.totals["new_members_form"]])]
                if len(f.per_store) > 1
                else []
            ),
            [(eid, "s-eid"), (form_label, "s-form")],
        ),
        "rewards": charts.hbars(
            _("Redemptions per reward"),
            [r["reward__name"] for r in f.rewards],
            [r["redemptions"] for r in f.rewards],
            "s-redeemed",
        ),
        "active": charts.stacked_bars(
            _("Active members per month"),
            [m["month"].strftime("%m/%Y") for m in f.months],
            [
                (
                    _("Active members"),
                    [m["chain"] if f.chain_wide else sum(m["stores"].values()) for m in f.months],
                    "s-active",
                )
            ],
        ),
    }
    query = request.GET.urlencode()
    return render(
        request,
        "dashboard/figures.html",
        {"form": form, "f": f, "chart": chart, "query": query, "nav": "figures"},
    )


@office_page()
@require_GET
def figures_csv(request, key: str):
    _form, f = _figures(request)
    table = f.tables.get(key)
    if table is None:
        raise Http404
    return table_csv(table, f"-{f.start.isoformat()}-{f.end.isoformat()}")


# Privacy queue
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
            "yes" if t.extended_at else "",
            selectors.ticket_urgency(t, today=today),
        )
        for t in tickets
    ]


TICKET_HEADERS = (
    "ticket",
    "kind",
    "state",
    "source",
    "store",
    "received",
    "due on",
    "extended",
    "urgency",
)
TICKETS_PAGE = 50


@office_page(head_office=True)
@require_GET
def tickets(request):
    form = forms.TicketFilterForm(request.GET or None)
    state, kind = "open", ""
    if form.is_valid():
        state = form.cleaned_data["state"] or "open"
        kind = form.cleaned_data["kind"]
    try:
        page = max(1, int(request.GET.get("page", 1)))
    except ValueError:
        page = 1
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
        _form_errors(request, form)
        return redirect("dashboard:ticket", pk=pk)
    try:
        if action == "verify":
            privacy_services.ticket_verify(ticket=t, by=user, note=form.cleaned_data["note"])
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
        _fail(request, error)
    else:
        messages.success(request, done[action] % {"n": t.pk})
    return redirect("dashboard:ticket", pk=pk)


# Consent log
CONSENT_HEADERS = (
    "seq",
    "time",
    "purpose",
    "action",
    "notice",
    "language",
    "channel",
    "store",
    "staff",
    "device",
    "subject digest",
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


# Stores and configuration
STORE_HEADERS = (
    "code",
    "name",
    "city",
    "language",
    "active",
    "points per euro",
    "rounding",
    "minimum purchase",
    "campaigns running",
    "active readers",
    "staff",
)


def _store_rows(stores):
    for s in stores:
        rule = earning_rule_for_store(s)
        yield (
            s.code,
            s.name,
            s.city,
            s.language,
            "yes" if s.is_active else "no",
            rule.points_per_euro,
            rule.rounding,
            rule.minimum_purchase,
            s.campaigns_running,
            s.devices_active,
            s.staff_count,
        )


@office_page(head_office=True)
@require_GET
def stores(request):
    rows = list(selectors.stores_overview())
    for s in rows:
        s.rule = earning_rule_for_store(s)
    return render(request, "dashboard/stores.html", {"stores": rows, "nav": "stores"})


@office_page(head_office=True)
@require_GET
def stores_csv(request):
    return csv_response("stores.csv", STORE_HEADERS, _store_rows(selectors.stores_overview()))


def _store_or_404(request, code: str):
    store = selectors.store_for_office(request.office, code)
    if store is None:
        raise Http404
    return store


def _store_page(
    request, store, *, new_token=None, device_form=None, campaign_form=None, status=200
):
    rule = earning_rule_for_store(store)
    context = {
        "store": store,
        "rule_form": forms.EarningRuleForm(
            initial={
                "points_per_euro": rule.points_per_euro,
                "rounding": rule.rounding,
                "minimum_purchase": rule.minimum_purchase,
            }
        ),
        "campaigns": Campaign.objects.filter(store=store).order_by("-starts_at")[:20],
        "campaign_form": campaign_form or forms.CampaignForm(),
        "devices": ReaderDevice.objects.filter(store=store)
        .select_related("created_by")
        .order_by("revoked_at", "name"),
        "device_form": device_form or forms.DeviceRegisterForm(),
        "new_token": new_token,
        "staff": selectors.staff_overview().filter(store=store),
        "now": timezone.now(),
        "nav": "stores",
    }
    return render(request, "dashboard/store.html", context, status=status)


@office_page(head_office=True)
@require_GET
def store(request, code: str):
    return _store_page(request, _store_or_404(request, code))


@office_page(head_office=True)
@require_POST
def store_rule(request, code: str):
    store = _store_or_404(request, code)
    form = forms.EarningRuleForm(request.POST)
    if form.is_valid():
        services.earning_rule_save(store=store, **form.cleaned_data)
        messages.success(request, _("Earning rule of %(store)s saved.") % {"store": store.code})
    else:
        _form_errors(request, form)
    return redirect("dashboard:store", code=store.code)


@office_page(head_office=True)
@require_POST
def campaign_create(request, code: str):
    store = _store_or_404(request, code)
    form = forms.CampaignForm(request.POST)
    if not form.is_valid():
        return _store_page(request, store, campaign_form=form, status=400)
    try:
        services.campaign_create(store=store, **form.cleaned_data)
    except ApplicationError as error:
        _fail(request, error)
        return _store_page(request, store, campaign_form=form, status=400)
    messages.success(request, _("Campaign added."))
    return redirect("dashboard:store", code=store.code)


@office_page(head_office=True)
@require_POST
def campaign_end(request, pk: int):
    campaign = get_object_or_404(Campaign.objects.select_related("store"), pk=pk)
    services.campaign_end(campaign=campaign)
    messages.success(request, _("Campaign ended."))
    return redirect("dashboard:store", code=campaign.store.code)


@office_page(head_office=True)
@require_POST
def device_register(request, code: str):
    store = _store_or_404(request, code)
    form = forms.DeviceRegisterForm(request.POST)
    if not form.is_valid():
        return _store_page(request, store, device_form=form, status=400)
    device, token = store_services.reader_device_register(
        store=store, name=form.cleaned_data["name"], created_by=request.user
    )
    # Rendered straight away, never redirected to: the token exists only in this answer.
    return _store_page(request, store, new_token={"device": device, "token": token})


@office_page(head_office=True)
@require_POST
def device_revoke(request, pk: int):
    device = get_object_or_404(ReaderDevice.objects.select_related("store"), pk=pk)
    store_services.reader_device_revoke(device=device)
    messages.success(request, _("Reader “%(name)s” revoked.") % {"name": device.name})
    return redirect("dashboard:store", code=device.store.code)


DEVICE_HEADERS = ("store", "name", "token starts", "registered", "last seen", "revoked")


def _when(dt):
    return timezone.localtime(dt).strftime("%Y-%m-%d %H:%M") if dt else ""


@office_page(head_office=True)
@require_GET
def devices_csv(request):
    devices = ReaderDevice.objects.select_related("store").order_by("store__code", "name")
    rows = (
        (
            d.store.code,
            d.name,
            d.token_prefix,
            _when(d.created_at),
            _when(d.last_seen_at),
            _when(d.revoked_at),
        )
        for d in devices
    )
    return csv_response("reader-devices.csv", DEVICE_HEADERS, rows)


@office_page(head_office=True)
def rewards(request):
    form = forms.RewardForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.reward_create(
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
                point_cost=form.cleaned_data["point_cost"],
                stores=list(form.cleaned_data["stores"]),
            )
        except ApplicationError as error:
            _fail(request, error)
        else:
            messages.success(request, _("Reward added."))
            return redirect("dashboard:rewards")
    catalogue = Reward.objects.prefetch_related("stores").order_by("-is_active", "point_cost")
    return render(
        request,
        "dashboard/rewards.html",
        {"rewards": catalogue, "form": form, "nav": "rewards"},
        status=400 if form.is_bound and form.errors else 200,
    )


@office_page(head_office=True)
@require_POST
def reward_active(request, pk: int):
    reward = get_object_or_404(Reward, pk=pk)
    services.reward_set_active(reward=reward, active=request.POST.get("active") == "1")
    return redirect("dashboard:rewards")


@office_page(head_office=True)
@require_GET
def rewards_csv(request):
    catalogue = Reward.objects.prefetch_related("stores").order_by("point_cost", "name")
    rows = (
        (
            r.pk,
            r.name,
            r.point_cost,
            "yes" if r.is_active else "no",
            " ".join(s.code for s in r.stores.all()),
        )
        for r in catalogue
    )
    return csv_response("rewards.csv", ("id", "name", "points", "active", "stores"), rows)


@office_page(head_office=True)
def staff(request):
    form = forms.StaffAssignForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = selectors.staff_user_find(form.cleaned_data["username"])
        if user is None:
            form.add_error("username", _("No active user with this name."))
        else:
            store_services.staff_assign(
                user=user, role=form.cleaned_data["role"], store=form.cleaned_data["store"]
            )
            messages.success(request, _("Role saved."))
            return redirect("dashboard:staff")
    return render(
        request,
        "dashboard/staff.html",
        {"assignments": selectors.staff_overview(), "form": form, "nav": "staff"},
        status=400 if form.is_bound and form.errors else 200,
    )


@office_page(head_office=True)
@require_GET
def staff_csv(request):
    rows = (
        (a.user.get_username(), a.role, a.store.code if a.store else "")
        for a in selectors.staff_overview()
    )
    return csv_response("staff.csv", ("user", "role", "store"), rows)


@office_page(head_office=True)
def notices(request):
    form = forms.NoticeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            notice = privacy_services.notice_publish(**form.cleaned_data)
        except ApplicationError as error:
            _fail(request, error)
        else:
            messages.success(
                request,
                _("Published: %(purpose)s, %(language)s, version %(version)s.")
                % {
                    "purpose": notice.get_purpose_display(),
                    "language": notice.language,
                    "version": notice.version,
                },
            )
            return redirect("dashboard:notices")
    versions = NoticeVersion.objects.order_by("purpose", "language", "-version")
    return render(
        request,
        "dashboard/notices.html",
        {"versions": versions, "form": form, "nav": "notices"},
        status=400 if form.is_bound and form.errors else 200,
    )


@office_page(head_office=True)
@require_GET
def notice(request, pk: int):
    version = get_object_or_404(NoticeVersion, pk=pk)
    return render(request, "dashboard/notice.html", {"notice": version, "nav": "notices"})


@office_page(head_office=True)
@require_GET
def notices_csv(request):
    versions = NoticeVersion.objects.order_by("purpose", "language", "-version")
    rows = (
        (v.purpose, v.language, v.version, _when(v.published_at), v.content_hash) for v in versions
    )
    return csv_response(
        "notices.csv", ("purpose", "language", "version", "published", "content hash"), rows
    )


# Compliance
@office_page(head_office=True)
@require_GET
def compliance(request):
    report = selectors.compliance_report()
    record = processing_record()
    return render(
        request,
        "dashboard/compliance.html",
        {"report": report, "record": record, "nav": "compliance"},
    )


@office_page(head_office=True)
@require_GET
def processing_record_download(request):
    record = processing_record()
    response = HttpResponse(
        json.dumps(record, indent=2, ensure_ascii=False), content_type="application/json"
    )
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="record-of-processing-{stamp}.json"'
    return response
