"""Erasure end to end: nothing of the person left, the accounts intact, safe to re-run."""

from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from dateutil.relativedelta import relativedelta
from django.core.management import call_command
from django.db.models import Count, Sum
from django.utils import timezone

from loyalty.models import EidCard, LedgerEntry, Member
from loyalty.privacy import member_subject_key
from loyalty.purposes import Channel, Purpose
from privacy import services
from privacy.hashing import requester_digest
from privacy.models import (
    ConsentRecord,
    PrivacyTicket,
    RetentionRun,
    TicketKind,
    TicketSource,
    TicketState,
)
from privacy.registry import registry
from privacy.selectors import ticket_proof
from privacy.tasks import erasure_run, retention_run
from tests.factories import MemberFactory, StaffFactory
from tests.privacy.conftest import erase_at_counter, rate_limit_counter


def ledger_by_store() -> dict:
    return {
        row["store__code"]: (row["points"], row["amount"], row["n"])
        for row in LedgerEntry.objects.values("store__code")
        .annotate(points=Sum("points"), amount=Sum("purchase_amount"), n=Count("id"))
        .order_by("store__code")
    }


def test_whole_database_dump_holds_nothing_of_the_member(
    member, store, cashier, client, run_on_commit
):
    # given: consent, an access export, a public erasure request by e-mail
    key = member_subject_key(member)
    scan = services.consent_subject_new()
    services.consent_give(
        subject_key=scan,
        purpose=Purpose.EID_RECOGNITION,
        channel=Channel.COUNTER_EID,
        language="nl",
        store=store,
        staff=cashier,
    )
    services.consent_attach(from_key=scan, to_key=key)
    shown = services.ticket_open_at_counter(
        kind=TicketKind.ACCESS, subject_key=key, store=store, by=cashier, presented="card"
    )
    services.access_export_at_counter(ticket=shown, staff=cashier)
    bystander = MemberFactory(home_store=store)
    personal = [
        member.given_name,
        member.surname,
        member.email,
        member.email.split("@")[0],
        member.phone,
        member.phone[3:],
        member.number,
        member.eid_card.token,
        key,
    ]
    totals = ledger_by_store()
    with run_on_commit():
        client.post("/nl/privacy/erasure/", {"identifier": member.email})
    dump_before = io.StringIO()
    call_command("dumpdata", stdout=dump_before)
    assert member.email in dump_before.getvalue()
    from django.core import mail

    token = mail.outbox[0].body.split("/privacy/confirm/")[1].split("/")[0]

    # when
    with run_on_commit():
        client.post(f"/nl/privacy/confirm/{token}/")

    # then
    dump = io.StringIO()
    call_command("dumpdata", stdout=dump)
    text = dump.getvalue()
    for value in personal:
        assert value not in text, value
    assert bystander.email in text
    assert ledger_by_store() == totals
    assert LedgerEntry.objects.filter(member__isnull=True).count() == 3
    assert not LedgerEntry.objects.exclude(reference="").filter(member__isnull=True).exists()
    call_command("verify_consent_log", stdout=io.StringIO())


def test_erasure_counts_and_proof_without_personal_data(member, store, cashier, run_on_commit):
    with run_on_commit():
        ticket = erase_at_counter(member, store, cashier)

    ticket.refresh_from_db()
    proof = ticket_proof(ticket)
    assert proof["state"] == TicketState.COMPLETED
    # Other apps registered with privacy add their own counts.
    assert (
        proof["counts"]
        | {
            "loyalty.eid_cards": 1,
            "loyalty.ledger_entries_unlinked": 3,
            "loyalty.members": 1,
            "privacy.cache.rate_limit_counters": 0,
            "privacy.consent.consent_records_pseudonymised": 0,
            "privacy.tickets.tickets_unlinked": 0,
        }
        == proof["counts"]
    )
    assert proof["approved_by"] == cashier.username
    assert "outgoing e-mail provider (EMAIL_URL)" in proof["recipients_to_notify"]
    assert proof["requester_digest"] == requester_digest(member.email)
    assert ticket.subject_key is None
    assert member.email not in str(proof)
    # A repeated request from the same address is recognised.
    assert requester_digest(member.email.upper()) == ticket.requester_digest


