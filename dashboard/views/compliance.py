"""The compliance self-check and the record of processing."""

from __future__ import annotations

import json

from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from dashboard import selectors
from dashboard.views.common import office_page
from privacy.selectors import processing_record


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
