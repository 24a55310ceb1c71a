"""Reads of the counter screen: finding members by anything a cashier types, scans, readers."""

from __future__ import annotations

from django.db import connection
from django.db.models import Q, QuerySet
from django.db.models.functions import Lower

from core.errors import InvalidInput, MemberNotFound, ScanNotFound
from loyalty.models import EidScan, LedgerEntry, Member
from loyalty.numbers import member_number_looks_like
from loyalty.selectors import MAX_RESULTS, member_find_for_counter, member_ledger
from stores.models import ReaderDevice, Store

NAME_MIN = 2
LEDGER_SHOWN = 10
# Below this length a trigram index cannot help: such words match name prefixes instead.
TRIGRAM_MIN = 3
# Given name and surname are read in at most this many words ("Anne Marie De Smet").
MAX_NAME_WORDS = 4


def _looks_like_contact(query: str) -> bool:
    return member_number_looks_like(query) or "@" in query or sum(ch.isdigit() for ch in query) >= 6


def _prefix(field: str, prefix: str) -> Q:
    """Match `lower(field)` starting with `prefix`, as a range the `member_name_ci` index serves."""
    return Q(**{f"{field}_ci__gte": prefix, f"{field}_ci__lt": prefix + "\U0010ffff"})


def _name_order(member: Member) -> tuple:
    return (member.surname_ci, member.given_name_ci, member.pk)


def members_by_name(*, query: str) -> list[Member]:
    """Return up to 20 members whose name matches what was typed.

    First the names that start with it, in name order, on the `member_name_ci` index: the
    surname ("de smet"), or given name and surname either way round ("Lotte Pe", "Peeters
    L"). If that leaves room, on PostgreSQL, names that contain every word of three letters or
    more anywhere (trigram indexes, migration loyalty 0003): "smet" finds "De Smet".
    """
    words = query.lower().split()
    if len("".join(words)) < NAME_MIN or any(ch.isdigit() for ch in query):
        raise InvalidInput("Type at least two letters of the name.")
    members = Member.objects.annotate(
        surname_ci=Lower("surname"), given_name_ci=Lower("given_name")
    ).select_related("home_store", "eid_card")
    # One query per reading of the words, each a range on the name index in index order
    # (an OR of ranges would make the database walk the whole index).
    readings = [_prefix("surname", " ".join(words))]
    for cut in range(1, min(len(words), MAX_NAME_WORDS)):
        first, rest = " ".join(words[:cut]), " ".join(words[cut:])
        readings.append(_prefix("surname", rest) & _prefix("given_name", first))
        readings.append(_prefix("surname", first) & _prefix("given_name", rest))
    by_pk: dict[int, Member] = {}
    for reading in readings:
        for found_member in members.filter(reading).order_by("surname_ci", "given_name_ci")[
            :MAX_RESULTS
        ]:
            by_pk.setdefault(found_member.pk, found_member)
    found = sorted(by_pk.values(), key=_name_order)[:MAX_RESULTS]
    room = MAX_RESULTS - len(found)
    if room and connection.vendor == "postgresql" and all(len(w) >= TRIGRAM_MIN for w in words):
        contains = Q()
        for word in words:
            contains &= Q(surname_ci__contains=word) | Q(given_name_ci__contains=word)
        # No ORDER BY: sorting by name would walk the name index past every non-match; the
        # trigram indexes find a handful of rows, sorted here.
        more = members.filter(contains).exclude(pk__in=[m.pk for m in found])[:room]
        found += sorted(more, key=_name_order)
    return found


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
