"""A ticket history's notes in the reader's language.

The services write each step's note in English, a fixed phrase (sometimes followed by what a
person typed), and the history keeps it as written: it is the proof. Head office reads it in
its own language: `ticket_note_display` translates the fixed part and leaves the typed part
as it was typed.
"""

from __future__ import annotations

import re
from datetime import date

from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from privacy.models import TicketSource

FIXED = {
    "confirmation link sent": gettext_lazy("confirmation link sent"),
    "confirmed by the link sent to the address on file": gettext_lazy(
        "confirmed by the link sent to the address on file"
    ),
    "verified by staff": gettext_lazy("verified by staff"),
    "approved": gettext_lazy("approved"),
    "code sent to e-mail on file": gettext_lazy("code sent to e-mail on file"),
    "awaits head office": gettext_lazy("awaits head office"),
    "member confirmed with the e-mailed code": gettext_lazy(
        "member confirmed with the e-mailed code"
    ),
    "sent": gettext_lazy("sent"),
    "nothing to send": gettext_lazy("nothing to send"),
    "export at the counter": gettext_lazy("export at the counter"),
    "handed over at the counter after the member presented their card": gettext_lazy(
        "handed over at the counter after the member presented their card"
    ),
    "erased": gettext_lazy("erased"),
    "retention period ended": gettext_lazy("retention period ended"),
    "erased before the restore": gettext_lazy("erased before the restore"),
    "nothing to withdraw: the person is no longer known": gettext_lazy(
        "nothing to withdraw: the person is no longer known"
    ),
    "nothing to withdraw: no consent in force, nothing linked; withdrawal recorded": gettext_lazy(
        "nothing to withdraw: no consent in force, nothing linked; withdrawal recorded"
    ),
    "consent withdrawn": gettext_lazy("consent withdrawn"),
}
EXTENDED = re.compile(
    r"^deadline extended by (\d+) month\(s\) to (\d{4}-\d\d-\d\d)(?:: (.*))?$", re.S
)
PREFIXED = {
    "verified by staff: ": gettext_lazy("verified by staff: %(note)s"),
    "member presented: ": gettext_lazy("member presented: %(note)s"),
}


def ticket_note_display(note: str) -> str:
    """Return a history note in the active language; what a person typed stays as typed."""
    if note in FIXED:
        return str(FIXED[note])
    if note in TicketSource.values:
        return str(TicketSource(note).label)
    if m := EXTENDED.match(note):
        months, due, reason = m.groups()
        text = _("deadline extended by %(months)s month(s) to %(due)s") % {
            "months": months,
            "due": date_format(date.fromisoformat(due), "DATE_FORMAT"),
        }
        return f"{text}: {reason}" if reason else text
    for prefix, text in PREFIXED.items():
        if note.startswith(prefix):
            return str(text) % {"note": note[len(prefix) :]}
    return note
