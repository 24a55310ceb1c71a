"""What loyalty asks consent for, where it asks, and the withdrawal customers may request.

Privacy knows none of these: `loyalty.privacy.register()` registers them with its registry,
with their entries in the record of processing.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Purpose(models.TextChoices):
    EID_RECOGNITION = "eid_recognition", _("Reading the eID card to recognise a member")
    LOYALTY_MEMBERSHIP = "loyalty_membership", _("Loyalty membership")
    MARKETING_EMAIL = "marketing_email", _("Offers by e-mail")


class Channel(models.TextChoices):
    COUNTER_EID = "counter_eid", _("At the counter, with the eID reader")
    COUNTER_FORM = "counter_form", _("At the counter, with the form")


# The ticket kind of "stop recognising my eID card": withdraws EID_RECOGNITION on request.
EID_WITHDRAWAL = "eid_withdrawal"
EID_WITHDRAWAL_LABEL = _("Withdrawal of eID consent")