def test_a_worker_dying_half_way_leaves_nothing_half_done_and_a_rerun_finishes(
    member, store, cashier, settings, monkeypatch
):
    settings.PRIVACY_ERASURE_AUTO_APPROVE = False
    ticket = erase_at_counter(member, store, cashier)
    services.ticket_approve(ticket=ticket, by=cashier)  # task not run: on_commit not fired
    consent_eraser = registry.erasers["privacy.consent"]

    def dies(subject_key):
        raise SystemExit("worker killed")

    # The worker dies after loyalty's eraser ran, before privacy's consent step.
    monkeypatch.setitem(
        registry.erasers, "privacy.consent", consent_eraser.__class__("privacy.consent", dies, 900)
    )
    with pytest.raises(SystemExit):
        erasure_run(ticket.pk)

    ticket.refresh_from_db()
    assert ticket.state == TicketState.SCHEDULED
    assert ticket.steps_done == []
    assert Member.objects.filter(pk=member.pk).exists()  # rolled back, not half erased

    monkeypatch.setitem(registry.erasers, "privacy.consent", consent_eraser)
    assert erasure_run(ticket.pk) == TicketState.COMPLETED
    assert erasure_run(ticket.pk) == TicketState.COMPLETED  # and again: nothing happens

    ticket.refresh_from_db()
    assert not Member.objects.filter(pk=member.pk).exists()
    assert ticket.steps_done == [e.name for e in registry.erasers_in_order()]
    assert ticket.steps_done[0] == "privacy.cache"
    assert ticket.steps_done[-2:] == ["privacy.consent", "privacy.tickets"]
    assert ticket.result_counts["loyalty.members"] == 1
    assert ticket.result_counts["loyalty.ledger_entries_unlinked"] == 3
    assert ticket.history.filter(to_state=TicketState.COMPLETED).count() == 1


def test_every_eraser_is_idempotent(member):
    key = member_subject_key(member)
    first = {e.name: e.erase(key) for e in registry.erasers_in_order()}
    second = {e.name: e.erase(key) for e in registry.erasers_in_order()}

    assert first["loyalty"]["members"] == 1
    assert all(n == 0 for counts in second.values() for n in counts.values())


def test_erasure_purges_cached_rate_limit_counters(member, store, cashier, client, run_on_commit):
    client.post("/nl/privacy/access/", {"identifier": member.email})
    assert rate_limit_counter(member.email) == 1

    with run_on_commit():
        ticket = erase_at_counter(member, store, cashier)

    ticket.refresh_from_db()
    assert ticket.result_counts["privacy.cache.rate_limit_counters"] == 1
    assert rate_limit_counter(member.email) is None


def test_queued_work_for_an_erased_member_does_nothing(member, store, cashier, run_on_commit):
    from privacy.tasks import access_run, ticket_link_send

    with run_on_commit():
        erase_at_counter(member, store, cashier)

    other = PrivacyTicket.objects.exclude(kind=TicketKind.ERASURE)
    assert not other.exists()
    assert ticket_link_send(999_999) is False
    assert access_run(999_999) is None


def test_erasure_unlinks_the_members_other_tickets(member, store, cashier, client, run_on_commit):
    with run_on_commit():
        client.post("/nl/privacy/access/", {"identifier": member.email})
    access = PrivacyTicket.objects.get(kind=TicketKind.ACCESS)
    assert access.token_hash

    with run_on_commit():
        erase_at_counter(member, store, cashier)

    access.refresh_from_db()
    assert access.subject_key is None
    assert access.token_hash is None


def test_a_rejected_ticket_is_not_erased(member, store, cashier, settings):
    settings.PRIVACY_ERASURE_AUTO_APPROVE = False
    ticket = erase_at_counter(member, store, cashier)
    services.ticket_reject(ticket=ticket, reason="Legal hold")

    assert erasure_run(ticket.pk) == TicketState.REJECTED
    assert Member.objects.filter(pk=member.pk).exists()


