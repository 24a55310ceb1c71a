"""The card in the phone: an Apple Wallet pass signed with the chain's certificate, a Google
Wallet save link signed with its service account key, reached only by the member's sealed link
or by the visit's member reference at the counter.

The certificates and keys are made by tests/wallet.py: a test WWDR authority (self-signed), the
chain's pass certificate issued by it, and a service account key. The pass's signature is
checked by OpenSSL (`openssl smime -verify`) and by the cryptography library
(tests.wallet.pkpass_check), the JWT's by PyJWT with the public key.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import subprocess
import time
import zipfile

import jwt
import pytest
from cryptography.hazmat.primitives.serialization import pkcs7
from django.test import Client

from loyalty.wallet import (
    GOOGLE_SAVE_URL,
    apple_pass_build,
    apple_pass_json,
    google_save_url,
    wallet_link_issue,
)
from stores.models import ChainSettings, EarningRule
from tests.counter import member_ref
from tests.factories import MemberFactory, StaffFactory
from tests.wallet import pkpass_check, pkpass_files, rsa_key, wallet_set_up

pytestmark = pytest.mark.django_db


@pytest.fixture
def wallet(tmp_path, settings):
    """The chain's wallet settings, with a test WWDR, pass certificate and service account."""
    return wallet_set_up(tmp_path, settings)


@pytest.fixture
def member(store):
    return MemberFactory(
        home_store=store,
        given_name="Lotte",
        surname="Peeters",
        email="lotte@example.be",
        phone="+32470123456",
        points_balance=137,
    )


_files = pkpass_files


def _openssl_verify(
    tmp_path, wwdr, signature: bytes, content: bytes
) -> subprocess.CompletedProcess:
    (tmp_path / "signature").write_bytes(signature)
    (tmp_path / "content").write_bytes(content)
    return subprocess.run(
        [
            "openssl",
            "smime",
            "-verify",
            "-binary",
            "-inform",
            "DER",
            "-in",
            str(tmp_path / "signature"),
            "-content",
            str(tmp_path / "content"),
            "-CAfile",
            str(wwdr),
            "-purpose",
            "any",
            "-out",
            "/dev/null",
        ],
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
def test_the_pass_is_signed_by_the_chains_certificate_over_its_manifest(wallet, member, tmp_path):
    # when: the member's pass is built
    files = _files(apple_pass_build(member))

    # then: the manifest holds the SHA-1 of every other file, and nothing else
    manifest = json.loads(files["manifest.json"])
    assert set(manifest) == set(files) - {"manifest.json", "signature"}
    assert {"pass.json", "icon.png"} <= set(manifest)
    for name, digest in manifest.items():
        assert hashlib.sha1(files[name]).hexdigest() == digest  # noqa: S324
    # the member number as a QR code (what the counter's scanner reads), and the balance
    card = json.loads(files["pass.json"])
    assert card["passTypeIdentifier"] == "pass.be.example.loyalty"
    assert card["barcodes"][0]["format"] == "PKBarcodeFormatQR"
    assert card["barcodes"][0]["message"] == member.number
    assert card["storeCard"]["primaryFields"][0]["value"] == 137
    text = files["pass.json"].decode()
    assert "Lotte" not in text and "Peeters" not in text and member.email not in text
    # a detached PKCS#7 signature by the pass certificate, carrying the WWDR certificate
    signers = pkcs7.load_der_pkcs7_certificates(files["signature"])
    assert wallet["cert"] in signers and len(signers) == 2
    verified = _openssl_verify(tmp_path, wallet["wwdr"], files["signature"], files["manifest.json"])
    assert verified.returncode == 0, verified.stderr
    assert "Verification successful" in verified.stderr
    # and a changed manifest no longer verifies
    forged = files["manifest.json"].replace(b'"pass.json": "', b'"pass.json": "0')
    refused = _openssl_verify(tmp_path, wallet["wwdr"], files["signature"], forged)
    assert refused.returncode != 0


def test_the_pass_checks_with_the_cryptography_library_and_a_forgery_does_not(wallet, member):
    pkpass = apple_pass_build(member)

    files = pkpass_check(pkpass, pass_cert=wallet["cert"], wwdr_cert=wallet["wwdr_cert"])
    assert json.loads(files["pass.json"])["barcodes"][0]["message"] == member.number

    # a pass.json changed after signing no longer matches its manifest
    forged = io.BytesIO()
    with zipfile.ZipFile(forged, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data.replace(b'"value": 137', b'"value": 9999'))
    with pytest.raises(AssertionError, match=r"pass\.json"):
        pkpass_check(forged.getvalue(), pass_cert=wallet["cert"], wwdr_cert=wallet["wwdr_cert"])
    # nor does one whose manifest was written again for it: the signature is the old one's
    changed = files["pass.json"].replace(b'"value": 137', b'"value": 9999')
    manifest = json.loads(files["manifest.json"])
    manifest["pass.json"] = hashlib.sha1(changed).hexdigest()  # noqa: S324
    rewritten = {**files, "pass.json": changed, "manifest.json": json.dumps(manifest).encode()}
    forged = io.BytesIO()
    with zipfile.ZipFile(forged, "w") as archive:
        for name, data in rewritten.items():
            archive.writestr(name, data)
    with pytest.raises(AssertionError, match="digest differs"):
        pkpass_check(forged.getvalue(), pass_cert=wallet["cert"], wwdr_cert=wallet["wwdr_cert"])


def test_the_pass_names_the_chain_as_head_office_set_it(wallet, member, settings):
    # given: head office named the chain in the dashboard (settings hold another name)
    settings.CHAIN_NAME = "Demo Chain"
    ChainSettings.objects.create(pk=1, name="Bakkerij Peeters")

    # when
    card = apple_pass_json(member)

    # then: the pass carries the name customers see on the pages and in the mails
    assert card["organizationName"] == "Bakkerij Peeters"
    assert card["logoText"] == "Bakkerij Peeters"
    assert "Demo Chain" not in json.dumps(card)


def test_the_google_save_link_is_signed_with_the_service_account_key(wallet, member):
    url = google_save_url(member, origin="https://loyalty.example.be")

    assert url.startswith(GOOGLE_SAVE_URL)
    token = url.removeprefix(GOOGLE_SAVE_URL)
    claims = jwt.decode(token, wallet["google_public"], algorithms=["RS256"], audience="google")
    assert jwt.get_unverified_header(token)["kid"] == "k1"
    assert claims["iss"] == "wallet@example-chain.iam.gserviceaccount.com"
    assert claims["typ"] == "savetowallet" and claims["origins"] == ["https://loyalty.example.be"]
    [card] = claims["payload"]["loyaltyObjects"]
    assert card["classId"] == "3388000000012345678.loyalty_card"
    assert card["barcode"] == {
        "type": "QR_CODE",
        "value": member.number,
        "alternateText": member.number,
    }
    assert card["loyaltyPoints"]["balance"] == {"int": 137}
    assert "Lotte" not in json.dumps(claims) and member.email not in json.dumps(claims)
    # another key's signature is refused
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, rsa_key().public_key(), algorithms=["RS256"], audience="google")


