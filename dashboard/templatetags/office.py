"""Filters the dashboard's pages share."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext

from privacy.ticket_notes import ticket_note_display

register = template.Library()


@register.filter
def ticket_note(note: str) -> str:
    """Show a ticket history note in the reader's language (`privacy.ticket_notes`)."""
    return ticket_note_display(note)


@register.filter
def result_label(key: str) -> str:
    """Name a ticket's result count ("loyalty.eid_cards") as its eraser declares it."""
    from privacy.registry import registry

    name, _dot, kind = key.rpartition(".")
    return registry.count_label(name, kind) if name in registry.erasers else key


@register.filter
def recipients_display(recipients) -> str:
    """Name the recipients in the reader's language; their proof keeps the declared words."""
    return ", ".join(gettext(str(r)) for r in recipients)
