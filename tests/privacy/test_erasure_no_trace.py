"""Erasure leaves nothing to stitch back (rule 7): a whole dump after erasing two members.

A form member confirmed by a code sent to their e-mail, and an eID member who joined through a
real scan and confirmed with their card; both edited by head office in the admin, both read
at the counter. After erasure the dump of every table holds none of their values, the admin's
change log no longer names them, and the ledger rows they leave behind carry no running
balance, no time of day and no per-person key: nothing to line them up by.
"""

from __future__ import annotations

import io
import json
from datetime import time, timedelta
from decimal import Decimal
from itertools import accumulate

import pytest
from django.contrib.admin.models import LogEntry
from django.core.management import call_command
from django.db.models import Count, Sum
from django.utils import timezone
from rest_framework.test import APIClient

from loyalty.eid_rules import eid_token_digest
from loyalty.models import EidScan, LedgerEntry, Member, MemberRead
from loyalty.privacy import member_subject_key
from loyalty.services import points_earn
from privacy import services
from privacy.models import PrivacyTicket, TicketKind, TicketState, TicketTask
from stores.services import reader_device_register
from tests.counter import member_ref
from tests.factories import HeadOfficeFactory, MemberFactory, StoreFactory
from tests.mailbox import mailed_code

pytestmark = pytest.mark.django_db

CARD = "c4" * 32


def ledger_by_store() -> dict:
    return {
        row["store__code"]: (row["points"], row["amount"], row["n"])
        for row in LedgerEntry.objects.values("store__code")
        .annotate(points=Sum("points"), amount=Sum("purchase_amount"), n=Count("id"))
        .order_by("store__code")
    }


def dump() -> str:
    out = io.StringIO()
    call_command("dumpdata", stdout=out)
    return out.getvalue()


def admin_edit(client, member, **changes) -> None:
    """Change a member through the admin's form, as head office does."""
    data = {
        "given_name": member.given_name,
        "surname": member.surname,
        "email": member.email or "",
        "phone": member.phone or "",
        "home_store": member.home_store_id,
        "status": member.status,
        **changes,
    }
    response = client.post(f"/admin/loyalty/member/{member.pk}/change/", data)
    assert response.status_code == 302, response.content[:2000]
    assert response.url == "/admin/loyalty/member/", response.url


def purchases(member, stores, tag) -> list[LedgerEntry]:
    return [
        points_earn(
            member=member,
            store=shop,
            staff=None,
            amount=Decimal(amount),
            reference=f"{tag}-receipt-{n}",
            idempotency_key=f"{tag}-till-{n}",
        )
        for n, (shop, amount) in enumerate(zip(stores, ("12.50", "40.00", "7.25"), strict=True))
    ]


@pytest.fixture
def people(store, cashier, api, client, django_capture_on_commit_callbacks):
    """Two members with everything a member leaves behind, and a bystander."""
    other = StoreFactory(code="LIE01", name="Liège Carré", city="Liège", language="fr")
    form = MemberFactory(
        home_store=store,
        given_name="Zoltanette",
        surname="Vandermaelstrom",
        email="zoltanette.v@example.be",
        phone="+32470999111",
    )
    purchases(form, (store, other, store), "zv")
    # The eID member joins through a real scan: consent under the scan's key, then the card.
    device, device_token = reader_device_register(store=store, name="Kassa 1")
    reader = APIClient()
    reader.credentials(HTTP_AUTHORIZATION=f"Device {device_token}")
    armed = api.post(
        "/api/v1/eid/scans/",
        {"store": store.code, "device": device.pk, "notice_language": "nl", "consent_given": True},
        format="json",
    )
    assert armed.status_code == 201, armed.content
    scan_id = armed.json()["scan_id"]
    posted = reader.post(
        f"/api/v1/device/scans/{scan_id}/result/",
        {"surname": "Quertinmont", "given_names": "Ysaline Aurore", "eid_token": CARD},
        format="json",
    )
    assert posted.status_code == 200, posted.content
    eid = Member.objects.get(surname="Quertinmont")
    scan_key = EidScan.objects.get(pk=scan_id).consent_subject
    purchases(eid, (other, store, other), "yq")
    bystander = MemberFactory(home_store=store, email="bystander@example.be")
    purchases(bystander, (store, store, other), "bs")
    # Head office edits both in the admin; the change log names them by number.
    client.force_login(HeadOfficeFactory(is_staff=True, is_superuser=True))
    admin_edit(client, form, phone="+32470999112")
    admin_edit(client, eid, status="blocked")
    admin_edit(client, bystander, status="blocked")
    # Counter reads of both.
    for member in (form, eid):
        found = api.get(
            f"/api/v1/members/{member_ref(member, staff=cashier, store=store)}/",
            {"store": store.code},
        )
        assert found.status_code == 200, found.content
    form.refresh_from_db()
    eid.refresh_from_db()
    values = {
        "form": [
            form.given_name,
            form.surname,
            form.email,
            form.email.split("@")[0],
            form.phone,
            form.phone[3:],
            form.number,
        ],
        "eid": [
            eid.given_name,
            eid.surname,
            eid.number,
            eid.eid_card.token,
            eid_token_digest(CARD),
            member_subject_key(eid),
            scan_key,
        ],
    }
    for member, tag in ((form, "zv"), (eid, "yq")):
        entries = LedgerEntry.objects.filter(member=member)
        values[tag] = [e.reference for e in entries] + [e.idempotency_key for e in entries]
    return {"form": form, "eid": eid, "bystander": bystander, "values": values}


