"""The customer's side in Chromium: the privacy centre from /, then "my membership"."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.sync_api import expect

from loyalty.models import EidCard, Member
from loyalty.privacy import member_subject_key
from privacy.selectors import consent_latest
from tests.factories import RewardFactory
from tests.mailbox import mail_with
from tests.membership.conftest import link_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_member_finds_the_privacy_centre_signs_in_and_uses_their_rights(
    live_server, page, screenshot, shopper, settings
):
    settings.SITE_URL = live_server.url
    settings.PRIVACY_ERASURE_AUTO_APPROVE = True
    RewardFactory(name="Koffie", point_cost=50, stores=[shopper.home_store])
    page.context.add_cookies([{"name": "django_language", "value": "en", "url": live_server.url}])

    # the privacy centre, from /
    page.goto(f"{live_server.url}/")
    screenshot("home")
    expect(page.get_by_role("heading", name="Privacy centre")).to_be_visible()
    page.get_by_role("link", name="Ask for a copy of your data").click()
    page.wait_for_url("**/en/privacy/access/")
    page.go_back()

    # sign in with the link from the mail
    page.get_by_role("link", name="My membership").first.click()
    page.wait_for_url("**/en/membership/")
    page.get_by_label("Your e-mail address").fill(shopper.email)
    page.get_by_role("button", name="Send me a sign-in link").click()
    page.wait_for_url("**/en/membership/sent/")
    screenshot("sent")
    page.goto(live_server.url + link_in(mail_with("/membership/link/")))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/en/membership/me/")
    screenshot("me")

    # balance and expiring points
    expect(page.get_by_test_id("balance")).to_have_text("65")
    expiry = page.get_by_role("table").first
    expect(expiry.get_by_role("row")).to_have_count(3)  # header, the 40 and the 25
    expect(page.get_by_text("Koffie: 50 points, yours at the counter")).to_be_visible()

    # offers by e-mail: in with the link from the mail, then out again
    page.get_by_role("button", name="Send me offers by e-mail").click()
    expect(page.get_by_role("status")).to_contain_text("we sent you an e-mail")
    page.goto(live_server.url + link_in(mail_with("/membership/offers/confirm/"), "offers/confirm"))
    page.get_by_role("button", name="Yes, send me offers").click()
    expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    key = member_subject_key(shopper)
    assert consent_latest(subject_key=key, purpose="marketing_email").action == "given"
    page.goto(f"{live_server.url}/en/membership/me/")
    page.get_by_role("button", name="Stop offers by e-mail").click()
    expect(page.get_by_role("status")).to_contain_text("no longer receive offers")
    assert consent_latest(subject_key=key, purpose="marketing_email").action == "withdrawn"

    # withdraw eID recognition, keeping the points
    page.get_by_role("button", name="Stop recognising my eID card").click()
    expect(page.get_by_role("status")).to_contain_text("no longer recognise you")
    expect(page.get_by_test_id("balance")).to_have_text("65")
    assert not EidCard.objects.filter(member=shopper).exists()
    screenshot("choices-done")

    # download the data
    with page.expect_download() as download:
        page.get_by_role("link", name="Download my data (JSON)").click()
    data = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    assert data["sections"]["profile"][0]["number"] == shopper.number

    # ask for erasure
    page.get_by_role("link", name="Ask us to erase your data").click()
    screenshot("erasure")
    page.get_by_role("button", name="Erase my data").click()
    expect(page.get_by_role("heading", name="Request received")).to_be_visible()
    screenshot("erased")
    assert not Member.objects.filter(pk=shopper.pk).exists()
