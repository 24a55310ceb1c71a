"""The data migration that replaces every stored eID token by its keyed hash."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps

from loyalty.eid_rules import eid_token_digest
from loyalty.models import EidCard
from tests.factories import EidCardFactory

pytestmark = pytest.mark.django_db

migration = importlib.import_module("loyalty.migrations.0005_eid_card_token_keyed_hash")


def test_existing_links_are_hashed_and_still_recognised(monkeypatch):
    # given: links stored as the agent sent them, more than one batch of them
    monkeypatch.setattr(migration, "BATCH", 2)
    tokens = [f"{n:064x}" for n in range(1, 6)]
    cards = [EidCardFactory(token=token) for token in tokens]

    migration.hash_tokens(apps, None)

    for card, token in zip(cards, tokens, strict=True):
        card.refresh_from_db()
        assert card.token == eid_token_digest(token) != token
    assert EidCard.objects.filter(token__in=tokens).count() == 0


def test_the_migration_and_the_service_hash_alike():
    assert migration.digest("ab" * 32) == eid_token_digest("ab" * 32)
