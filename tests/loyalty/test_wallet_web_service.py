"""Apple's pass web service over HTTP (a live server, urllib): a phone registers for a pass's
updates, asks which passes changed, fetches the new pass and sends its logs; the pass's token
is needed for all but the question; registrations go with the member's erasure."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from loyalty.models import WalletDevice, WalletPass
from loyalty.privacy import member_subject_key
from loyalty.services import points_earn
from loyalty.wallet import wallet_link_issue
from privacy.registry import registry
from tests.factories import MemberFactory
from tests.wallet import PASS_TYPE_ID, pkpass_check, pkpass_files, wallet_set_up

pytestmark = pytest.mark.django_db(transaction=True)

DEVICE = "a1b2c3d4e5f6a7b8c9d0"


def call(method: str, url: str, *, token: str | None = None, body=None, headers=None):
    """Return (status, headers, body) of one HTTP call, errors included."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})  # noqa: S310
    if token is not None:
        request.add_header("Authorization", f"ApplePass {token}")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 (the live server)
            return answer.status, answer.headers, answer.read()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.headers, refused.read()


@pytest.fixture
def member(store):
    member = MemberFactory(home_store=store, email="lotte@example.be")
    points_earn(
        member=member,
        store=store,
        staff=None,
        amount=Decimal("20"),
        at=timezone.now() - timedelta(hours=1),
    )
    member.refresh_from_db()
    return member


def test_a_phone_follows_its_pass_through_the_web_service(
    live_server, member, store, tmp_path, settings
):
    settings.SITE_URL = live_server.url
    wallet = wallet_set_up(tmp_path, settings)
    base = f"{live_server.url}/passkit/v1"

    # the member's pass names the web service and its own token
    status, _h, pkpass = call(
        "GET", f"{live_server.url}/wallet/{wallet_link_issue(member)}/apple.pkpass"
    )
    assert status == 200
    card = json.loads(pkpass_files(pkpass)["pass.json"])
    assert card["webServiceURL"] == f"{live_server.url}/passkit/"
    serial, token = card["serialNumber"], card["authenticationToken"]
    assert len(token) >= 16
    registration = f"{base}/devices/{DEVICE}/registrations/{PASS_TYPE_ID}/{serial}"

    # registering: 201, then 200; a wrong or missing token is 401, a bad body 400
    assert call("POST", registration, token=token, body={"pushToken": "f" * 64})[0] == 201
    assert call("POST", registration, token=token, body={"pushToken": "e" * 64})[0] == 200
    assert WalletDevice.objects.get().push_token == "e" * 64
    assert call("POST", registration, token="0" * 40, body={"pushToken": "x"})[0] == 401
    assert call("POST", registration, body={"pushToken": "x"})[0] == 401
    status, _h, body = call("POST", registration, token=token, body={"push": 1})
    assert status == 400 and json.loads(body)["code"] == "invalid_input"

    # which passes changed: this one, then none since the tag it got
    serials = f"{base}/devices/{DEVICE}/registrations/{PASS_TYPE_ID}"
    status, _h, body = call("GET", serials)
    changed = json.loads(body)
    assert status == 200 and changed["serialNumbers"] == [serial]
    tag = changed["lastUpdated"]
    assert call("GET", f"{serials}?passesUpdatedSince={tag}")[0] == 204

    # a purchase changes the balance: the pass is listed again, and fetched new
    points_earn(member=member, store=store, staff=None, amount=Decimal("10"))
    status, _h, body = call("GET", f"{serials}?passesUpdatedSince={tag}")
    assert status == 200 and json.loads(body)["serialNumbers"] == [serial]
    latest = f"{base}/passes/{PASS_TYPE_ID}/{serial}"
    status, headers, pkpass = call("GET", latest, token=token)
    assert status == 200 and headers["Content-Type"] == "application/vnd.apple.pkpass"
    files = pkpass_check(pkpass, pass_cert=wallet["cert"], wwdr_cert=wallet["wwdr_cert"])
    assert json.loads(files["pass.json"])["storeCard"]["primaryFields"][0]["value"] == 30
    unchanged = {"If-Modified-Since": headers["Last-Modified"]}
    assert call("GET", latest, token=token, headers=unchanged)[0] == 304
    assert call("GET", latest, token="0" * 40)[0] == 401
    assert call("GET", f"{base}/passes/pass.other.type/{serial}", token=token)[0] == 401

    # logs are taken (and not kept)
    assert call("POST", f"{base}/log", body={"logs": ["a pass could not update"]})[0] == 200

    # while a phone is registered, Apple is a recipient to tell; erasure takes it all
    key = member_subject_key(member)
    assert any(r.startswith("Apple") for r in registry.recipients_of(key))
    assert registry.erasers["loyalty.wallet"].erase(key) == {
        "wallet_passes": 1,
        "wallet_devices": 1,
    }
    assert not WalletPass.objects.exists() and not WalletDevice.objects.exists()
    assert registry.erasers["loyalty.wallet"].erase(key) == {
        "wallet_passes": 0,
        "wallet_devices": 0,
    }


def test_unregistering_stops_the_updates(live_server, member, tmp_path, settings):
    settings.SITE_URL = live_server.url
    wallet_set_up(tmp_path, settings)
    _s, _h, pkpass = call(
        "GET", f"{live_server.url}/wallet/{wallet_link_issue(member)}/apple.pkpass"
    )
    card = json.loads(pkpass_files(pkpass)["pass.json"])
    serial, token = card["serialNumber"], card["authenticationToken"]
    base = f"{live_server.url}/passkit/v1/devices/{DEVICE}/registrations/{PASS_TYPE_ID}"
    call("POST", f"{base}/{serial}", token=token, body={"pushToken": "f" * 64})

    assert call("DELETE", f"{base}/{serial}", token=token)[0] == 200

    assert call("GET", base)[0] == 204
    assert not any(
        r.startswith("Apple") for r in registry.recipients_of(member_subject_key(member))
    )


def test_without_the_apple_settings_there_is_no_web_service(live_server, member):
    base = f"{live_server.url}/passkit/v1"
    assert call("GET", f"{base}/devices/{DEVICE}/registrations/{PASS_TYPE_ID}")[0] == 404
    assert call("POST", f"{base}/log", body={"logs": []})[0] == 404