@pytest.fixture
def counter(cashier, store):
    EarningRule.objects.create(store=store)
    client = Client()
    client.force_login(cashier)
    client.cookies["django_language"] = "en"
    return client


def test_without_the_chains_certificates_there_is_no_wallet(counter, cashier, store, member):
    ref = member_ref(member, staff=cashier, store=store)

    page = counter.get(f"/counter/GNT01/members/{ref}/").content.decode()

    assert "Apple Wallet" not in page and "Google Wallet" not in page
    assert counter.get(f"/counter/GNT01/members/{ref}/wallet/apple.pkpass").status_code == 404
    token = wallet_link_issue(member)
    assert Client().get(f"/en/wallet/{token}/").status_code == 404
    assert Client().get(f"/wallet/{token}/apple.pkpass").status_code == 404


def test_the_counter_offers_the_card_by_the_visits_reference(
    wallet, counter, cashier, store, member
):
    ref = member_ref(member, staff=cashier, store=store)

    page = counter.get(f"/counter/GNT01/members/{ref}/").content.decode()
    apple = counter.get(f"/counter/GNT01/members/{ref}/wallet/apple.pkpass")
    google = counter.get(f"/counter/GNT01/members/{ref}/wallet/google/")

    assert "Apple Wallet pass" in page and "Google Wallet link" in page
    assert "<svg" in page.split('class="wallet-qr"', 1)[1][:200]
    assert apple.status_code == 200 and apple["Content-Type"] == "application/vnd.apple.pkpass"
    assert json.loads(_files(apple.content)["pass.json"])["barcodes"][0]["message"] == member.number
    assert google.status_code == 302 and google["Location"].startswith(GOOGLE_SAVE_URL)
    # another cashier's reference fetches nothing
    other = StaffFactory(username="kassa.other", store=store)
    stolen = member_ref(member, staff=other, store=store)
    assert counter.get(f"/counter/GNT01/members/{stolen}/wallet/apple.pkpass").status_code == 400


def test_the_member_reaches_their_card_by_their_sealed_link_only(wallet, member):
    customer = Client()
    token = wallet_link_issue(member)

    page = customer.get(f"/nl/wallet/{token}/")
    apple = customer.get(f"/wallet/{token}/apple.pkpass")
    google = customer.get(f"/wallet/{token}/google/")

    assert page.status_code == 200
    html = page.content.decode()
    assert 'lang="nl"' in html and "Toevoegen aan Apple Wallet" in html
    assert member.number in html and "Lotte" not in html
    assert apple.status_code == 200
    assert json.loads(_files(apple.content)["pass.json"])["serialNumber"] != str(member.pk)
    assert google.status_code == 302
    # a changed, foreign or expired link reaches nobody
    forged = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    assert customer.get(f"/wallet/{forged}/apple.pkpass").status_code == 404
    assert customer.get("/wallet/42/apple.pkpass").status_code == 404
    old = wallet_link_issue(member, now=time.time() - 31 * 86400)
    assert customer.get(f"/wallet/{old}/apple.pkpass").status_code == 404


def test_with_a_wallet_set_up_apple_and_google_are_recipients_in_the_record_and_the_dpia(
    tmp_path, settings
):
    from dashboard.selectors.dpia import dpia_markdown
    from privacy.selectors import processing_record

    def recipients() -> list[str]:
        return [r for a in processing_record()["activities"] for r in a["recipients"]]

    # without the wallet, neither is named
    assert not [r for r in recipients() if r.startswith(("Apple", "Google"))]

    wallet_set_up(tmp_path, settings)
    named = recipients()
    assert any(r.startswith("Apple (Apple Wallet)") for r in named)
    assert any(r.startswith("Google (Google Wallet)") for r in named)
    dpia = dpia_markdown(language="nl")
    assert "Apple (Apple Wallet): klantnummer en punten" in dpia
    assert "Google (Google Wallet)" in dpia

    # one provider set up: only that one
    settings.WALLET_APPLE_CERT = ""
    assert not [r for r in recipients() if r.startswith("Apple")]
