"""What an app's eraser calls to leave nothing to stitch back (rule 7), whatever the app.

Privacy knows nothing of the apps' models; these take the app's model and ids, or subject keys:

- `admin_log_scrub`: the admin's change log names the objects it changed (`object_repr` is the
  object's `str()`, a member's number) and keeps their ids. The entry stays (which staff
  account changed what kind of object, when), without what designates the object.
- `consent_keys_attached_many`: the provisional keys (an armed eID scan's) whose consent was
  carried over to each subject, so the app can clear them wherever it keeps them before
  privacy's own eraser pseudonymises the records.
- `times_coarsen`: move kept rows' exact times to the start of their local day, so one
  person's rows no longer line up with each other (the day stays: per-day figures hold).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, time

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, Model, QuerySet
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

    In Python, one update per day: truncating in SQL gives a local wall time without its zone,
    which each backend would store as if it were UTC.
    """
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
