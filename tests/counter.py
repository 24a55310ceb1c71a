"""Helpers for tests of the counter: member references as a lookup hands them out."""

from __future__ import annotations

from loyalty.references import member_reference_issue


def member_ref(member, *, staff, store, found_by: str = "number", now: float | None = None) -> str:
    """Return the reference a counter lookup by `found_by` would give `staff` at `store`."""
    return member_reference_issue(
        member_id=member.pk, store_id=store.pk, staff_id=staff.pk, found_by=found_by, now=now
    )
