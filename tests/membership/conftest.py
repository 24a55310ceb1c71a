"""Fixtures for the customers' pages: members with an e-mail, points and an eID card."""

from __future__ import annotations

import pytest

from tests.conftest import private_cache
from tests.factories import MemberFactory


@pytest.fixture(autouse=True)
def _own_cache(settings):
    """Rate limits and the chain's identity live in the cache: an empty one per test."""
    yield from private_cache(settings, "membership-tests")


@pytest.fixture
def member_with_email(store):
    return MemberFactory(home_store=store, email="lea.peeters@example.be")


@pytest.fixture
def shopper(store):
    """A member with an e-mail, an eID link, purchases a year and a half ago and today."""
    from datetime import timedelta
    from decimal import Decimal

    from django.utils import timezone

    from loyalty.services import points_earn
    from tests.factories import EidCardFactory

    member = MemberFactory(home_store=store, email="an.janssens@example.be", given_name="An")
    EidCardFactory(member=member, token="e1d" + "5" * 61)
    now = timezone.now()
    points_earn(
        member=member, store=store, staff=None, amount=Decimal("40"), at=now - timedelta(days=550)
    )
    points_earn(member=member, store=store, staff=None, amount=Decimal("25"), at=now)
    member.refresh_from_db()
    return member


def link_in(message, what: str = "link") -> str:
    """Return the path of the membership link in a mail (`link`, `offers/confirm`...)."""
    import re

    match = re.search(
        rf"https?://[^/\s]+(/(?:nl|fr|de|en)/membership/{what}/[A-Za-z0-9_=-]+/)", message.body
    )
    assert match, f"no {what} link in the mail"
    return match.group(1)


@pytest.fixture
def signed_in(client, shopper, django_capture_on_commit_callbacks):
    """A client signed in to "my membership" as `shopper`, by the link from the mail."""
    from django.core import mail

    with django_capture_on_commit_callbacks(execute=True):
        client.post("/en/membership/", {"email": shopper.email})
    path = link_in(mail.outbox[-1])
    client.post(path)
    mail.outbox.clear()
    return client
