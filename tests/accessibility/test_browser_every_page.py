"""Every page, customer and staff, in every language: axe-core (WCAG 2.1 AA) finds nothing,
and neither do the hand checks axe skips (ids used twice, references to missing ids, fields
without a label). Pages with a form are also checked showing their errors.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import Page, expect

from dashboard.services import stats_recompute
from loyalty.services import points_earn
from loyalty.wallet import wallet_link_issue
from membership.services import unsubscribe_token
from privacy.models import NoticeVersion, PrivacyTicket
from stores.models import EarningRule, StaffRole
from stores.services import campaign_create, chain_settings_save, reader_device_register
from tests.accessibility.checks import page_problems
from tests.counter import member_ref
from tests.factories import (
    EidMemberFactory,
    HeadOfficeFactory,
    MemberFactory,
    PrivacyTicketFactory,
    RetentionRunFactory,
    RewardFactory,
    StaffFactory,
    StoreFactory,
)
from tests.mailbox import mail_with
from tests.membership.conftest import link_in
from tests.privacy.conftest import LINK

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pw-for-tests-only"
LANGUAGES = [code for code, _name in settings.LANGUAGES]


@pytest.fixture
def chain(transactional_db, settings):
    # The wallet set up (its pages and the counter's QR code show; no pass is built here).
    for name in (
        "WALLET_APPLE_PASS_TYPE_ID",
        "WALLET_APPLE_TEAM_ID",
        "WALLET_APPLE_CERT",
        "WALLET_APPLE_KEY",
        "WALLET_APPLE_WWDR",
        "WALLET_GOOGLE_ISSUER_ID",
        "WALLET_GOOGLE_CLASS",
        "WALLET_GOOGLE_SERVICE_ACCOUNT",
    ):
        setattr(settings, name, "set")
    gent = StoreFactory(code="GNT01", name="Gent Korenmarkt", city="Gent", language="nl")
    liege = StoreFactory(code="LIE01", name="Liège Carré", city="Liège", language="fr")
    for store in (gent, liege):
        EarningRule.objects.create(store=store)
    cashier = StaffFactory(username="kassa.gent", store=gent)
    manager = StaffFactory(username="manager.gent", store=gent, store__role=StaffRole.STORE_MANAGER)
    HeadOfficeFactory(username="headoffice")
    reader_device_register(store=gent, name="Kassa 1")
    RewardFactory(name="Koffie", point_cost=50, stores=[gent, liege])
    RewardFactory(name="Tas", point_cost=5000, stores=[gent])
    now = timezone.now()
    campaign_create(
        store=gent,
        name="Lente",
        multiplier=Decimal("2"),
        starts_at=now - timedelta(days=1),
        ends_at=now + timedelta(days=6),
    )
    lotte = MemberFactory(
        home_store=gent, given_name="Lotte", surname="Peeters", email="lotte@example.be"
    )
    MemberFactory(home_store=gent, given_name="Wout", surname="Peeters")
    EidMemberFactory(home_store=liege, given_name="Bruno", surname="Dubois")
    points_earn(member=lotte, store=gent, staff=cashier, amount="42.50", idempotency_key="a11y-1")
    points_earn(member=lotte, store=liege, staff=None, amount="12.00", idempotency_key="a11y-2")
    stats_recompute(start=timezone.localdate() - timedelta(days=30), end=timezone.localdate())
    today = timezone.localdate()
    ticket = PrivacyTicketFactory(state="verified", due_on=today + timedelta(days=3), store=gent)
    PrivacyTicketFactory(kind="access", state="received", due_on=today - timedelta(days=1))
    RetentionRunFactory(started_at=now - timedelta(hours=8), tickets_opened=1)
    return {
        "gent": gent,
        "cashier": cashier,
        "manager": manager,
        "lotte": lotte,
        "ticket": ticket,
    }


class Sweep:
    """Visit pages and keep every problem found, by page and language."""

    def __init__(self, page: Page, base: str, language: str):
        self.page, self.base, self.language = page, base, language
        self.problems: list[str] = []
        self.pages = 0

    def check(self, what: str) -> None:
        self.page.wait_for_load_state()
        self.pages += 1
        self.problems += [
            f"[{self.language}] {what} ({self.page.url}): {p}" for p in page_problems(self.page)
        ]

    def visit(self, path: str, what: str | None = None) -> None:
        self.page.goto(self.base + path)
        self.check(what or path)


def signed_in(browser, live_server, username: str, language: str) -> Page:
    context = browser.new_context(locale="en-GB")
    context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
    page = context.new_page()
    page.goto(f"{live_server.url}/counter/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.press("#id_password", "Enter")
    page.wait_for_load_state()
    return page


def report(sweeps: list[Sweep]) -> str:
    lines = [p for s in sweeps for p in s.problems]
    return f"{len(lines)} problems:\n" + "\n".join(lines)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_counter_page(live_server, browser, chain, language):
    anonymous = browser.new_context()
    anonymous.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
    login = Sweep(anonymous.new_page(), live_server.url, language)
    login.visit("/counter/login/")
    login.page.fill("#id_username", "kassa.gent")
    login.page.fill("#id_password", "wrong")
    login.page.press("#id_password", "Enter")
    login.check("login refused")

    page = signed_in(browser, live_server, "kassa.gent", language)
    sweep = Sweep(page, live_server.url, language)
    ref = member_ref(chain["lotte"], staff=chain["cashier"], store=chain["gent"])
    member = f"/counter/GNT01/members/{ref}/"

    sweep.visit("/counter/GNT01/", "counter")
    page.locator("#id_query").fill("peeters l")
    expect(page.locator("#results table")).to_be_visible()
    sweep.check("search results")
    page.locator("#id_query").fill("zzzz")
    expect(page.locator("#results a")).to_have_count(1)  # "join with the form" instead
    sweep.check("search without result")

    sweep.visit("/counter/GNT01/join/", "join")
    page.locator("#id_given_name").fill("Fien")
    page.locator("#id_phone").fill("12")
    page.locator("form[action$='/join/'] button[type=submit]").click()
    sweep.check("join with errors")

    sweep.visit("/counter/GNT01/eid/", "eID consent")
    sweep.visit("/counter/GNT01/eid/?lang=fr", "eID consent, customer in French")
    page.locator("form.consent-answer button[type=submit]").click()
    expect(page.locator("#scan-state")).to_be_visible()
    sweep.check("eID scan waiting")

    sweep.visit(member, "member")
    page.locator("#id_amount").fill("abc")
    page.locator("#id_amount").press("Enter")
    sweep.check("member, purchase refused")
    page.locator("#id_redeem_points").fill("99999")
    page.locator("#id_redeem_points").press("Enter")
    sweep.check("member, points refused")
    expect(page.locator(".wallet-qr svg")).to_be_visible()
    sweep.visit(member + "card/", "member card")
    sweep.visit(member + "receipt/", "consent receipt")
    sweep.visit(member + "erasure/", "erasure")
    page.locator("main form button.danger").click()
    expect(page.locator("input[name=code]")).to_be_visible()
    sweep.check("erasure waiting for the code")
    page.locator("input[name=code]").fill("000000")
    page.locator("input[name=code]").press("Enter")
    sweep.check("erasure, wrong code")
    sweep.visit("/counter/GNT01/members/mr_not-a-reference/", "problem page")

    manager = signed_in(browser, live_server, "headoffice", language)
    picker = Sweep(manager, live_server.url, language)
    picker.visit("/counter/stores/", "store choice")

    sweeps = [login, sweep, picker]
    assert sum(s.pages for s in sweeps) == 20
    assert not [p for s in sweeps for p in s.problems], report(sweeps)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_dashboard_page(live_server, browser, chain, language):
    page = signed_in(browser, live_server, "headoffice", language)
    sweep = Sweep(page, live_server.url, language)
    notice = NoticeVersion.objects.order_by("pk").first()
    for path in (
        "/office/",
        "/office/privacy/",
        f"/office/privacy/{chain['ticket'].pk}/",
        "/office/consent/",
        "/office/stores/",
        "/office/stores/GNT01/",
        "/office/rewards/",
        "/office/staff/",
        "/office/chain/",
        "/office/notices/",
        f"/office/notices/{notice.pk}/",
        "/office/reads/",
        "/office/compliance/",
    ):
        sweep.visit(path)
    # the store page's forms, answering with their errors
    sweep.visit("/office/stores/GNT01/")
    page.locator("form[action$='/campaigns/'] button[type=submit]").evaluate(
        "b => b.closest('form').noValidate = true"
    )
    page.locator("details summary").first.click()
    page.locator("form[action$='/campaigns/'] button[type=submit]").click()
    sweep.check("campaign refused")
    page.locator("form[action$='/devices/']").evaluate("f => f.noValidate = true")
    page.locator("form[action$='/devices/'] button[type=submit]").click()
    sweep.check("reader refused")

    manager = Sweep(
        signed_in(browser, live_server, "manager.gent", language), live_server.url, language
    )
    manager.visit("/office/", "figures, store manager")
    manager.visit("/office/privacy/", "head office only")
    manager.visit("/office/readers/", "readers, before head office allows it")
    chain_settings_save(name="", privacy_contact="", site_url="", managers_register_readers=True)
    manager.visit("/office/readers/", "readers, the manager's own store")

    sweeps = [sweep, manager]
    assert sum(s.pages for s in sweeps) == 20
    assert not [p for s in sweeps for p in s.problems], report(sweeps)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_public_page(live_server, browser, chain, language, settings):
    settings.SITE_URL = live_server.url
    page = browser.new_context().new_page()
    sweep = Sweep(page, live_server.url, language)
    sweep.visit(f"/{language}/", "home")
    for kind in ("erasure", "access", "eid"):
        sweep.visit(f"/{language}/privacy/{kind}/")
    page.locator("form button[type=submit]").click()
    sweep.check("request without an address")
    page.locator("input[name=identifier]").fill(chain["lotte"].email)
    page.locator("form button[type=submit]").click()
    page.wait_for_url("**/sent/eid_withdrawal/")
    sweep.check("request sent")
    link = LINK.search(mail_with("/privacy/confirm/").body).group(0)
    page.goto(link)
    sweep.check("confirm")
    page.locator("main form button[type=submit]").click()
    sweep.check("confirmed")
    sweep.visit(f"/{language}/privacy/confirm/not-a-token/", "link invalid")
    sweep.visit(f"/{language}/wallet/{wallet_link_issue(chain['lotte'])}/", "the card in the phone")
    assert sweep.pages == 10
    assert not sweep.problems, report([sweep])


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_membership_page(live_server, browser, chain, language, settings):
    settings.SITE_URL = live_server.url
    page = browser.new_context().new_page()
    sweep = Sweep(page, live_server.url, language)
    sweep.visit(f"/{language}/membership/", "sign-in")
    page.locator("form button[type=submit]").click()
    sweep.check("sign-in without an address")
    page.locator("input[name=email]").fill(chain["lotte"].email)
    page.locator("form button[type=submit]").click()
    page.wait_for_url("**/membership/sent/")
    sweep.check("sign-in link sent")
    page.goto(live_server.url + link_in(mail_with("/membership/link/")))
    sweep.check("sign-in link")
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/membership/me/")
    sweep.check("my membership")
    page.locator("form[action$='/me/offers/'] button[type=submit]").click()
    sweep.check("offers asked")
    offers = mail_with("/membership/offers/confirm/")
    page.goto(live_server.url + link_in(offers, "offers/confirm"))
    sweep.check("offers confirm")
    page.locator("main form button[type=submit]").click()
    sweep.check("offers confirmed")
    sweep.visit(f"/{language}/membership/me/", "my membership, offers given, wallet buttons")
    expect(page.locator(".wallet-buttons a")).to_have_count(2)
    sweep.visit(f"/{language}/membership/me/erasure/", "erasure")
    sweep.visit(f"/{language}/membership/link/not-a-token/", "link invalid")
    # the unsubscribe link of an offer mail, without signing in
    token = unsubscribe_token(member=chain["lotte"])
    page.context.clear_cookies()
    sweep.visit(f"/{language}/membership/offers/unsubscribe/{token}/", "unsubscribe")
    page.locator("main form button[type=submit]").click()
    sweep.check("unsubscribed")
    # last: the erasure asked from my membership (signed in again)
    page.goto(f"{live_server.url}/{language}/membership/")
    page.locator("input[name=email]").fill(chain["lotte"].email)
    page.locator("form button[type=submit]").click()
    page.wait_for_url("**/membership/sent/")
    page.goto(live_server.url + link_in(mail_with("/membership/link/")))
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/membership/me/")
    sweep.visit(f"/{language}/membership/me/erasure/", "erasure, asked")
    page.locator("main form button[type=submit]").click()
    sweep.check("erasure requested")
    assert PrivacyTicket.objects.filter(kind="erasure", source="signed_in").exists()
    assert sweep.pages == 15
    assert not sweep.problems, report([sweep])