# Retention
def test_retention_erases_inactive_members_each_with_a_system_ticket(store, run_on_commit):
    old = timezone.now() - relativedelta(months=25)
    stale = MemberFactory.create_batch(3, home_store=store, last_activity_at=old)
    recent = MemberFactory(home_store=store, last_activity_at=timezone.now() - timedelta(days=30))

    with run_on_commit():
        opened = retention_run()

    assert opened == 3
    assert list(Member.objects.all()) == [recent]
    tickets = PrivacyTicket.objects.filter(source=TicketSource.RETENTION)
    assert tickets.count() == 3
    for ticket in tickets:
        assert ticket.state == TicketState.COMPLETED
        assert ticket.subject_key is None
        assert [s.to_state for s in ticket.history.all()] == [
            "received",
            "verified",
            "scheduled",
            "completed",
        ]
    assert {m.pk for m in stale}.isdisjoint(Member.objects.values_list("pk", flat=True))


def test_a_retention_run_that_finds_nobody_leaves_a_record(store, settings):
    # given: one member, active last month
    settings.PRIVACY_RETENTION_MONTHS = 24
    MemberFactory(home_store=store, last_activity_at=timezone.now() - timedelta(days=30))
    before = timezone.now()

    # when
    assert retention_run() == 0

    # then: the run is on record, with the cutoff it used and nothing opened
    run = RetentionRun.objects.get()
    assert before <= run.started_at <= run.finished_at <= timezone.now()
    assert run.cutoff == run.started_at - relativedelta(months=24)
    assert run.tickets_opened == 0
    assert not PrivacyTicket.objects.exists()


def test_a_retention_run_records_how_many_erasures_it_opened(store, run_on_commit):
    # given: two members inactive past the period, one not
    old = timezone.now() - relativedelta(months=25)
    MemberFactory.create_batch(2, home_store=store, last_activity_at=old)
    MemberFactory(home_store=store, last_activity_at=timezone.now())

    # when: the job runs twice
    with run_on_commit():
        retention_run()
    retention_run()

    # then: each run has its record; the first run's tickets were received when it started
    first, second = RetentionRun.objects.order_by("started_at")
    assert (first.tickets_opened, second.tickets_opened) == (2, 0)
    tickets = PrivacyTicket.objects.filter(source=TicketSource.RETENTION)
    assert {t.received_at for t in tickets} == {first.started_at}


def test_a_retention_run_holds_no_personal_data_or_subject_key():
    fields = {f.name for f in RetentionRun._meta.concrete_fields}

    assert fields == {
        "id",
        "started_at",
        "finished_at",
        "cutoff",
        "tickets_opened",
        "tickets_completed",
        "erased_counts",  # {"loyalty.members": n, ...}: counts per kind, summed over the run
    }


def test_retention_period_is_configurable(store, settings, run_on_commit):
    settings.PRIVACY_RETENTION_MONTHS = 6
    MemberFactory(home_store=store, last_activity_at=timezone.now() - relativedelta(months=7))

    with run_on_commit():
        assert retention_run() == 1


def test_retention_is_idempotent_and_skips_open_erasures(store, settings):
    old = timezone.now() - relativedelta(months=30)
    member = MemberFactory(home_store=store, last_activity_at=old)
    settings.PRIVACY_ERASURE_AUTO_APPROVE = False
    erase_at_counter(member, store, StaffFactory(store=store))

    assert retention_run() == 0
    assert retention_run() == 0
    assert PrivacyTicket.objects.count() == 1


def test_ledger_totals_survive_retention(store, run_on_commit):
    from loyalty.services import points_earn

    old = timezone.now() - relativedelta(months=30)
    members = MemberFactory.create_batch(4, home_store=store, last_activity_at=old)
    for m in members:
        points_earn(member=m, store=store, staff=None, amount=Decimal("10.00"), at=old)
    Member.objects.update(last_activity_at=old)
    totals = ledger_by_store()

    with run_on_commit():
        retention_run()

    assert ledger_by_store() == totals
    assert not EidCard.objects.exists()
    assert not ConsentRecord.objects.filter(subject_key__startswith="member:").exists()
