"""The consent receipt at the counter: a slip to print for the customer, and its JSON form."""

from __future__ import annotations

import json

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from loyalty import services
from loyalty.models import ReadKind
from loyalty.privacy import member_subject_key
from portal.views.common import counter_view, store_context
from privacy.receipts import consent_receipt, consent_receipt_json
from stores.access import staff_access_for_request
from stores.models import Store


def _receipt(request: HttpRequest, store: Store, member_ref: str):
    member = services.member_read_by_reference(
        access=staff_access_for_request(request),
        store=store,
        reference=member_ref,
        kind=ReadKind.CONSENT,
    )
    receipt = consent_receipt(
        subject_key=member_subject_key(member), language=request.GET.get("lang")
    )
    if receipt is None:
        raise Http404
    return receipt


@counter_view
@require_GET
def member_receipt(request: HttpRequest, store: Store, member_ref: str) -> HttpResponse:
    """The member's consent receipt as a printable slip, in the customer's language."""
    receipt = _receipt(request, store, member_ref)
    return render(
        request,
        "portal/consent_receipt.html",
        store_context(store, receipt=receipt, member_ref=member_ref, languages=settings.LANGUAGES),
    )


@counter_view
@require_GET
def member_receipt_json(request: HttpRequest, store: Store, member_ref: str) -> HttpResponse:
    """The member's consent receipt as a Kantara Consent Receipt (JSON), to download."""
    receipt = _receipt(request, store, member_ref)
    body = json.dumps(consent_receipt_json(receipt), ensure_ascii=False, indent=2)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="consent-receipt-{receipt.receipt_id}.json"'
    )
    return response
