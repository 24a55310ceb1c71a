"""Recording staff reads of members' data (accountability, rule 9)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection
from django.utils import timezone

from loyalty import ledger_sql
from loyalty.models import FoundBy, Member, MemberRead, ReadKind
from loyalty.numbers import member_number_clean, member_number_looks_like
from loyalty.references import member_reference_issue
from loyalty.selectors import CounterFind, member_by_reference, member_find_for_counter
from stores.access import StaffAccess, store_by_id
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
    *,
    members: Iterable[Member],
    staff: AbstractBaseUser,
    store: Store,
    found_by: str,
    found_at: datetime | None = None,
) -> dict[int, str]:
    """Return a counter reference for each member found, bound to this staff member and store.

    `found_at` dates it when the member was found earlier than now (an eID scan shown again):
    a reference tells when the customer presented what found them, not when it was printed.
    """
    when = found_at.timestamp() if found_at is not None else None
    return {
        member.pk: member_reference_issue(
            member_id=member.pk, store_id=store.pk, staff_id=staff.pk, found_by=found_by, now=when
        )
        for member in members
    }


def member_lookup_recorded(*, query: str, staff: AbstractBaseUser, store: Store) -> CounterFind:
    """Find the members a counter lookup means (`member_find_for_counter`) and record the read.

    A member number on PostgreSQL, the counter's most frequent call, costs one statement that
    does both (`ledger_sql.members_by_number_recorded`); anything else takes the portable path.
    """
    query = (query or "").strip()
    if connection.vendor == "postgresql" and member_number_looks_like(query):
        rows = ledger_sql.members_by_number_recorded(
            member_number_clean(query),
            staff_id=staff.pk,
            store_id=store.pk,
            found_by=FoundBy.NUMBER,
            kind=ReadKind.LOOKUP,
            at=timezone.now(),
        )
        members = []
        for member, card_id in rows:
            # Loaded as select_related would: the home store from the cache, the card link.
            home = store if member.home_store_id == store.pk else store_by_id(member.home_store_id)
            Member._meta.get_field("home_store").set_cached_value(member, home)
            card = ledger_sql.eid_card_stand_in(member, card_id)
            Member._meta.get_field("eid_card").set_cached_value(member, card)
            members.append(member)
        return CounterFind(members, FoundBy.NUMBER)
    found = member_find_for_counter(query=query)
    member_reads_record(
        members=found.members,
        staff=staff,
        store=store,
        found_by=found.found_by,
        kind=ReadKind.LOOKUP,
    )
    return found


def member_read_by_reference(
    *, access: StaffAccess, store: Store, reference: str, kind: str
) -> Member:
    """Return the member a counter reference designates, recording this read of their data.

    The one door for a counter read of a member once found (profile, ledger, consent, page):
    the reference is checked by `member_by_reference`, the read carries how they were found.
    """
    member, ref = member_by_reference(access=access, store=store, reference=reference)
    member_reads_record(
        members=[member], staff=access.user, store=store, found_by=ref.found_by, kind=kind
    )
    return member
