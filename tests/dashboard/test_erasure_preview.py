"""Head office sees what an erasure will remove and keep before approving; the proof re-scans.

Head office's pages answer in Dutch by default: the page's words are checked in Dutch.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.urls import reverse

from loyalty.models import LedgerEntry, Member
from loyalty.privacy import member_subject_key
from loyalty.services import points_earn
from privacy import services as privacy_services
from privacy.models import PrivacyTicket, TicketKind, TicketState
from privacy.services.erasure_preview import erasure_preview
from tests.factories import EidCardFactory, MemberFactory, StaffFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def waiting(gent, head_office, settings):
    """A verified erasure of a member with a card, three purchases and an admin log entry."""
    settings.PRIVACY_ERASURE_AUTO_APPROVE = False
    member = MemberFactory(home_store=gent, email="preview.me@example.be")
    EidCardFactory(member=member)
    for n in range(3):
        points_earn(
            member=member, store=gent, staff=None, amount=Decimal("10.00"), reference=f"r{n}"
        )
    LogEntry.objects.log_actions(
        user_id=head_office.pk,
        queryset=[member],
        action_flag=CHANGE,
        change_message='[{"changed": {"fields": ["Phone"]}}]',
        single_object=True,
    )
    ticket = privacy_services.ticket_open_at_counter(
        kind=TicketKind.ERASURE,
        subject_key=member_subject_key(member),
        store=gent,
        by=StaffFactory(store=gent),
        presented="card",
    )
    assert ticket.state == TicketState.VERIFIED
    return member, ticket


def test_the_ticket_page_shows_what_will_go_and_stay_and_changes_nothing(office, waiting):
    member, ticket = waiting
    balances = list(
        LedgerEntry.objects.filter(member=member).values_list("balance_after", "created_at")
    )

    page = office.get(reverse("dashboard:ticket", args=[ticket.pk]))

    html = page.content.decode()
    assert page.status_code == 200
    assert 'id="erasure-preview"' in html
    assert "ledenprofielen: <strong>1</strong>" in html
    assert "koppelingen met een eID-kaart: <strong>1</strong>" in html
    assert (
        "boekingen bewaard voor de boekhouding: zonder lid, saldo of tijdstip: <strong>3</strong>"
        in html
    )
    assert "regels in het beheerlogboek, zonder het lidnummer: <strong>1</strong>" in html
    assert "uitgaande e-mailprovider (EMAIL_URL)" in html  # nl: the recipient, translated
    assert member.email not in html and member.number not in html
    # nothing changed: the preview was rolled back
    assert Member.objects.filter(pk=member.pk).exists()
    assert member.eid_card.pk
    after = list(
        LedgerEntry.objects.filter(member=member).values_list("balance_after", "created_at")
    )
    assert after == balances
    assert LogEntry.objects.get().object_repr == member.number


def test_the_preview_counts_what_the_erasure_then_does(
    office, waiting, django_capture_on_commit_callbacks
):
    member, ticket = waiting
    preview = erasure_preview(subject_key=member_subject_key(member))
    flat = {
        f"{step['eraser']}.{kind}": n
        for step in preview["erasers"]
        for kind, n in {**step["removes"], **step["keeps"]}.items()
    }

    with django_capture_on_commit_callbacks(execute=True):
        office.post(reverse("dashboard:ticket_action", args=[ticket.pk, "approve"]))

    ticket.refresh_from_db()
    assert ticket.state == TicketState.COMPLETED
    assert ticket.result_counts == flat
    assert flat["loyalty.ledger_entries_unlinked"] == 3
    assert preview["kept"] >= 3 + 1 and preview["removed"] >= 2
    # the re-scan: the same scan after the erasure, every count 0
    assert set(ticket.rescan_counts) == set(flat)
    assert set(ticket.rescan_counts.values()) == {0}
    page = office.get(reverse("dashboard:ticket", args=[ticket.pk])).content.decode()
    assert 'id="erasure-preview"' not in page
    assert 'id="erasure-rescan"' in page
    assert f"vond niets meer ({len(flat)} tellingen nagekeken)" in page


def test_a_rescan_that_finds_something_says_so(office, waiting):
    _, ticket = waiting
    PrivacyTicket.objects.filter(pk=ticket.pk).update(
        state=TicketState.COMPLETED, rescan_counts={"loyalty.members": 1, "loyalty.eid_cards": 0}
    )

    page = office.get(reverse("dashboard:ticket", args=[ticket.pk])).content.decode()

    assert "Dezelfde controle vindt nog gegevens van de persoon:" in page
    assert "<li>ledenprofielen: 1</li>" in page
    assert "eID-kaart" not in page
