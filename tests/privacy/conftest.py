"""Fixtures for the privacy tests: members with data, and reading the mails sent."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.core import mail
from django.core.cache import cache

from loyalty.privacy import member_subject_key
from loyalty.services import points_earn
from privacy import services
from privacy.models import TicketKind
from tests.conftest import private_cache
from tests.factories import EidCardFactory, MemberFactory, StoreFactory

LINK = re.compile(r"https?://\S+/(nl|fr|de|en)/privacy/confirm/([A-Za-z0-9_-]+)/")


@pytest.fixture(autouse=True)
def _own_cache(settings):
    """Rate-limit counters live in the cache: give each test an empty one of its own."""
    yield from private_cache(settings, "privacy-tests")


def erase_at_counter(member, store, cashier, **kwargs):
    """Open an erasure ticket for a member standing at the counter who just presented their
    eID card (verified at once, as privacy.services.counter does for a fresh scan)."""
    return services.ticket_open_at_counter(
        kind=TicketKind.ERASURE,
        subject_key=member_subject_key(member),
        store=store,
        by=cashier,
        presented="card",
        **kwargs,
    )


def rate_limit_counter(identifier: str):
    """Return the rate-limit count held for an identifier, or None."""
    from privacy.ratelimit import _key

    return cache.get(_key("identifier", identifier))


@pytest.fixture
def member(store):
    """A form member with contact data, an eID link and some purchases in two stores."""
    other = StoreFactory(code="LIE01", name="Liège Carré", city="Liège", language="fr")
    member = MemberFactory(
        home_store=store,
        given_name="Zoltanette",
        surname="Vandermaelstrom",
        email="zoltanette.v@example.be",
        phone="+32470999111",
    )
    EidCardFactory(member=member, token="e1d" + "7" * 61)
    for n, (shop, amount) in enumerate([(store, "12.50"), (other, "40.00"), (store, "7.25")]):
        points_earn(
            member=member,
            store=shop,
            staff=None,
            amount=Decimal(amount),
            reference=f"receipt-{n}",
            idempotency_key=f"till-{member.pk}-{n}",
        )
    member.refresh_from_db()
    return member


def confirmation_link(message) -> tuple[str, str]:
    """Return (language, token) of the confirmation link in a mail."""
    match = LINK.search(message.body)
    assert match, "no confirmation link in the mail"
    return match.group(1), match.group(2)


def outbox_to(address: str) -> list:
    return [m for m in mail.outbox if address in m.to]
