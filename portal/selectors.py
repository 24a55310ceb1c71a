"""Reads of the counter screen: finding members by anything a cashier types, scans, readers."""

from __future__ import annotations

from django.db import connection
from django.db.models import Q, QuerySet
from django.db.models.functions import Lower

from core.errors import InvalidInput, MemberNotFound, ScanNotFound
from loyalty.models import EidScan, LedgerEntry, Member
from loyalty.numbers import member_number_looks_like
from loyalty.selectors import MAX_RESULTS, member_find_for_counter, member_ledger
from portal.models import MemberPageView
from stores.models import ReaderDevice, Store

NAME_MIN = 2
LEDGER_SHOWN = 10
# Below this length a trigram index cannot help: such words match name prefixes instead.
TRIGRAM_MIN = 3


def _looks_like_contact(query: str) -> bool:
    return member_number_looks_like(query) or "@" in query or sum(ch.isdigit() for ch in query) >= 6


def _prefix(field: str, prefix: str) -> Q:
    """Match `lower(field)` starting with `prefix`, as a range the `member_name_ci` index serves."""
    return Q(**{f"{field}_ci__gte": prefix, f"{field}_ci__lt": prefix + "\U0010ffff"})


def members_by_name(*, query: str) -> list[Member]:
    """Return up to 20 members whose name matches what was typed, ordered by name.

    On PostgreSQL each word of three letters or more must occur in the given name or surname
    (trigram indexes, migration loyalty 0003); shorter words and SQLite match from the start
    of the surname, given name first or last ("Lotte Pe", "Peeters L").
    """
    words = query.lower().split()
    if len("".join(words)) < NAME_MIN or any(ch.isdigit() for ch in query):
        raise InvalidInput("Type at least two letters of the name.")
    members = Member.objects.annotate(
        surname_ci=Lower("surname"), given_name_ci=Lower("given_name")
    ).select_related("home_store", "eid_card")
    if connection.vendor == "postgresql" and all(len(w) >= TRIGRAM_MIN for w in words):
        condition = Q()
        for word in words:
            condition &= Q(surname_ci__contains=word) | Q(given_name_ci__contains=word)
    else:
        whole = " ".join(words)
        # Whole query as surname ("de smet"), or split into given name + surname either way.
        condition = _prefix("surname", whole)
        for cut in range(1, len(words)):
            first, rest = " ".join(words[:cut]), " ".join(words[cut:])
            condition |= _prefix("surname", rest) & Q(given_name_ci__startswith=first)
            condition |= _prefix("surname", first) & Q(given_name_ci__startswith=rest)
    return list(
        members.filter(condition).order_by("surname_ci", "given_name_ci", "pk")[:MAX_RESULTS]
    )


def member_search(*, query: str) -> list[Member]:
    """Return the members a counter search means: number, e-mail, phone, or else a name."""
    query = " ".join((query or "").split())
    if not query or len(query) > 254:
        raise InvalidInput("Type a member number, an e-mail address, a phone number or a name.")
    if _looks_like_contact(query):
        return member_find_for_counter(query=query)
    return members_by_name(query=query)


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


def member_page_views_recent(*, member: Member, limit: int = 5) -> list[MemberPageView]:
    """Return the latest openings of the member's page, newest first."""
    return list(
        MemberPageView.objects.filter(member=member).select_related("staff", "store")[:limit]
    )


def member_for_counter_page(*, store: Store, member_id: int) -> Member:
    """Return a member for staff already cleared for `store`, with what their page shows.

    Members belong to the chain (as `loyalty.selectors.member_at_store`); the store is where
    the cashier acts, checked by `store_for_staff` before this is called.
    """
    member = (
        Member.objects.select_related("home_store", "eid_card").filter(pk=int(member_id)).first()
    )
    if member is None:
        raise MemberNotFound()
    return member
