"""The card in the phone from "my membership": the buttons show only when the chain set up its
wallet, and lead to this member's own pass, signed."""

from __future__ import annotations

import json
import re

import jwt
import pytest

from loyalty.wallet import GOOGLE_SAVE_URL
from tests.wallet import pkpass_check, wallet_set_up

pytestmark = pytest.mark.django_db

BUTTON = re.compile(r'<a class="button" href="(/wallet/[^"]+)">([^<]+)</a>')


def test_without_the_wallet_settings_my_membership_shows_no_wallet_button(signed_in):
    page = signed_in.get("/en/membership/me/").content.decode()

    assert "Wallet" not in page and "/wallet/" not in page


def test_my_membership_offers_the_members_own_pass_and_save_link(
    signed_in, shopper, tmp_path, settings
):
    wallet = wallet_set_up(tmp_path, settings)

    page = signed_in.get("/de/membership/me/").content.decode()

    (apple, apple_label), (google, google_label) = BUTTON.findall(page)
    assert apple.endswith("/apple.pkpass") and google.endswith("/google/")
    assert "Apple Wallet" in apple_label and "Google Wallet" in google_label
    # the links name nobody: no member number nor id in them
    assert shopper.number not in apple and f"/{shopper.pk}/" not in apple
    # the pass is this member's, signed by the chain's certificate
    response = signed_in.get(apple)
    assert response["Content-Type"] == "application/vnd.apple.pkpass"
    files = pkpass_check(response.content, pass_cert=wallet["cert"], wwdr_cert=wallet["wwdr_cert"])
    card = json.loads(files["pass.json"])
    assert card["barcodes"][0]["message"] == shopper.number
    assert card["storeCard"]["primaryFields"][0]["value"] == 65
    # the save link's JWT is signed by the service account and holds the same card
    saved = signed_in.get(google)
    assert saved.status_code == 302 and saved["Location"].startswith(GOOGLE_SAVE_URL)
    claims = jwt.decode(
        saved["Location"].removeprefix(GOOGLE_SAVE_URL),
        wallet["google_public"],
        algorithms=["RS256"],
        audience="google",
    )
    assert claims["payload"]["loyaltyObjects"][0]["accountId"] == shopper.number


def test_only_apple_set_up_shows_only_its_button(signed_in, tmp_path, settings):
    wallet_set_up(tmp_path, settings)
    settings.WALLET_GOOGLE_SERVICE_ACCOUNT = ""

    page = signed_in.get("/fr/membership/me/").content.decode()

    [(link, _label)] = BUTTON.findall(page)
    assert link.endswith("/apple.pkpass")
