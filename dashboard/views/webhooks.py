"""Webhook endpoints of the tills and CRMs, and their delivery log (head office)."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from dashboard import forms
from dashboard.views.common import office_page
from loyalty.models import WebhookDelivery, WebhookEndpoint
from loyalty.services import webhooks as webhook_services

DELIVERIES_SHOWN = 100


@office_page(head_office=True)
def webhooks(request):
    form = forms.WebhookEndpointForm(request.POST or None)
    secret = None
    if request.method == "POST" and form.is_valid():
        _endpoint, secret = webhook_services.webhook_endpoint_add(
            name=form.cleaned_data["name"],
            url=form.cleaned_data["url"],
            events=form.cleaned_data["events"],
            created_by=request.user,
        )
        messages.success(request, _("Endpoint added. Copy its secret now: it is shown once."))
        form = forms.WebhookEndpointForm()
    deliveries = WebhookDelivery.objects.select_related("endpoint").order_by("-created_at")
    return render(
        request,
        "dashboard/webhooks.html",
        {
            "endpoints": WebhookEndpoint.objects.order_by("name", "pk"),
            "deliveries": deliveries[:DELIVERIES_SHOWN],
            "form": form,
            "secret": secret,
            "nav": "campaigns",
        },
        status=400 if form.is_bound and form.errors else 200,
    )


@office_page(head_office=True)
@require_POST
def webhook_active(request, pk: int):
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    webhook_services.webhook_endpoint_set_active(
        endpoint=endpoint, active=request.POST.get("active") == "1"
    )
    return redirect("dashboard:webhooks")
