"""The compliance self-check and the record of processing."""

from __future__ import annotations

import json

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from dashboard import selectors
from dashboard.odt import ODT_CONTENT_TYPE
from dashboard.selectors.dpia import DPIA_LANGUAGES, dpia_markdown, dpia_odt
from dashboard.selectors.parity import parity_difference
from dashboard.views.common import office_page
from loyalty.services.parity import parity_check_run
from privacy.selectors import processing_record


@office_page(head_office=True)
@require_GET
def compliance(request):
    report = selectors.compliance_report()
    record = processing_record()
    return render(
        request,
        "dashboard/compliance.html",
        {
            "report": report,
            "record": record,
            "dpia_languages": DPIA_LANGUAGES,
            "nav": "compliance",
        },
    )


@office_page(head_office=True)
@require_POST
def parity_run(request):
    run = parity_check_run()
    if run.passed:
        messages.success(
            request,
            _("Parity check passed: %(n)s case(s), the same benefits whichever way they joined.")
            % {"n": run.cases},
        )
    else:
        messages.error(
            request,
            _("Parity check failed: %(difference)s")
            % {"difference": parity_difference(run.detail)},
        )
    return redirect("dashboard:compliance")


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


def _dpia_language(request) -> str:
    language = request.GET.get("language") or translation.get_language()
    if language not in DPIA_LANGUAGES:
        raise Http404
    return language


def _attachment(response: HttpResponse, name: str, language: str, suffix: str) -> HttpResponse:
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="{name}-{language}-{stamp}.{suffix}"'
    return response


@office_page(head_office=True)
@require_GET
def dpia_download(request):
    language = _dpia_language(request)
    response = HttpResponse(
        dpia_markdown(language=language), content_type="text/markdown; charset=utf-8"
    )
    return _attachment(response, "dpia-draft", language, "md")


@office_page(head_office=True)
@require_GET
def dpia_odt_download(request):
    language = _dpia_language(request)
    response = HttpResponse(dpia_odt(language=language), content_type=ODT_CONTENT_TYPE)
    return _attachment(response, "dpia-draft", language, "odt")
