"""After each counter action the focus is where the cashier types next: no Tab needed.

The case the issue measured: after recording a purchase the focus went to the top of the page
and the next purchase cost 11 Tabs. Here two purchases follow each other with the keyboard only.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from loyalty.models import LedgerEntry, Member
from tests.factories import MemberFactory, RewardFactory
from tests.portal.test_browser_counter import gent, log_in  # noqa: F401 (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _described_by(page: Page) -> str:
    """Return the text of what the focused field's aria-describedby names."""
    return page.evaluate(
        """() => (document.activeElement.getAttribute('aria-describedby') || '')
            .split(/\\s+/).filter(Boolean)
            .map(id => document.getElementById(id).textContent.trim()).join(' ')"""
    )


def test_focus_after_each_counter_action(live_server, page: Page, gent):  # noqa: F811
    RewardFactory(name="Koffie", point_cost=50, stores=[gent])
    lotte = MemberFactory(home_store=gent, given_name="Lotte", surname="Peeters", points_balance=0)

    # signed in: the search box
    log_in(page, live_server)
    expect(page.locator("#id_query")).to_be_focused()

    # the scanner types the number and Enter: the member's page, at the purchase amount
    page.keyboard.type(lotte.number)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/members/mr_[\w-]+/$"))
    expect(page.locator("#id_amount")).to_be_focused()

    # a purchase, then the next one: typed straight away, no Tab
    page.keyboard.type("30")
    page.keyboard.press("Enter")
    expect(page.locator("#balance")).to_have_text("30")
    expect(page.locator("#id_amount")).to_be_focused()
    expect(page.locator("#id_amount")).to_have_value("")
    page.keyboard.type("25,50")
    page.keyboard.press("Enter")
    expect(page.locator("#balance")).to_have_text("55")
    expect(page.locator("#id_amount")).to_be_focused()

    # a refused amount: the focus stays on it, and its description is the error shown
    page.keyboard.type("abc")
    page.keyboard.press("Enter")
    expect(page.locator("#id_amount")).to_be_focused()
    expect(page.locator("#id_amount")).to_have_attribute("aria-invalid", "true")
    assert _described_by(page) == page.locator("#id_amount_error").inner_text().strip() != ""

    # a reward redeemed: back at the purchase amount
    page.get_by_role("button", name=re.compile("Koffie")).click()
    expect(page.locator("#balance")).to_have_text("5")
    expect(page.locator("#id_amount")).to_be_focused()

    # too many points: the focus goes to the points field the error is about
    page.locator("#id_redeem_points").fill("500")
    page.locator("#id_redeem_points").press("Enter")
    expect(page.locator("#id_redeem_points")).to_be_focused()
    assert "enough points" in _described_by(page)

    # joining with a bad phone: the focus goes to the phone; once joined, the purchase amount
    page.get_by_role("link", name="Join with the form").first.click()
    expect(page.locator("#id_given_name")).to_be_focused()
    page.keyboard.type("Fien")
    page.keyboard.press("Tab")
    page.keyboard.type("Claes")
    page.keyboard.press("Tab")
    page.keyboard.type("fien@example.be")
    page.keyboard.press("Tab")
    page.keyboard.type("12")
    page.keyboard.press("Enter")
    expect(page.locator("#id_phone")).to_be_focused()
    assert _described_by(page) == page.locator("#id_phone_error").inner_text().strip() != ""
    page.keyboard.press("Control+a")
    page.keyboard.type("0470 11 22 33")
    page.keyboard.press("Enter")
    expect(page.get_by_text(re.compile(r"Welcome, Fien!"))).to_be_visible()
    expect(page.locator("#id_amount")).to_be_focused()

    # an erasure asked at the counter: the code from the member's e-mail is typed next
    page.get_by_role("link", name="Erase this member's data").click()
    page.get_by_role("button", name="The customer is here and asks for erasure").click()
    expect(page.locator("input[name=code]")).to_be_focused()

    assert LedgerEntry.objects.filter(member=lotte).count() == 3
    assert Member.objects.filter(given_name="Fien").exists()
