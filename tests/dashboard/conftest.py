"""Fixtures for the dashboard: a small chain, its staff, and ledger rows at chosen times."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.test import Client
from django.utils import timezone

from loyalty.models import EntryKind, LedgerEntry, Member
from stores.models import StaffRole
from tests.factories import HeadOfficeFactory, MemberFactory, StaffFactory, StoreFactory

BRUSSELS = timezone.get_fixed_timezone(60)  # winter time, for readable fixed datetimes


def at(text: str) -> datetime:
    """Return an aware datetime from 'YYYY-MM-DD HH:MM' in Brussels winter time."""
    return datetime.fromisoformat(text).replace(tzinfo=BRUSSELS)


def entry(member, store, kind, points, when, reward=None, amount=None) -> LedgerEntry:
    """Write one ledger row straight away (figures only read rows; balances do not matter)."""
    return LedgerEntry.objects.create(
        member=member,
        store=store,
        kind=kind,
        points=points,
        balance_after=10_000,
        purchase_amount=amount,
        reward=reward,
        created_at=when,
    )


def member_joined(store, when, **kwargs) -> Member:
    member = MemberFactory(home_store=store, **kwargs)
    Member.objects.filter(pk=member.pk).update(created_at=when)
    member.created_at = when
    return member


@pytest.fixture
def gent(db):
    return StoreFactory(code="GNT01", name="Gent Korenmarkt", city="Gent")


@pytest.fixture
def liege(db):
    return StoreFactory(code="LIE01", name="Liège Carré", city="Liège", language="fr")


@pytest.fixture
def head_office(db):
    return HeadOfficeFactory(username="headoffice", email="ho@example.be")


@pytest.fixture
def manager(gent):
    return StaffFactory(username="manager.gent", store=gent, store__role=StaffRole.STORE_MANAGER)


@pytest.fixture
def gent_cashier(gent):
    return StaffFactory(username="kassa.gent", store=gent)


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def office(head_office) -> Client:
    return client_for(head_office)


__all__ = ["EntryKind", "at", "client_for", "entry", "member_joined"]
