"""The portal's own record: who looked at a member's page, when and at which store."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from loyalty.models import Member
from stores.models import Store


class MemberPageView(models.Model):
    """One opening of a member's page by staff (accountability, GDPR Art. 5(2)).

    Personal data about the member: erased with them (see portal.privacy).
    """

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="+")
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="+")
    viewed_at = models.DateTimeField()

    class Meta:
        ordering = ["-viewed_at", "-pk"]
        indexes = [models.Index(fields=["member", "viewed_at"])]

    def __str__(self) -> str:
        return f"member {self.member_id} viewed at {self.viewed_at:%Y-%m-%d %H:%M}"
