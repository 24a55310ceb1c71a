"""Helpers for tests of the counter: member references as a lookup hands them out."""

from __future__ import annotations

from loyalty.references import member_reference_issue


def member_ref(member, *, staff, store, found_by: str = "number", now: float | None = None) -> str:
    """Return the reference a counter lookup by `found_by` would give `staff` at `store`."""
    return member_reference_issue(
        member_id=member.pk, store_id=store.pk, staff_id=staff.pk, found_by=found_by, now=now
    )


def member_in_url(url: str, *, staff, store) -> int:
    """Return the id of the member a counter URL's reference designates (for `staff` at `store`)."""
    import re

    from loyalty.references import member_reference_read

    found = re.search(r"/members/(mr_[A-Za-z0-9_-]+)/", url)
    assert found, url
    return member_reference_read(found.group(1), store_id=store.pk, staff_id=staff.pk).member_id


def members_in_html(html: str, *, staff, store) -> set[int]:
    """Return the ids of the members a page links to by reference (for `staff` at `store`)."""
    import re

    from loyalty.references import member_reference_read

    return {
        member_reference_read(ref, store_id=store.pk, staff_id=staff.pk).member_id
        for ref in set(re.findall(r"/members/(mr_[A-Za-z0-9_-]+)/", html))
    }
