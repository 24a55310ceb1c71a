"""The public requests as a customer makes them, in Chromium: form, mail, link, done."""

from __future__ import annotations

import pytest
from django.core import mail

from loyalty.models import EidCard, LedgerEntry, Member
from privacy.models import PrivacyTicket, TicketState
from tests.privacy.conftest import LINK

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_customer_asks_for_erasure_and_confirms_by_the_link(
    live_server, page, screenshot, member, settings
):
    # given: a member with purchases, and a chain that schedules verified erasures at once
    settings.SITE_URL = live_server.url
    settings.PRIVACY_ERASURE_AUTO_APPROVE = True
    sales_before = LedgerEntry.objects.count()

    # when: they ask on the public form, in French
    page.goto(f"{live_server.url}/fr/privacy/erasure/")
    screenshot("form")
    page.fill("input[name=identifier]", member.email)
    page.get_by_role("button").click()
    page.wait_for_url("**/sent/erasure/")
    screenshot("sent")

    # then: the mail to the address on file carries a link that confirms, once
    assert [m.to for m in mail.outbox] == [[member.email]]
    link = LINK.search(mail.outbox[0].body).group(0)
    page.goto(link.replace(settings.SITE_URL, live_server.url))
    page.get_by_role("button").click()
    screenshot("confirmed")
    assert page.locator("main").inner_text()

    ticket = PrivacyTicket.objects.get()
    assert ticket.state == TicketState.COMPLETED
    assert not Member.objects.filter(pk=member.pk).exists()
    assert LedgerEntry.objects.count() == sales_before  # sales stay, without the person

    page.goto(link.replace(settings.SITE_URL, live_server.url))
    assert page.locator("main").inner_text()
    screenshot("link-used")


def test_a_customer_stops_eid_recognition_online_and_keeps_their_points(
    live_server, page, screenshot, member, settings
):
    # given: a member with an eID link and points, on the erasure form in Dutch
    settings.SITE_URL = live_server.url
    balance, number = member.points_balance, member.number
    page.goto(f"{live_server.url}/nl/privacy/erasure/")

    # when: they choose the lighter request instead, and send it
    page.get_by_role("navigation", name="Wat wilt u ons vragen?").get_by_role(
        "link", name="Herken mij niet meer aan mijn eID-kaart"
    ).click()
    page.wait_for_url("**/nl/privacy/eid/")
    screenshot("form")
    assert page.get_by_role("heading", level=1).inner_text() == (
        "Herken mij niet meer aan mijn eID-kaart"
    )
    page.fill("input[name=identifier]", member.email)
    page.get_by_role("button", name="Aanvraag versturen").click()
    page.wait_for_url("**/sent/eid_withdrawal/")
    screenshot("sent")

    # then: the link in the mail confirms, and the card is no longer recognised
    [link_mail] = mail.outbox
    link = LINK.search(link_mail.body).group(0)
    page.goto(link.replace(settings.SITE_URL, live_server.url))
    assert "U behoudt uw lidmaatschap" in page.locator("main").inner_text()
    page.get_by_role("button").click()
    page.wait_for_load_state()
    screenshot("confirmed")
    assert "herkennen u niet langer" in page.locator("main").inner_text()

    member.refresh_from_db()
    assert not EidCard.objects.filter(member=member).exists()
    assert (member.points_balance, member.number) == (balance, number)
    ticket = PrivacyTicket.objects.get()
    assert (ticket.kind, ticket.state) == ("eid_withdrawal", TicketState.COMPLETED)
    assert mail.outbox[-1].subject == "We herkennen u niet meer aan uw eID-kaart"
