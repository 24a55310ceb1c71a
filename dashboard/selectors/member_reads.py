"""Who read which members' data, and accounts that read more than a counter needs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Max, QuerySet
from django.db.models.functions import TruncHour
from django.utils import timezone

from loyalty.models import Member, MemberRead
from loyalty.numbers import member_number_clean


@dataclass(frozen=True)
class StaffReads:
    staff: str
    reads: int
    members: int
    busiest_hour: int
    last_read_at: datetime
    over_threshold: bool


def member_reads_by_staff(*, since: datetime | None = None) -> list[StaffReads]:
    """Return, per staff account, its reads since `since` (default the last 24 hours).

    `busiest_hour` is the most members the account read in one clock hour; above
    settings.MEMBER_READS_ALERT_PER_HOUR it is flagged: a counter does not need that many.
    """
    since = since or timezone.now() - timedelta(hours=24)
    reads = MemberRead.objects.filter(read_at__gte=since, staff__isnull=False)
    per_hour = (
        reads.annotate(hour=TruncHour("read_at"))
        .values("staff_id", "hour")
        .annotate(n=Count("member_id", distinct=True))
    )
    busiest: dict[int, int] = {}
    for row in per_hour:
        busiest[row["staff_id"]] = max(busiest.get(row["staff_id"], 0), row["n"])
    totals = (
        reads.values("staff_id", "staff__username")
        .annotate(reads=Count("id"), members=Count("member_id", distinct=True), last=Max("read_at"))
        .order_by("-members", "staff__username")
    )
    threshold = settings.MEMBER_READS_ALERT_PER_HOUR
    return [
        StaffReads(
            staff=row["staff__username"],
            reads=row["reads"],
            members=row["members"],
            busiest_hour=busiest.get(row["staff_id"], 0),
            last_read_at=row["last"],
            over_threshold=busiest.get(row["staff_id"], 0) > threshold,
        )
        for row in totals
    ]


def member_reads_of(*, number: str) -> tuple[Member | None, QuerySet[MemberRead]]:
    """Return the member with this number and the reads of their data, newest first."""
    member = Member.objects.filter(number=member_number_clean(number)).first()
    if member is None:
        return None, MemberRead.objects.none()
    reads = MemberRead.objects.filter(member=member).select_related("staff", "store")
    return member, reads[:200]
