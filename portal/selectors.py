"""Reads of the counter screen: finding members by anything a cashier types, scans, readers."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from core.errors import InvalidInput, ScanNotFound
from loyalty.models import EidScan, FoundBy, LedgerEntry, Member
from loyalty.numbers import member_number_looks_like
from loyalty.selectors import (
    NAME_SEARCH_MAX,
    CounterFind,
    member_find_for_counter,
    member_ledger,
    members_by_name_narrow,
)
from stores.models import ReaderDevice, Store

NAME_MIN = 2
LEDGER_SHOWN = 10
# Below this length a trigram index cannot help: such words match name prefixes instead.
TRIGRAM_MIN = 3
# Given name and surname are read in at most this many words ("Anne Marie De Smet").
MAX_NAME_WORDS = 4


def _looks_like_contact(query: str) -> bool:
    return member_number_looks_like(query) or "@" in query or sum(ch.isdigit() for ch in query) >= 6


def member_search(*, query: str) -> CounterFind:
    """Return the members a counter search means: number, e-mail, phone, or else a name.

    A name is the whole surname and the first letters of the given name, either way round
    ("De Smet Jo", "Jo De Smet"): at most five members (`members_by_name_narrow`).
    """
    query = " ".join((query or "").split())
    if not query or len(query) > 254:
        raise InvalidInput(_("Type a member number, an e-mail address, a phone number or a name."))
    if _looks_like_contact(query):
        return member_find_for_counter(query=query)
    words = query.split()
    if len(words) < 2:
        raise InvalidInput(_("Type the whole surname and the first letters of the given name."))
    found: dict[int, Member] = {}
    for surname, start in ((" ".join(words[:-1]), words[-1]), (" ".join(words[1:]), words[0])):
        try:
            for member in members_by_name_narrow(surname=surname, given_name_start=start).members:
                found.setdefault(member.pk, member)
        except InvalidInput:
            continue
    members = sorted(found.values(), key=lambda m: (m.surname.lower(), m.given_name.lower()))
    return CounterFind(members[:NAME_SEARCH_MAX], FoundBy.NAME_SEARCH)


def member_ledger_recent(*, member: Member, limit: int = LEDGER_SHOWN) -> list[LedgerEntry]:
    """Return the member's latest ledger entries, newest first."""
    return list(member_ledger(member=member).order_by("-created_at", "-pk")[:limit])


def readers_of_store(*, store: Store) -> QuerySet[ReaderDevice]:
    """Return the store's active eID readers."""
    return ReaderDevice.objects.filter(store=store, revoked_at__isnull=True).order_by("name")


def scan_at_store(*, store: Store, scan_id) -> EidScan:
    """Return a scan armed at this store (the cashier's own store), or raise ScanNotFound."""
    scan = (
        EidScan.objects.select_related("member", "device").filter(pk=scan_id, store=store).first()
    )
    if scan is None:
        raise ScanNotFound()
    return scan
