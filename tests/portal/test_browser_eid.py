"""Scan eID from the counter screen, through the real stack: Chromium, live server, reader
agent, pcscd with vpcd and the emulated card. Consent first, in the customer's language."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from loyalty.models import EidScan, JoinChannel, Member, ScanState
from privacy.models import ConsentRecord
from privacy.selectors import notice_current
from stores.models import EarningRule
from stores.services import reader_device_register
from tests.factories import StaffFactory, StoreFactory
from tests.pcsc_support import agent_key_file, agent_start_once, missing_requirements, pcsc_stack
from tests.portal.test_browser_counter import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def pcsc_available():
    reason = missing_requirements()
    if reason:
        pytest.skip(reason)


@pytest.mark.pcsc
def test_scan_eid_after_consent_with_the_emulated_card(
    pcsc_available, live_server, page: Page, screenshot, tmp_path
):
    store = StoreFactory(code="GNT01", name="Gent Korenmarkt", city="Teststad", language="nl")
    EarningRule.objects.create(store=store)
    StaffFactory(username="kassa.gent", store=store)
    _device, token = reader_device_register(store=store, name="Kassa 1")
    (tmp_path / "token").write_text(token)
    key_file = agent_key_file(tmp_path)
    log_in(page, live_server)

    # the consent screen: the customer reads the notice in French, the cashier works in English
    page.get_by_role("link", name="Scan eID").first.click()
    expect(page.locator(".notice")).to_contain_text("Mogen we uw eID-kaart lezen")  # store: nl
    page.get_by_role("link", name="Français").click()
    expect(page.locator(".notice")).to_contain_text("Pouvons-nous lire votre carte eID pour")
    expect(page.locator("#notice-text")).to_contain_text("registre national")
    expect(page.get_by_role("button", name="Oui, lisez ma carte")).to_be_focused()
    expect(page.get_by_text("Turn the screen to the customer.")).to_be_visible()
    screenshot("1-consent-fr")
    assert not ConsentRecord.objects.exists()  # nothing recorded, nothing read yet

    with pcsc_stack(card="alice", apdu_log=tmp_path / "apdu.log") as stack:
        agent = agent_start_once(
            server=live_server.url,
            token_file=tmp_path / "token",
            key_file=key_file,
            reader=stack.reader,
        )
        try:
            page.keyboard.press("Enter")  # "Oui": consent recorded, reader armed
            expect(page.get_by_text("Waiting for the card")).to_be_visible()
            screenshot("2-waiting")
            expect(page.get_by_text("Welcome, Alice! A new membership was created.")).to_be_visible(
                timeout=45_000
            )
            output, _ = agent.communicate(timeout=60)
        finally:
            if agent.poll() is None:
                agent.kill()
    screenshot("3-new-member")
    assert agent.returncode == 0, output.decode("utf-8", "replace")

    scan = EidScan.objects.get()
    member = Member.objects.get()
    assert scan.state == ScanState.COMPLETED and scan.member == member and scan.member_created
    assert member.joined_via == JoinChannel.EID
    consent = ConsentRecord.objects.get(subject_key=scan.consent_subject)
    # The notice the customer was shown: the eID notice's current French text, version 2
    shown = notice_current(purpose="eid_recognition", language="fr")
    assert (consent.language, consent.notice, consent.channel) == ("fr", shown, "counter_eid")
    assert shown.version == 2

    page.get_by_role("link", name="Open the member's page").click()
    expect(page.get_by_role("heading", name="Alice Peeters")).to_be_visible()
    expect(page.get_by_text("An eID card is linked.")).to_be_visible()
    screenshot("4-member")


def test_scan_waits_and_tells_when_the_reader_is_silent(live_server, page: Page, screenshot):
    """No agent running: the screen keeps waiting and says the reader program may be off."""
    store = StoreFactory(code="GNT01", name="Gent Korenmarkt", city="Gent", language="nl")
    EarningRule.objects.create(store=store)
    StaffFactory(username="kassa.gent", store=store)
    reader_device_register(store=store, name="Kassa 1")
    log_in(page, live_server)

    page.get_by_role("link", name="Scan eID").first.click()
    page.get_by_role("button", name="Ja, lees mijn kaart").click()  # the store's language: nl

    expect(page.get_by_text("Is the reader program running on this computer?")).to_be_visible()
    screenshot("1-reader-silent")
    scan = EidScan.objects.get()
    EidScan.objects.filter(pk=scan.pk).update(state=ScanState.FAILED, failure_code="card_removed")
    expect(page.get_by_text("The card was taken out too soon.")).to_be_visible(timeout=5000)
    screenshot("2-card-removed")
