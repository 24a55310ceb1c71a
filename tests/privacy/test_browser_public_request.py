"""The public erasure request as a customer does it, in Chromium: form, mail, link, erasure."""

from __future__ import annotations

import pytest
from django.core import mail

from loyalty.models import LedgerEntry, Member
from privacy.models import PrivacyTicket, TicketState
from tests.privacy.conftest import LINK

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_customer_asks_for_erasure_and_confirms_by_the_link(
    live_server, page, screenshot, member, settings
):
    # given: a member with purchases, and a chain that schedules verified erasures at once
    settings.PRIVACY_SITE_URL = live_server.url
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
    page.goto(link.replace(settings.PRIVACY_SITE_URL, live_server.url))
    page.get_by_role("button").click()
    screenshot("confirmed")
    assert page.locator("main").inner_text()

    ticket = PrivacyTicket.objects.get()
    assert ticket.state == TicketState.COMPLETED
    assert not Member.objects.filter(pk=member.pk).exists()
    assert LedgerEntry.objects.count() == sales_before  # sales stay, without the person

    page.goto(link.replace(settings.PRIVACY_SITE_URL, live_server.url))
    assert page.locator("main").inner_text()
    screenshot("link-used")
