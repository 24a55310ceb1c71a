"""The card in the phone: an Apple Wallet pass signed with the chain's certificate, a Google
Wallet save link signed with its service account key, reached only by the member's sealed link
or by the visit's member reference at the counter.

The certificates and keys are made here: a test WWDR authority (self-signed), the chain's pass
certificate issued by it, and a service account key. The pass's signature is checked by
OpenSSL (`openssl smime -verify`), the JWT's by PyJWT with the public key.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import subprocess
import time
import zipfile
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import NameOID
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

pytestmark = pytest.mark.django_db


def _key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _cert(subject: str, key, *, issuer=None, issuer_key=None, ca: bool = False):
    now = datetime.now(UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer.subject if issuer else name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .sign(issuer_key or key, hashes.SHA256())
    )


def _pem(path, data: bytes) -> str:
    path.write_bytes(data)
    return str(path)


@pytest.fixture
def wallet(tmp_path, settings):
    """The chain's wallet settings, with a test WWDR, pass certificate and service account."""
    wwdr_key, pass_key, google_key = _key(), _key(), _key()
    wwdr = _cert("Test WWDR", wwdr_key, ca=True)
    cert = _cert(
        "Pass Type ID: pass.be.example.loyalty", pass_key, issuer=wwdr, issuer_key=wwdr_key
    )
    pem = serialization.Encoding.PEM
    settings.WALLET_APPLE_PASS_TYPE_ID = "pass.be.example.loyalty"
    settings.WALLET_APPLE_TEAM_ID = "TEAM123456"
    settings.WALLET_APPLE_CERT = _pem(tmp_path / "pass.pem", cert.public_bytes(pem))
    settings.WALLET_APPLE_WWDR = _pem(tmp_path / "wwdr.pem", wwdr.public_bytes(pem))
    settings.WALLET_APPLE_KEY_PASSWORD = "pass-key-password"
    settings.WALLET_APPLE_KEY = _pem(
        tmp_path / "pass.key",
        pass_key.private_bytes(
            pem,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"pass-key-password"),
        ),
    )
    account = {
        "type": "service_account",
        "client_email": "wallet@example-chain.iam.gserviceaccount.com",
        "private_key_id": "k1",
        "private_key": google_key.private_bytes(
            pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode(),
    }
    settings.WALLET_GOOGLE_ISSUER_ID = "3388000000012345678"
    settings.WALLET_GOOGLE_CLASS = "loyalty_card"
    settings.WALLET_GOOGLE_SERVICE_ACCOUNT = _pem(
        tmp_path / "service-account.json", json.dumps(account).encode()
    )
    return {"wwdr": tmp_path / "wwdr.pem", "cert": cert, "google_public": google_key.public_key()}


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


def _files(pkpass: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(pkpass)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


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
        jwt.decode(token, _key().public_key(), algorithms=["RS256"], audience="google")


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
