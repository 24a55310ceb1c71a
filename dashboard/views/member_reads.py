"""Accountability: the reads of members' data by staff, per account and per member."""

from __future__ import annotations

from django.conf import settings
from django.shortcuts import render
from django.views.decorators.http import require_GET

from core.errors import ApplicationError
from dashboard.selectors.member_reads import member_reads_by_staff, member_reads_of
from dashboard.views.common import office_page


@office_page(head_office=True)
@require_GET
def member_reads(request):
    """Per staff account over the last day (accounts over the threshold first), and one
    member's reads when head office types their number."""
    number = (request.GET.get("number") or "").strip()
    member, reads, error = None, [], ""
    if number:
        try:
            member, reads = member_reads_of(number=number)
        except ApplicationError as exc:
            error = exc.message
    by_staff = member_reads_by_staff()
    return render(
        request,
        "dashboard/member_reads.html",
        {
            "nav": "reads",
            "by_staff": by_staff,
            "alerts": [row for row in by_staff if row.over_threshold],
            "threshold": settings.MEMBER_READS_ALERT_PER_HOUR,
            "number": number,
            "member": member,
            "reads": reads,
            "error": error,
        },
    )
