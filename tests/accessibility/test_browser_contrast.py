"""Contrasts axe does not measure, read from Chromium's computed styles: the focus ring on a
white card and in the dark header (3:1, WCAG 1.4.11), the counter's field borders (3:1), the
figures' bars against the card (3:1) and the white percentages written on them (4.5:1)."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from dashboard.services import stats_recompute
from loyalty.models import JoinChannel
from tests.accessibility.checks import contrast, shadow_color
from tests.accessibility.test_browser_every_page import signed_in
from tests.dashboard.conftest import EntryKind, entry, member_joined
from tests.factories import HeadOfficeFactory
from tests.portal.test_browser_counter import gent  # noqa: F401 (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WHITE = "rgb(255, 255, 255)"


def _style(page: Page, selector: str) -> dict:
    return page.locator(selector).first.evaluate(
        """e => { const s = getComputedStyle(e); return {
            outline: s.outlineColor, outlineStyle: s.outlineStyle,
            outlineWidth: parseFloat(s.outlineWidth), shadow: s.boxShadow,
            border: s.borderTopColor, borderWidth: parseFloat(s.borderTopWidth)}; }"""
    )


def _background(page: Page, selector: str) -> str:
    """Return the first opaque background colour at or above the element."""
    return page.locator(selector).first.evaluate(
        """e => { for (let n = e; n; n = n.parentElement) {
            const c = getComputedStyle(n).backgroundColor;
            if (c && c !== 'transparent' && !c.startsWith('rgba(0, 0, 0, 0')) return c; }
            return 'rgb(255, 255, 255)'; }"""
    )


def test_focus_ring_and_field_borders_on_the_counter(live_server, browser, gent):  # noqa: F811
    page = signed_in(browser, live_server, "kassa.gent", "en")
    page.goto(f"{live_server.url}/counter/GNT01/join/")

    # the ring on a field inside a white card: the dark ring carries the contrast
    page.locator("#id_given_name").focus()
    page.keyboard.press("Tab")
    expect(page.locator("#id_surname")).to_be_focused()
    ring = _style(page, "#id_surname")
    card = _background(page, "#id_surname")
    assert ring["outlineStyle"] == "solid" and ring["outlineWidth"] >= 2
    assert contrast(ring["outline"], card) >= 3, (ring, card)

    # the ring in the dark header: the yellow ring carries it there
    page.locator(".app-header a", has_text="Change store").focus()
    page.keyboard.press("Tab")
    expect(page.locator(".app-header button", has_text="Log out")).to_be_focused()
    ring = page.evaluate("getComputedStyle(document.activeElement).boxShadow")
    ring = {"shadow": ring}
    header = _background(page, ".app-header")
    assert contrast(shadow_color(ring["shadow"]), header) >= 3, (ring, header)

    # every field's border stands out from the card it is on
    for field in page.locator("main input:not([type=hidden])").all():
        style = field.evaluate("e => getComputedStyle(e).borderTopColor")
        assert contrast(style, WHITE) >= 3, style


def test_figures_bars_and_their_labels(live_server, browser, gent):  # noqa: F811
    HeadOfficeFactory(username="headoffice")
    rng = random.Random(15)
    now = timezone.now()
    for n in range(30):
        joined = now - timedelta(days=rng.randint(0, 20))
        eid = n % 3 == 0
        member = member_joined(
            gent,
            joined,
            joined_via=JoinChannel.EID if eid else JoinChannel.FORM,
            email=None if eid else f"m{n}@example.be",
        )
        entry(member, gent, EntryKind.EARN, rng.randint(5, 90), joined)
    stats_recompute(start=timezone.localdate() - timedelta(days=30), end=timezone.localdate())
    page = signed_in(browser, live_server, "headoffice", "en")
    page.goto(f"{live_server.url}/office/")

    bars = page.locator("svg.chart rect[class^='s-']").evaluate_all(
        "rs => rs.map(r => [r.getAttribute('class'), getComputedStyle(r).fill])"
    )
    assert {cls for cls, _fill in bars} >= {"s-eid", "s-form"}
    for cls, fill in bars:
        assert contrast(fill, WHITE) >= 3, (cls, fill)
    labels = page.locator("svg.chart text.inbar").evaluate_all(
        """ts => ts.map(t => [getComputedStyle(t).fill,
                              getComputedStyle(t.previousElementSibling).fill])"""
    )
    assert labels
    for text, bar in labels:
        assert contrast(text, bar) >= 4.5, (text, bar)
