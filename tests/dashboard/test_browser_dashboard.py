"""The dashboard in Chromium: head office logs in, opens every page, acts on a ticket,
registers and revokes a reader. Screenshots go to test-artifacts/screenshots/."""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from dashboard.forms import DEFAULT_PERIOD_DAYS
from dashboard.services import stats_recompute
from loyalty.models import JoinChannel
from loyalty.purposes import Channel, Purpose
from privacy import services as privacy_services
from stores.models import ReaderDevice, StaffRole
from tests.dashboard.conftest import EntryKind, entry, member_joined
from tests.factories import (
    HeadOfficeFactory,
    PrivacyTicketFactory,
    RetentionRunFactory,
    RewardFactory,
    StaffFactory,
    StoreFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pw-for-tests-only"


@pytest.fixture
def chain(transactional_db):
    """Three stores with twelve weeks of members, sales and redemptions, and privacy work."""
    rng = random.Random(6)
    stores = [
        StoreFactory(code="GNT01", name="Gent Korenmarkt", city="Gent"),
        StoreFactory(code="ANT01", name="Antwerpen Meir", city="Antwerpen"),
        StoreFactory(code="LIE01", name="Liège Carré", city="Liège", language="fr"),
    ]
    rewards = [
        RewardFactory(name="Koffie / Café", point_cost=50, stores=stores),
        RewardFactory(name="Herbruikbare tas / Sac", point_cost=120, stores=stores),
        RewardFactory(name="EUR 5 korting / réduction", point_cost=250, stores=stores),
    ]
    now = timezone.now()
    # The default period is the last 84 local days: whatever the hour the test runs at,
    # every member joins inside it (00:30 UTC minus 83 days and 8 hours is day 85).
    first_day = timezone.make_aware(
        datetime.combine(timezone.localdate() - timedelta(days=DEFAULT_PERIOD_DAYS - 1), time(1))
    )
    for n in range(90):
        store = stores[n % 3]
        joined = now - timedelta(days=rng.randint(0, 83), hours=rng.randint(0, 8))
        joined = max(joined, first_day)
        eid = rng.random() < 0.45
        member = member_joined(
            store,
            joined,
            joined_via=JoinChannel.EID if eid else JoinChannel.FORM,
            email=None if eid else f"m{n}@example.be",
        )
        when = joined
        for _ in range(rng.randint(1, 6)):
            when = min(now, when + timedelta(days=rng.randint(0, 10)))
            entry(member, store, EntryKind.EARN, rng.randint(5, 140), when)
            if rng.random() < 0.3:
                entry(member, store, EntryKind.REDEEM, -50, when, reward=rng.choice(rewards))
        if rng.random() < 0.1:
            entry(member, store, EntryKind.EXPIRE, -rng.randint(5, 40), when)
    stats_recompute(start=timezone.localdate() - timedelta(days=90), end=timezone.localdate())
    today = timezone.localdate()
    PrivacyTicketFactory(state="verified", due_on=today - timedelta(days=2), store=stores[0])
    PrivacyTicketFactory(state="received", due_on=today + timedelta(days=4))
    PrivacyTicketFactory(
        kind="access", state="awaiting_verification", due_on=today + timedelta(days=20)
    )
    last_night = now - timedelta(hours=8)
    # The run counts its erasures as they complete (what erasure_execute_batch keeps).
    RetentionRunFactory(
        started_at=last_night,
        tickets_opened=2,
        tickets_completed=2,
        erased_counts={"loyalty.eid_cards": 1, "loyalty.members": 2},
    )
    for counts in ({"loyalty.members": 1, "loyalty.eid_cards": 1}, {"loyalty.members": 1}):
        PrivacyTicketFactory(
            source="retention",
            state="completed",
            subject_key=None,
            received_at=last_night,
            result_counts=counts,
        )
    for n in range(6):
        privacy_services.consent_give(
            subject_key=f"member:{n}",
            purpose=(Purpose.LOYALTY_MEMBERSHIP, Purpose.EID_RECOGNITION)[n % 2],
            channel=Channel.COUNTER_EID if n % 2 else Channel.COUNTER_FORM,
            language="nl",
            store=stores[n % 3],
        )
    StaffFactory(username="kassa.gent", store=stores[0])
    StaffFactory(username="manager.gent", store=stores[0], store__role=StaffRole.STORE_MANAGER)
    HeadOfficeFactory(username="headoffice", email="ho@example.be")
    return stores


def login(page, live_server, username="headoffice"):
    page.context.add_cookies([{"name": "django_language", "value": "en", "url": live_server.url}])
    page.goto(f"{live_server.url}/office/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.press("input[name=password]", "Enter")
    page.wait_for_url(f"{live_server.url}/office/")


def test_head_office_opens_every_page(chain, live_server, page, screenshot):
    page.set_viewport_size({"width": 1280, "height": 900})
    login(page, live_server)

    assert page.locator("svg.chart").count() >= 5
    assert page.locator(".dash-kpi-value").first.inner_text() == "90"
    screenshot("figures")

    pages = [
        ("privacy/", "tickets", ".dash-overdue"),
        ("consent/", "consent", ".dash-chain-ok"),
        ("stores/", "stores", "text=GNT01"),
        ("stores/GNT01/", "store", "#readers"),
        ("rewards/", "rewards", "text=Koffie / Café"),
        ("staff/", "staff", "text=manager.gent"),
        ("notices/", "notices", "text=v1"),
        ("compliance/", "compliance", "#check-schema.dash-check-ok"),
    ]
    for path, name, expect in pages:
        page.goto(f"{live_server.url}/office/{path}")
        assert page.locator(expect).first.is_visible(), name
        screenshot(name)
    # the last page, compliance, shows last night's retention run
    assert "2 erasures opened, 2 completed." in page.locator("#check-retention").inner_text()


def test_head_office_acts_on_a_ticket(chain, live_server, page, screenshot, settings):
    # given: a chain where head office approves each verified erasure itself
    settings.PRIVACY_ERASURE_AUTO_APPROVE = False
    login(page, live_server)
    page.goto(f"{live_server.url}/office/privacy/")
    page.locator("tr.dash-soon a").first.click()
    screenshot("ticket-before")

    page.fill("textarea[name=reason] >> nth=0", "Records at a partner must be traced first")
    page.locator("form[action$='/extend/'] button").click()
    assert page.locator(".message-success").is_visible()
    assert "Records at a partner must be traced first" in page.locator(".dash-history").inner_text()

    page.fill("input[name=note]", "Member card and eID shown at the counter")
    page.locator("form[action$='/verify/'] button").click()
    assert page.locator("form[action$='/approve/']").is_visible()
    page.locator("form[action$='/approve/'] button").click()
    assert page.locator(".message-success").is_visible()
    assert "Member card and eID shown at the counter" in page.locator(".dash-history").inner_text()
    screenshot("ticket-after")


def test_head_office_registers_and_revokes_a_reader(chain, live_server, page, screenshot):
    login(page, live_server)
    page.goto(f"{live_server.url}/office/stores/GNT01/")

    page.fill("#readers input[name=name]", "Kassa 2 (links)")
    page.locator("#readers button[type=submit]", has_text="Register").click()
    token = page.get_by_test_id("device-token").inner_text()
    assert token.startswith("rd_")
    screenshot("reader-registered")

    page.goto(f"{live_server.url}/office/stores/GNT01/")
    assert token not in page.content()
    page.locator("#readers tr", has_text="Kassa 2 (links)").locator("button").click()
    assert (
        page.locator("#readers tr", has_text="Kassa 2 (links)").locator(".dash-badge").count() == 0
    )
    assert ReaderDevice.objects.get(name="Kassa 2 (links)").revoked_at is not None
    screenshot("reader-revoked")


def test_a_store_manager_sees_only_their_figures(chain, live_server, page, screenshot):
    login(page, live_server, "manager.gent")

    assert (
        page.locator("text=Privacy").count() == 0
        or not page.locator("a[href='/office/privacy/']").count()
    )
    assert "LIE01" not in page.content()
    screenshot("manager-figures")
