"""A ticket history's notes read in head office's language; what a person typed stays as typed."""

from __future__ import annotations

import pytest
from django.utils import translation

from privacy.ticket_notes import ticket_note_display


@pytest.mark.parametrize(
    ("note", "dutch"),
    [
        ("confirmation link sent", "bevestigingslink verstuurd"),
        ("erased", "gewist"),
        ("retention", "Bewaartermijn verstreken"),
        ("verified by staff: seen in person", "geverifieerd door een medewerker: seen in person"),
        (
            "deadline extended by 2 month(s) to 2027-02-01: many records",
            "termijn verlengd met 2 maand(en) tot 1 februari 2027: many records",
        ),
        ("a reason head office typed", "a reason head office typed"),
    ],
)
def test_notes_read_in_dutch(note, dutch):
    with translation.override("nl"):
        assert ticket_note_display(note) == dutch


def test_every_note_the_services_write_is_known():
    """A new fixed note in a service shows in English until it is added here."""
    import re
    from pathlib import Path

    from django.conf import settings

    from privacy.ticket_notes import EXTENDED, FIXED, PREFIXED

    written = set()
    for path in (Path(settings.BASE_DIR) / "privacy").rglob("*.py"):
        written |= set(re.findall(r'note="([^"{]+)"', path.read_text()))
        written |= set(re.findall(r'note = "([^"{]+)"', path.read_text()))
    prefixes = tuple(PREFIXED)
    unknown = {n for n in written if n.strip() and n not in FIXED and not n.startswith(prefixes)}

    assert unknown == set()
    assert EXTENDED.match("deadline extended by 1 month(s) to 2027-01-01")