def erase_both(people, store, cashier, api, django_capture_on_commit_callbacks) -> None:
    form, eid = people["form"], people["eid"]
    # The form member confirms with the code sent to their e-mail address.
    with django_capture_on_commit_callbacks(execute=True):
        ticket = services.ticket_open_at_counter(
            kind=TicketKind.ERASURE, subject_key=member_subject_key(form), store=store, by=cashier
        )
    assert PrivacyTicket.objects.get(pk=ticket.pk).code_hash
    code = mailed_code(form.email)
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_code_confirm(ticket=ticket, code=code, by=cashier)
    # The eID member confirms with their card, scanned just now.
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_open_at_counter(
            kind=TicketKind.ERASURE,
            subject_key=member_subject_key(eid),
            store=store,
            by=cashier,
            presented="card",
        )
    assert not Member.objects.filter(pk__in=[form.pk, eid.pk]).exists()
    assert set(PrivacyTicket.objects.values_list("state", flat=True)) == {TicketState.COMPLETED}


def test_a_whole_dump_after_erasure_holds_nothing_of_either_member(
    people, store, cashier, api, django_capture_on_commit_callbacks
):
    # given
    totals = ledger_by_store()
    before = dump()
    for value in people["values"]["form"] + people["values"]["eid"]:
        assert value in before, value  # the check below can fail

    # when
    erase_both(people, store, cashier, api, django_capture_on_commit_callbacks)

    # then
    text = dump()
    for tag in ("form", "eid", "zv", "yq"):
        for value in people["values"][tag]:
            assert value not in text, (tag, value)
    assert people["bystander"].email in text
    assert people["bystander"].number in text  # the bystander's admin log entry stays whole
    assert ledger_by_store() == totals


def test_the_admin_log_keeps_what_staff_did_not_whom_they_did_it_to(
    people, store, cashier, api, django_capture_on_commit_callbacks
):
    erase_both(people, store, cashier, api, django_capture_on_commit_callbacks)

    entries = LogEntry.objects.filter(content_type__model="member").order_by("pk")
    assert entries.count() == 3  # what head office did stays
    erased = [e for e in entries if e.object_id is None]
    assert len(erased) == 2
    assert all(e.object_repr == "" and e.change_message == "" for e in erased)
    kept = entries.exclude(object_id=None).get()
    assert kept.object_repr == people["bystander"].number


def test_the_rows_left_behind_cannot_be_chained(
    people, store, cashier, api, django_capture_on_commit_callbacks
):
    # given: the bystander's rows chain (previous balance + points = next balance)
    mine = list(LedgerEntry.objects.filter(member=people["form"]).order_by("created_at", "pk"))
    assert [e.balance_after for e in mine] == list(accumulate(e.points for e in mine))

    # when
    erase_both(people, store, cashier, api, django_capture_on_commit_callbacks)

    # then: every row without a member has the same balance, key and reference, and a time of
    # day that is the day's start: nothing a row of one person shares with their other rows
    left = LedgerEntry.objects.filter(member__isnull=True)
    assert left.count() == 6
    assert set(left.values_list("balance_after", "reference", "idempotency_key")) == {(0, "", None)}
    for entry in left:
        local = timezone.localtime(entry.created_at)
        assert local.time() == time(0, 0), local
    # and their day is the day they happened on: the per-day figures do not move
    today = timezone.localdate()
    assert {timezone.localtime(e.created_at).date() for e in left} <= {
        today,
        today - timedelta(days=1),
    }
    # No per-person key left on scans, card links, access records, tickets or their outbox.
    assert set(EidScan.objects.values_list("consent_subject", "member", "link_member")) == {
        ("", None, None)
    }
    assert not MemberRead.objects.exclude(member=None).exists()
    tickets = PrivacyTicket.objects.values_list(
        "subject_key", "token_hash", "code_hash", "code_expires_at"
    )
    assert set(tickets) == {(None, None, None, None)}
    outbox = json.dumps(list(TicketTask.objects.values_list("args", flat=True)))
    assert ":" not in outbox  # ticket ids and event names only


def test_erasing_again_finds_nothing(people):
    from privacy.registry import registry

    key = member_subject_key(people["eid"])
    first = {e.name: e.erase(key) for e in registry.erasers_in_order()}
    second = {e.name: e.erase(key) for e in registry.erasers_in_order()}

    assert first["loyalty"]["admin_log_entries_scrubbed"] == 1
    assert first["loyalty"]["eid_scans_unlinked"] == 1
    assert all(n == 0 for counts in second.values() for n in counts.values())
