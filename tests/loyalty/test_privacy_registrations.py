"""Loyalty's registrations with privacy (loyalty.privacy): resolver, eraser, exporter, hooks."""

from __future__ import annotations

import pytest

from loyalty.models import EidCard, LedgerEntry, Member
from loyalty.privacy import member_subject_key
from loyalty.purposes import EID_WITHDRAWAL, Channel, Purpose
from loyalty.services import member_eid_unlink
from privacy.registry import registry
from tests.factories import EidMemberFactory, MemberFactory


def test_members_resolve_by_email_any_case_and_by_number(db):
    member = MemberFactory(email="Jo.Peeters@Example.be")

    by_mail = registry.subject_find("jo.peeters@example.be")
    by_number = registry.subject_find(member.number)

    assert by_mail == by_number
    assert by_mail.key == member_subject_key(member)
    assert by_mail.email == member.email
    assert by_mail.language == member.home_store.language
    assert by_mail.identifiers == ("jo.peeters@example.be", member.number)


def test_unknown_or_malformed_identifiers_resolve_to_nobody(db):
    member = MemberFactory()
    wrong_check_digit = member.number[:-1] + str((int(member.number[-1]) + 1) % 10)

    assert registry.subject_find("stranger@example.be") is None
    assert registry.subject_find(wrong_check_digit) is None
    assert registry.subject_get("member:not-a-number") is None
    assert registry.subject_get("member:999999") is None
    assert registry.subject_get("other:1") is None


def test_the_eraser_deletes_the_person_and_keeps_the_sales(db):
    member = EidMemberFactory()
    LedgerEntry.objects.create(
        member=member,
        store=member.home_store,
        kind="earn",
        points=5,
        balance_after=5,
        purchase_amount="5.00",
        reference="typed at the till",
        idempotency_key="key-1",
        created_at=member.created_at,
    )

    counts = registry.erasers["loyalty"].erase(member_subject_key(member))

    assert counts == {
        "members": 1,
        "eid_cards": 1,
        "ledger_entries_unlinked": 1,
        "eid_scans_unlinked": 0,
        "admin_log_entries_scrubbed": 0,
    }
    assert not Member.objects.exists()
    assert not EidCard.objects.exists()
    entry = LedgerEntry.objects.get()
    assert (entry.member, entry.reference, entry.idempotency_key) == (None, "", None)
    assert (entry.points, str(entry.purchase_amount), entry.store) == (5, "5.00", member.home_store)
    assert entry.balance_after == 0  # a running balance would chain the rows back together


def test_the_exporter_gives_profile_and_ledger(db):
    member = MemberFactory()

    export = registry.exporters["loyalty"](member_subject_key(member))

    assert export["profile"][0]["email"] == member.email
    assert export["profile"][0]["number"] == member.number
    assert export["ledger"] == []
    assert registry.exporters["loyalty"]("member:999999") == {}


def test_member_eid_unlink_keeps_number_and_points(db):
    member = EidMemberFactory(points_balance=120)

    assert member_eid_unlink(member=member) is True
    assert member_eid_unlink(member=member) is False

    member.refresh_from_db()
    assert not hasattr(member, "eid_card")
    assert member.points_balance == 120


def test_loyalty_registers_everything_privacy_asks_for():
    assert "member" in registry.resolvers
    assert "loyalty" in registry.erasers
    assert "loyalty" in registry.exporters
    assert "loyalty" in registry.retention_sources
    assert "loyalty" in registry.recipient_sources
    assert registry.withdrawal_hooks[Purpose.EID_RECOGNITION]
    assert {str(p) for p in Purpose.values} <= set(registry.declarations)
    assert set(Purpose.values) <= set(registry.purposes)
    assert set(Channel.values) <= set(registry.channels)
    assert registry.withdrawal_kinds[EID_WITHDRAWAL].purpose == Purpose.EID_RECOGNITION
    assert EID_WITHDRAWAL in registry.ticket_kinds


def test_withdrawing_the_membership_erases_the_member_and_nothing_else_does():
    erasing = {p.code for p in registry.purposes.values() if p.erases_on_withdrawal}

    assert erasing == {Purpose.LOYALTY_MEMBERSHIP}


def test_each_purpose_is_in_the_record_of_processing_under_its_own_code():
    for code, purpose in registry.purposes.items():
        assert registry.declarations[code] is purpose.declaration


@pytest.mark.parametrize("model", ["Member", "EidCard", "LedgerEntry"])
def test_every_model_with_personal_data_is_in_the_record_of_processing(model):
    stored = {label for d in registry.declarations.values() for label in d.stored_in}

    assert f"loyalty.{model}" in stored
