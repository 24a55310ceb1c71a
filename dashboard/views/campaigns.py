"""Campaigns, tiers and coupons: head office for the chain, store managers for their stores.

Who may compose or end which campaign is `stores.access`'s answer
(`StaffAccess.may_manage_campaigns_of`).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.errors import ApplicationError
from dashboard import forms
from dashboard.views.common import csv_response, fail, office_page
from loyalty import services as loyalty_services
from stores import services as store_services
from stores.access import Action, staff_access
from stores.models import Campaign, Store, Tier


def _managed_stores(access):
    return access.stores(Action.CAMPAIGNS_MANAGE).order_by("code")


def _visible_campaigns(access):
    rows = Campaign.objects.select_related("store").annotate(uses=Count("applications"))
    if not access.head_office:
        rows = rows.filter(store__in=_managed_stores(access))
    return rows.order_by("-ends_at", "-pk")[:100]


@office_page()
def campaigns(request):
    access = staff_access(request.user)
    stores = _managed_stores(access)
    form = forms.CampaignComposeForm(
        request.POST or None,
        stores=stores,
        tiers=Tier.objects.order_by("threshold"),
        chain=access.head_office,
    )
    failed = form.is_bound
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        store: Store | None = data.pop("store")
        if not access.may_manage_campaigns_of(store):
            return render(
                request,
                "dashboard/forbidden.html",
                {"message": _("You may not run campaigns there.")},
                status=403,
            )
        try:
            store_services.campaign_compose(store=store, created_by=request.user, **data)
        except ApplicationError as error:
            fail(request, error)
        else:
            messages.success(request, _("Campaign added."))
            return redirect("dashboard:campaigns")
    return render(
        request,
        "dashboard/campaigns.html",
        {
            "campaigns": _visible_campaigns(access),
            "form": form,
            "now": timezone.now(),
            "nav": "campaigns",
        },
        status=400 if failed else 200,
    )


@office_page()
@require_POST
def campaign_end(request, pk: int):
    campaign = get_object_or_404(Campaign.objects.select_related("store"), pk=pk)
    if not staff_access(request.user).may_manage_campaigns_of(campaign.store):
        return render(
            request,
            "dashboard/forbidden.html",
            {"message": _("You may not run campaigns there.")},
            status=403,
        )
    store_services.campaign_end(campaign=campaign)
    messages.success(request, _("Campaign ended."))
    if request.POST.get("next") == "store" and campaign.store is not None:
        return redirect("dashboard:store", code=campaign.store.code)
    return redirect("dashboard:campaigns")


@office_page(head_office=True)
def tiers(request):
    form = forms.TierForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            store_services.tier_save(**form.cleaned_data)
        except ApplicationError as error:
            fail(request, error)
        else:
            messages.success(request, _("Tier saved."))
            return redirect("dashboard:tiers")
    return render(
        request,
        "dashboard/tiers.html",
        {
            "tiers": Tier.objects.order_by("threshold"),
            "form": form,
            "grace": settings.LOYALTY_TIER_GRACE_DAYS,
            "nav": "campaigns",
        },
        status=400 if form.is_bound and form.errors else 200,
    )


@office_page(head_office=True)
def coupons(request):
    form = forms.CouponBulkForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            issued = loyalty_services.coupons_issue_bulk(
                count=form.cleaned_data["count"],
                value=form.cleaned_data["value"],
                product=form.cleaned_data["product"],
                valid_days=form.cleaned_data["valid_days"],
            )
        except ApplicationError as error:
            fail(request, error)
        else:
            # The codes exist in this answer only: a download, never a page to come back to.
            rows = (
                (c.code, c.value or "", c.product, timezone.localdate(c.expires_at).isoformat())
                for c in issued
            )
            return csv_response("coupons.csv", ("code", "value", "product", "expires"), rows)
    return render(
        request,
        "dashboard/coupons.html",
        {"form": form, "nav": "campaigns"},
        status=400 if form.is_bound else 200,
    )
