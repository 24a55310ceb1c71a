"""The browser test setup itself: Debian's Chromium through Playwright against a live server."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_api_docs_render_in_chromium(live_server, page, screenshot):
    page.goto(f"{live_server.url}/api/docs/")
    page.wait_for_selector("text=eID loyalty API", timeout=15000)
    screenshot("api-docs")
