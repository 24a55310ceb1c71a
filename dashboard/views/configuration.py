"""Stores, earning rules, campaigns, readers, rewards, staff roles and notices."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_POST

from core.errors import ApplicationError
from dashboard import forms, selectors
from dashboard.views.common import csv_response, fail, form_errors, office_page
from loyalty import services as loyalty_services
from loyalty.models import Reward
from privacy import services as privacy_services
from privacy.models import NoticeVersion
from stores import services as store_services
from stores.models import Campaign, ReaderDevice
from stores.selectors import (
    chain_settings,
    chain_settings_saved,
    earning_rule_for_store,
    reader_devices_of,
)

STORE_HEADERS = (
    gettext_lazy("code"),
    gettext_lazy("name"),
    gettext_lazy("city"),
    gettext_lazy("language"),
    gettext_lazy("active"),
    gettext_lazy("points per euro"),
    gettext_lazy("rounding"),
    gettext_lazy("minimum purchase"),
    gettext_lazy("campaigns running"),
    gettext_lazy("active readers"),
    gettext_lazy("staff"),
)


def _store_rows(stores):
    for s in stores:
        rule = earning_rule_for_store(s)
        yield (
            s.code,
            s.name,
            s.city,
            s.language,
            _("yes") if s.is_active else _("no"),
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
        "devices": reader_devices_of([store]),
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
        store_services.earning_rule_save(store=store, **form.cleaned_data)
        messages.success(request, _("Earning rule of %(store)s saved.") % {"store": store.code})
    else:
        form_errors(request, form)
    return redirect("dashboard:store", code=store.code)


@office_page(head_office=True)
@require_POST
def campaign_create(request, code: str):
    store = _store_or_404(request, code)
    form = forms.CampaignForm(request.POST)
    if not form.is_valid():
        return _store_page(request, store, campaign_form=form, status=400)
    try:
        store_services.campaign_create(store=store, **form.cleaned_data)
    except ApplicationError as error:
        fail(request, error)
        return _store_page(request, store, campaign_form=form, status=400)
    messages.success(request, _("Campaign added."))
    return redirect("dashboard:store", code=store.code)


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


DEVICE_HEADERS = (
    gettext_lazy("store"),
    gettext_lazy("name"),
    gettext_lazy("token starts"),
    gettext_lazy("registered"),
    gettext_lazy("last seen"),
    gettext_lazy("revoked"),
)


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
            loyalty_services.reward_create(
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
                point_cost=form.cleaned_data["point_cost"],
                stores=list(form.cleaned_data["stores"]),
            )
        except ApplicationError as error:
            fail(request, error)
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
    loyalty_services.reward_set_active(reward=reward, active=request.POST.get("active") == "1")
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
        {
            "assignments": selectors.staff_overview(),
            "form": form,
            "nav": "staff",
            "token_hours": settings.STAFF_TOKEN_TTL_HOURS,
        },
        status=400 if form.is_bound and form.errors else 200,
    )


@office_page(head_office=True)
@require_POST
def staff_tokens_revoke(request, user_id: int):
    user = get_object_or_404(get_user_model(), pk=user_id)
    revoked = store_services.staff_tokens_revoke(user=user)
    messages.success(
        request,
        ngettext(
            "%(count)d API token of %(user)s revoked: the next call asks for a login.",
            "%(count)d API tokens of %(user)s revoked: the next call asks for a login.",
            revoked,
        )
        % {"count": revoked, "user": user.get_username()},
    )
    return redirect("dashboard:staff")


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
            fail(request, error)
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
        "notices.csv",
        (_("purpose"), _("language"), _("version"), _("published"), _("content hash")),
        rows,
    )


def _chain_page(request, form=None, status=200):
    saved = chain_settings_saved()
    form = form or forms.ChainForm(
        initial={
            "name": saved.name,
            "privacy_contact": saved.privacy_contact,
            "site_url": saved.site_url,
            "managers_register_readers": saved.managers_register_readers,
        }
    )
    context = {"form": form, "shown": chain_settings(), "nav": "chain"}
    return render(request, "dashboard/chain.html", context, status=status)


@office_page(head_office=True)
def chain(request):
    """What customers see of the chain: name, logo, data-protection contact, site address."""
    if request.method != "POST":
        return _chain_page(request)
    form = forms.ChainForm(request.POST, request.FILES)
    if not form.is_valid():
        form_errors(request, form)
        return _chain_page(request, form, status=400)
    upload = form.cleaned_data["logo"]
    try:
        store_services.chain_settings_save(
            name=form.cleaned_data["name"],
            privacy_contact=form.cleaned_data["privacy_contact"],
            site_url=form.cleaned_data["site_url"],
            logo=upload.read(store_services.LOGO_MAX_BYTES + 1) if upload else None,
            logo_remove=form.cleaned_data["logo_remove"],
            managers_register_readers=form.cleaned_data["managers_register_readers"],
        )
    except ApplicationError as error:
        fail(request, error)
        return _chain_page(request, form, status=400)
    messages.success(request, _("Saved. Customers see it at once."))
    return redirect("dashboard:chain")
