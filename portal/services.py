"""Writes of the counter screen that are the portal's own."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from loyalty.models import Member
from portal.models import MemberPageView
from stores.models import Store


def member_page_view_record(
    *, member: Member, staff: AbstractBaseUser, store: Store
) -> MemberPageView:
    """Record that staff opened the member's page at this store (who, when, where)."""
    return MemberPageView.objects.create(
        member=member, staff=staff, store=store, viewed_at=timezone.now()
    )
