"""The pages pass the Content Security Policy in Chromium: no inline script, no inline style.

Chromium reports every refused inline script, handler or style on the console; each page is
opened as the person who uses it and must produce no such report. Pages whose templates still
carry inline code are listed in KNOWN with the file and line to fix; such an entry fails once
the page is clean, so the list cannot go stale.
"""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page

from loyalty.models import Member
from stores.models import EarningRule, StaffRole
from tests.counter import member_ref
from tests.factories import HeadOfficeFactory, MemberFactory, StaffFactory, StoreFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pw-for-tests-only"

# path template -> where the inline code is (owner fixes the template, then removes the entry).
KNOWN: dict[str, str] = {}


@pytest.fixture
def shop(db):
    store = StoreFactory(code="GNT01", name="Gent", language="nl")
    EarningRule.objects.create(store=store)
    StaffFactory(username="kassa.csp", store=store)
    StaffFactory(username="manager.csp", store=store, store__role=StaffRole.STORE_MANAGER)
    HeadOfficeFactory(username="office.csp", is_staff=True, is_superuser=True)
    return MemberFactory(home_store=store)


# Inline code in the HTML as served: Chromium reports an inline handler only when it runs.
INLINE = re.compile(
    r"<script(?![^>]*\bsrc=)(?![^>]*application/(?:ld\+)?json)[^>]*>|<style[\s>]"
    r"|\s(?:on[a-z]+|style)\s*=",
    re.IGNORECASE,
)


def _violations(page: Page, url: str) -> list[str]:
    found: list[str] = []

    def keep(message):
        if "Content Security Policy" in message.text:
            found.append(message.text[:200])

    page.on("console", keep)
    response = page.goto(url)
    page.wait_for_load_state("networkidle")
    page.remove_listener("console", keep)
    found += [f"inline in HTML: {m.group(0).strip()}" for m in INLINE.finditer(response.text())]
    return found


def _log_in(page: Page, base: str, username: str) -> None:
    page.goto(base + "/counter/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.press("#id_password", "Enter")
    page.wait_for_load_state("networkidle")


def _check(page: Page, base: str, paths: list[str], member: Member, ref: str = "") -> list[str]:
    problems = []
    for template in paths:
        found = _violations(page, base + template.format(member=ref or member.pk))
        if template in KNOWN:
            if not found:
                problems.append(f"{template}: clean now, remove it from KNOWN")
        elif found:
            problems.append(f"{template}: {found}")
    return problems


def test_public_pages_and_api_docs_pass_the_policy(live_server, page: Page, shop):
    paths = ["/nl/privacy/erasure/", "/fr/privacy/access/", "/en/privacy/sent/erasure/"]
    paths += ["/en/privacy/confirm/" + "x" * 43 + "/", "/counter/login/", "/api/docs/"]
    assert _check(page, live_server.url, paths, shop) == []


def test_counter_pages_pass_the_policy(live_server, page: Page, shop):
    _log_in(page, live_server.url, "kassa.csp")
    paths = [
        "/counter/GNT01/",
        "/counter/GNT01/join/",
        "/counter/GNT01/eid/",
        "/counter/GNT01/members/{member}/",
        "/counter/GNT01/members/{member}/card/",
        "/counter/stores/",
    ]
    # The counter reaches a member by the reference a search handed the cashier.
    cashier = User.objects.get(username="kassa.csp")
    ref = member_ref(shop, staff=cashier, store=shop.home_store)
    assert _check(page, live_server.url, paths, shop, ref) == []


def test_office_and_admin_pages_pass_the_policy(live_server, page: Page, shop):
    _log_in(page, live_server.url, "office.csp")
    paths = [
        "/office/",
        "/office/privacy/",
        "/office/consent/",
        "/office/stores/",
        "/office/stores/GNT01/",
        "/office/rewards/",
        "/office/staff/",
        "/office/notices/",
        "/office/compliance/",
        "/admin/",
        "/admin/loyalty/member/",
    ]
    assert _check(page, live_server.url, paths, shop) == []
