"""Recording staff reads of members' data (accountability, rule 9)."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from loyalty.models import Member, MemberRead
from loyalty.references import member_reference_issue
from stores.models import Store


def member_reads_record(
    *,
    members: Iterable[Member],
    staff: AbstractBaseUser,
    store: Store,
    found_by: str,
    kind: str,
) -> None:
    """Record that staff read these members' data at this store, and how they found them."""
    now = timezone.now()
    rows = [
        MemberRead(
            member_id=member.pk,
            staff_id=staff.pk,
            store_id=store.pk,
            found_by=found_by,
            kind=kind,
            read_at=now,
        )
        for member in members
    ]
    if len(rows) == 1:
        rows[0].save(force_insert=True)
    elif rows:
        MemberRead.objects.bulk_create(rows)


def member_references_issue(
    *, members: Iterable[Member], staff: AbstractBaseUser, store: Store, found_by: str
) -> dict[int, str]:
    """Return a counter reference for each member found, bound to this staff member and store."""
    return {
        member.pk: member_reference_issue(
            member_id=member.pk, store_id=store.pk, staff_id=staff.pk, found_by=found_by
        )
        for member in members
    }
