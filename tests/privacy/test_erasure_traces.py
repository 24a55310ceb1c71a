"""privacy.services.erasure_traces: the same coarsened times from PostgreSQL's one statement as
from the portable code, and the admin log scrubbed for rows given as a queryset."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType

from loyalty.models import LedgerEntry
from loyalty.services import points_earn
from privacy.services.erasure_traces import (
    _times_coarsen_python,
    _times_coarsen_sql,
    admin_log_scrub_owned,
    times_coarsen,
)
from tests.factories import HeadOfficeFactory, MemberFactory, StoreFactory

pytestmark = pytest.mark.django_db

BRUSSELS = ZoneInfo("Europe/Brussels")
UTC = ZoneInfo("UTC")
# Moments a truncation in the wrong zone would put on the wrong day: just after local
# midnight (still the day before in UTC), just before it, on both sides of both clock changes,
# and one already at the start of its day (not moved).
MOMENTS = [
    datetime(2026, 3, 28, 23, 30, tzinfo=UTC),  # 00:30 local on the 29th, before the change
    datetime(2026, 3, 29, 0, 45, tzinfo=UTC),  # 01:45 local, minutes before 02:00 -> 03:00
    datetime(2026, 3, 29, 1, 15, tzinfo=UTC),  # 03:15 local, after the change
    datetime(2026, 10, 24, 22, 10, tzinfo=UTC),  # 00:10 local on the 25th (summer time)
    datetime(2026, 10, 25, 0, 59, tzinfo=UTC),  # 02:59 local, the first of the two
    datetime(2026, 10, 25, 1, 30, tzinfo=UTC),  # 02:30 local, the second (winter time)
    datetime(2026, 12, 31, 22, 59, tzinfo=UTC),  # 23:59 local on New Year's Eve
    datetime(2027, 1, 1, 23, 0, tzinfo=UTC),  # 00:00 local: already the day's start
    datetime(2026, 7, 14, 12, 0, tzinfo=BRUSSELS),
]


def _entries(store, member) -> list[int]:
    ids = []
    for at in MOMENTS:
        entry = points_earn(member=member, store=store, staff=None, amount="10")
        LedgerEntry.objects.filter(pk=entry.pk).update(created_at=at)
        ids.append(entry.pk)
    return ids


def _times(ids: list[int]) -> list[datetime]:
    rows = LedgerEntry.objects.filter(pk__in=ids).order_by("pk")
    return list(rows.values_list("created_at", flat=True))


def _expected(at: datetime) -> datetime:
    return datetime.combine(at.astimezone(BRUSSELS).date(), time.min, tzinfo=BRUSSELS)


@pytest.mark.postgres
def test_postgresql_s_one_statement_coarsens_as_the_portable_code_does():
    # given: the same moments twice, for two members
    store = StoreFactory()
    one, other = MemberFactory(home_store=store), MemberFactory(home_store=store)
    by_sql, by_python = _entries(store, one), _entries(store, other)

    # when: one set goes through each path
    moved_sql = _times_coarsen_sql(LedgerEntry.objects.filter(member=one), field="created_at")
    moved_python = _times_coarsen_python(
        LedgerEntry.objects.filter(member=other), field="created_at"
    )

    # then: the same days' starts, the same rows moved, the one already at its start left
    sql_times, python_times = _times(by_sql), _times(by_python)
    assert sql_times == python_times == [_expected(at) for at in MOMENTS]
    assert moved_sql == moved_python == len(MOMENTS) - 1


def test_times_coarsen_moves_each_row_to_its_local_day_s_start():
    store = StoreFactory()
    member = MemberFactory(home_store=store)
    ids = _entries(store, member)

    times_coarsen(LedgerEntry.objects.filter(member=member), field="created_at")

    assert [LedgerEntry.objects.get(pk=pk).created_at for pk in ids] == [
        _expected(at) for at in MOMENTS
    ]
    # and a second pass finds nothing to move
    assert times_coarsen(LedgerEntry.objects.filter(member=member), field="created_at") == 0


def test_the_admin_log_of_rows_given_as_a_queryset_is_scrubbed_and_counted_per_owner():
    store = StoreFactory()
    one, other, untouched = (MemberFactory(home_store=store) for _ in range(3))
    staff = HeadOfficeFactory()
    content_type = ContentType.objects.get_for_model(LedgerEntry)
    entries = {
        m.pk: [points_earn(member=m, store=store, staff=None, amount="5") for _ in range(2)]
        for m in (one, other, untouched)
    }

    def log(entry) -> LogEntry:
        return LogEntry.objects.create(
            user=staff,
            content_type=content_type,
            object_id=str(entry.pk),
            object_repr=f"entry of {entry.member.number}",
            action_flag=CHANGE,
            change_message="[]",
        )

    logged = [log(entries[one.pk][0]), log(entries[one.pk][1]), log(entries[one.pk][1])]
    kept = log(entries[untouched.pk][0])

    counts = admin_log_scrub_owned(
        rows=LedgerEntry.objects.filter(member_id__in=[one.pk, other.pk]), owner_field="member_id"
    )

    assert counts == {one.pk: 3}
    for entry in logged:
        entry.refresh_from_db()
        assert (entry.object_id, entry.object_repr, entry.change_message) == (None, "", "")
        assert entry.user == staff  # what staff did stays
    kept.refresh_from_db()
    assert kept.object_id == str(entries[untouched.pk][0].pk)
    # and a second call finds nothing
    assert (
        admin_log_scrub_owned(rows=LedgerEntry.objects.filter(member=one), owner_field="member_id")
        == {}
    )
