"""What "my membership" keeps: one-time sign-in links and pending marketing opt-ins.

Links are kept as a hash only. Both go with the member (cascade, and membership's eraser).
A used sign-in link stays as the record of the member's own access (when they signed in),
exported with their data and erased with them.
"""

from __future__ import annotations

from django.db import models

from loyalty.models import Member


class SignInLink(models.Model):
    """A single-use, short-lived link to "my membership", mailed to the member's address."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="+")
    token_hash = models.CharField(max_length=64, null=True, blank=True, unique=True)
    language = models.CharField(max_length=2)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"sign-in link {self.pk} ({'used' if self.used_at else 'unused'})"


class MarketingOptIn(models.Model):
    """A member's request to receive offers by e-mail, waiting for the click in the mail.

    Consent is recorded only once the address confirms (double opt-in), against the notice
    the member was shown when they asked.
    """

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="+")
    token_hash = models.CharField(max_length=64, null=True, blank=True, unique=True)
    notice = models.ForeignKey("privacy.NoticeVersion", on_delete=models.PROTECT, related_name="+")
    language = models.CharField(max_length=2)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"marketing opt-in {self.pk} ({'confirmed' if self.confirmed_at else 'pending'})"
