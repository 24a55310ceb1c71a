"""The portal's part in the privacy rules: the member page views it records.

Registered from `PortalConfig.ready()`. Runs before loyalty's eraser, which deletes the member.
"""

from __future__ import annotations

from typing import Any

from core.inputs import ascii_digits
from loyalty.privacy import member_from_subject_key
from portal.models import MemberPageView
from privacy.registry import ProcessingDeclaration, registry


def _member_id(subject_key: str) -> int | None:
    prefix, _, value = (subject_key or "").partition(":")
    return int(value) if prefix == "member" and ascii_digits(value) else None


def erase_page_views(subject_key: str) -> dict[str, int]:
    """Delete the record of who viewed the member's page. Idempotent."""
    member_id = _member_id(subject_key)
    if member_id is None:
        return {"member_page_views": 0}
    deleted, _ = MemberPageView.objects.filter(member_id=member_id).delete()
    return {"member_page_views": deleted}


def export_page_views(subject_key: str) -> dict[str, list[dict[str, Any]]]:
    """Return when and at which store staff opened the member's page."""
    member = member_from_subject_key(subject_key)
    if member is None:
        return {}
    views = (
        MemberPageView.objects.filter(member=member)
        .select_related("store")
        .order_by("viewed_at", "pk")
    )
    return {
        "member_page_views": [
            {"at": view.viewed_at.isoformat(), "store": view.store.code} for view in views
        ]
    }


DECLARATION = ProcessingDeclaration(
    code="staff_accountability",
    title="Record of staff opening a member's page at the counter",
    legal_basis="accountability and security of processing (GDPR Art. 5(2), 32; Art. 6(1)(c))",
    data_categories=("member, staff member, store, time of each opening of the member's page",),
    recipients=("none outside the chain",),
    retention="as long as the member exists; erased with the member",
    app="portal",
    stored_in=("portal.MemberPageView",),
)


def register() -> None:
    """Plug the portal into privacy's registry (called once, from PortalConfig.ready)."""
    registry.register_eraser("portal", erase_page_views, order=50)
    registry.register_exporter("portal", export_page_views)
    registry.declare(DECLARATION)
