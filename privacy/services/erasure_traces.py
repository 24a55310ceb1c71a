"""What an app's eraser calls to leave nothing to stitch back (rule 7), whatever the app.

Privacy knows nothing of the apps' models; these take the app's model and ids, or subject keys:

- `admin_log_scrub`: the admin's change log names the objects it changed (`object_repr` is the
  object's `str()`, a member's number) and keeps their ids. The entry stays (which staff
  account changed what kind of object, when), without what designates the object.
  `admin_log_scrub_owned` does the same for rows given as a queryset (a batch's ledger).
- `consent_keys_attached_many`: the provisional keys (an armed eID scan's) whose consent was
  carried over to each subject, so the app can clear them wherever it keeps them before
  privacy's own eraser pseudonymises the records.
- `times_coarsen`: move kept rows' exact times to the start of their local day, so one
  person's rows no longer line up with each other (the day stays: per-day figures hold); one
  statement on PostgreSQL, whatever the number of rows and days.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, time

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import NotSupportedError, connections
from django.db.models import CharField, Count, DateTimeField, F, Func, Model, QuerySet
from django.db.models.functions import Cast
from django.utils import timezone

from privacy.models import ConsentRecord


def admin_log_entries(*, model: type[Model], object_ids: Iterable[object]):
    """Return the admin log's entries about these objects (for a preview or a scrub)."""
    ids = [str(pk) for pk in object_ids]
    content_type = ContentType.objects.get_for_model(model, for_concrete_model=False)
    return LogEntry.objects.filter(content_type=content_type, object_id__in=ids)


def admin_log_scrub(*, model: type[Model], object_ids: Iterable[object]) -> int:
    """Take the object's id, name and change message out of its admin log entries.

    Returns how many entries were scrubbed (0 on a second call: they no longer match).
    """
    return admin_log_entries(model=model, object_ids=object_ids).update(
        object_id=None, object_repr="", change_message=""
    )


def admin_log_counts(*, model: type[Model], object_ids: Iterable[object]) -> dict[str, int]:
    """Return how many admin log entries name each of these objects, by id as text."""
    return dict(
        admin_log_entries(model=model, object_ids=object_ids)
        .values("object_id")
        .annotate(n=Count("pk"))
        .values_list("object_id", "n")
    )


def admin_log_scrub_owned(*, rows: QuerySet, owner_field: str) -> dict[object, int]:
    """Scrub the admin log's entries about these rows (given as a queryset: the database
    matches them, no ids travel); return how many were scrubbed per owner, the value of each
    named row's `owner_field` (a member's entries: `member_id`). Run it before the rows lose
    their owner."""
    model = rows.model
    content_type = ContentType.objects.get_for_model(model, for_concrete_model=False)
    as_text = rows.order_by().annotate(_as_text=Cast("pk", CharField())).values("_as_text")
    named = list(
        LogEntry.objects.filter(content_type=content_type, object_id__in=as_text).values_list(
            "pk", "object_id"
        )
    )
    if not named:
        return {}
    to_pk = model._meta.pk.to_python
    named_rows = model._base_manager.filter(pk__in={to_pk(object_id) for _, object_id in named})
    owner_of = dict(named_rows.values_list("pk", owner_field))
    counts: dict[object, int] = defaultdict(int)
    for _, object_id in named:
        counts[owner_of[to_pk(object_id)]] += 1
    entry_ids = [pk for pk, _ in named]
    for n in range(0, len(entry_ids), 2000):
        LogEntry.objects.filter(pk__in=entry_ids[n : n + 2000]).update(
            object_id=None, object_repr="", change_message=""
        )
    return dict(counts)


def consent_keys_attached_many(*, subject_keys: Iterable[str]) -> dict[str, list[str]]:
    """Return, per subject, the provisional keys whose consent was carried over to them."""
    rows = (
        ConsentRecord.objects.filter(subject_key__in=list(subject_keys), refers_to__isnull=False)
        .exclude(refers_to__subject_key=None)
        .values_list("subject_key", "refers_to__subject_key")
        .distinct()
    )
    attached: dict[str, list[str]] = defaultdict(list)
    for key, provisional in rows:
        attached[key].append(provisional)
    return dict(attached)


def times_coarsen(queryset: QuerySet, *, field: str) -> int:
    """Set `field` of the rows to the start of each one's local day; return the rows moved.

    One UPDATE on PostgreSQL (the day's start computed in the chain's time zone there); on
    other backends in Python, one update per day: their SQL truncation gives a local wall time
    without its zone, which they would store as if it were UTC.
    """
    if connections[queryset.db].vendor == "postgresql":
        return _times_coarsen_sql(queryset, field=field)
    return _times_coarsen_python(queryset, field=field)


class _LocalDayStart(Func):
    """The start of a moment's local day in the chain's time zone, as a moment (PostgreSQL)."""

    output_field = DateTimeField()

    def as_sql(self, compiler, connection, **extra):
        raise NotSupportedError("_LocalDayStart is PostgreSQL only")

    def as_postgresql(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        zone = timezone.get_default_timezone_name()
        return (
            f"(DATE_TRUNC('day', {sql} AT TIME ZONE %s) AT TIME ZONE %s)",
            (*params, zone, zone),
        )


def _times_coarsen_sql(queryset: QuerySet, *, field: str) -> int:
    start = _LocalDayStart(F(field))
    return queryset.order_by().exclude(**{field: start}).update(**{field: start})


def _times_coarsen_python(queryset: QuerySet, *, field: str) -> int:
    zone = timezone.get_default_timezone()
    days: dict[datetime, list[object]] = defaultdict(list)
    for pk, at in queryset.order_by().values_list("pk", field).iterator(chunk_size=2000):
        local = timezone.localtime(at, zone)
        start = datetime.combine(local.date(), time.min, tzinfo=zone)
        if at != start:
            days[start].append(pk)
    model = queryset.model
    moved = 0
    for start, pks in days.items():
        for n in range(0, len(pks), 500):
            moved += model._base_manager.filter(pk__in=pks[n : n + 500]).update(**{field: start})
    return moved
