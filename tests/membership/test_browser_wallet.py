"""The card in the phone, in Chromium: signed in to "my membership" by the mailed link, the member
downloads their Apple Wallet pass and it checks as Wallet would check it (manifest, certificate,
signature, with the cryptography library); the Google button carries a signed save link."""

from __future__ import annotations

import json
from pathlib import Path

import jwt
import pytest
from playwright.sync_api import expect

from loyalty.wallet import GOOGLE_SAVE_URL
from tests.mailbox import mail_with
from tests.membership.conftest import link_in
from tests.wallet import pkpass_check, wallet_set_up

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_member_adds_their_card_to_a_wallet_from_my_membership(
    live_server, page, screenshot, shopper, settings, tmp_path
):
    settings.SITE_URL = live_server.url
    wallet = wallet_set_up(tmp_path, settings)
    page.context.add_cookies([{"name": "django_language", "value": "en", "url": live_server.url}])

    # sign in with the link from the mail
    page.goto(f"{live_server.url}/en/membership/")
    page.get_by_label("Your e-mail address").fill(shopper.email)
    page.get_by_role("button", name="Send me a sign-in link").click()
    page.wait_for_url("**/en/membership/sent/")
    page.goto(live_server.url + link_in(mail_with("/membership/link/")))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/en/membership/me/")

    # the wallet buttons, with the member card
    apple = page.get_by_role("link", name="Add to Apple Wallet")
    google = page.get_by_role("link", name="Add to Google Wallet")
    expect(apple).to_be_visible()
    expect(google).to_be_visible()
    screenshot("wallet-buttons")

    # the Apple pass downloads, and checks
    with page.expect_download() as download:
        apple.click()
    assert download.value.suggested_filename == "loyalty.pkpass"
    pkpass = Path(download.value.path()).read_bytes()
    files = pkpass_check(pkpass, pass_cert=wallet["cert"], wwdr_cert=wallet["wwdr_cert"])
    card = json.loads(files["pass.json"])
    assert card["barcodes"][0] == {
        "format": "PKBarcodeFormatQR",
        "message": shopper.number,
        "messageEncoding": "iso-8859-1",
        "altText": shopper.number,
    }
    assert card["storeCard"]["primaryFields"][0]["value"] == 65
    assert shopper.email not in files["pass.json"].decode()

    # the Google button sends the browser to Google with a save link signed for this origin
    answer = page.request.get(live_server.url + google.get_attribute("href"), max_redirects=0)
    assert answer.status == 302
    location = answer.headers["location"]
    assert location.startswith(GOOGLE_SAVE_URL)
    claims = jwt.decode(
        location.removeprefix(GOOGLE_SAVE_URL),
        wallet["google_public"],
        algorithms=["RS256"],
        audience="google",
    )
    assert claims["origins"] == [live_server.url]
    assert claims["payload"]["loyaltyObjects"][0]["barcode"]["value"] == shopper.number
