"""The member card in the phone: an Apple Wallet pass (.pkpass) and a Google Wallet save link.

Both show the member number as a QR code (what the counter's scanner reads, like the printed
card) and the balance, and nothing else about the member: no name, no contact. The chain's pass
certificate and keys come from settings (`WALLET_*`: file paths, from the environment); when
they are not set the wallet is off and no button is shown.

- Apple: `pass.json`, `manifest.json` (SHA-1 of every file) and `signature`, a detached PKCS#7
  signature of the manifest by the chain's pass certificate, with Apple's WWDR intermediate.
- Google: a "save" URL carrying an RS256 JWT signed with the service account's key, holding
  one loyalty object of the chain's loyalty class.

A member reaches their pass by a link sealed for them (`wallet_link_issue`), staff at the
counter by the member reference of the visit.
"""

from __future__ import annotations

import hashlib
import io
import json
import struct
import time
import zipfile
import zlib
from dataclasses import dataclass
from functools import cache

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs7
from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils.crypto import constant_time_compare, salted_hmac

from loyalty.models import LedgerEntry, Member, WalletDevice, WalletPass
from privacy.hashing import seal, unseal
from stores.selectors import chain_settings

GOOGLE_SAVE_URL = "https://pay.google.com/gp/v/save/"
LINK_PREFIX = "mw_"
LINK_DOMAIN = "loyalty.wallet.link"


class WalletLinkInvalid(Exception):
    """The wallet link is not one we sealed, or it has expired."""


def _path_bytes(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def apple_wallet_enabled() -> bool:
    """Return whether the chain's Apple pass certificate, key and WWDR certificate are set."""
    return all(
        getattr(settings, name, "")
        for name in (
            "WALLET_APPLE_PASS_TYPE_ID",
            "WALLET_APPLE_TEAM_ID",
            "WALLET_APPLE_CERT",
            "WALLET_APPLE_KEY",
            "WALLET_APPLE_WWDR",
        )
    )


def google_wallet_enabled() -> bool:
    """Return whether the Google Wallet issuer, class and service account key are set."""
    return all(
        getattr(settings, name, "")
        for name in (
            "WALLET_GOOGLE_ISSUER_ID",
            "WALLET_GOOGLE_CLASS",
            "WALLET_GOOGLE_SERVICE_ACCOUNT",
        )
    )


def pass_serial(member: Member) -> str:
    """Return the pass's serial: stable for the member, meaningless to anyone else."""
    return salted_hmac("loyalty.wallet.serial", str(member.pk)).hexdigest()[:32]


def _png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """Return a plain PNG of one colour (the pass's icon and logo: Wallet requires an icon)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\x00" + bytes(rgb) * width
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


def apple_pass_json(member: Member) -> dict:
    """Return the pass.json of the member's store card, under the chain's public name."""
    chain_name = chain_settings().name
    return {
        "formatVersion": 1,
        "passTypeIdentifier": settings.WALLET_APPLE_PASS_TYPE_ID,
        "teamIdentifier": settings.WALLET_APPLE_TEAM_ID,
        "serialNumber": pass_serial(member),
        "organizationName": chain_name,
        "description": f"{chain_name} loyalty card",
        "logoText": chain_name,
        "foregroundColor": "rgb(255, 255, 255)",
        "backgroundColor": "rgb(11, 92, 173)",
        "labelColor": "rgb(255, 255, 255)",
        "storeCard": {
            "primaryFields": [
                {"key": "balance", "label": "Points", "value": member.points_balance}
            ],
            "secondaryFields": [{"key": "number", "label": "Member", "value": member.number}],
        },
        # Apple's pass web service (`pass_*` below): the phone asks it for the new balance.
        "webServiceURL": f"{chain_settings().site_url}/passkit/",
        "authenticationToken": pass_auth_token(pass_serial(member)),
        "barcodes": [
            {
                "format": "PKBarcodeFormatQR",
                "message": member.number,
                "messageEncoding": "iso-8859-1",
                "altText": member.number,
            }
        ],
    }


def pass_auth_token(serial: str) -> str:
    """Return the token Wallet sends with every web service call for this pass."""
    return salted_hmac("loyalty.wallet.auth", serial).hexdigest()


def _apple_signature(manifest: bytes) -> bytes:
    cert = x509.load_pem_x509_certificate(_path_bytes(settings.WALLET_APPLE_CERT))
    wwdr = x509.load_pem_x509_certificate(_path_bytes(settings.WALLET_APPLE_WWDR))
    password = getattr(settings, "WALLET_APPLE_KEY_PASSWORD", "") or None
    key = serialization.load_pem_private_key(
        _path_bytes(settings.WALLET_APPLE_KEY), password=password.encode() if password else None
    )
    return (
        pkcs7.PKCS7SignatureBuilder()
        .set_data(manifest)
        .add_signer(cert, key, hashes.SHA256())
        .add_certificate(wwdr)
        .sign(
            serialization.Encoding.DER,
            [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary],
        )
    )


def apple_pass_build(member: Member) -> bytes:
    """Return the member's signed .pkpass (a zip of pass.json, images, manifest, signature).

    The pass is recorded as issued, so the pass web service knows its serial.
    """
    WalletPass.objects.get_or_create(member=member, defaults={"serial": pass_serial(member)})
    blue = (11, 92, 173)
    files = {
        "pass.json": json.dumps(apple_pass_json(member), ensure_ascii=False).encode(),
        "icon.png": _png(29, 29, blue),
        "icon@2x.png": _png(58, 58, blue),
        "logo.png": _png(160, 50, blue),
    }
    manifest = json.dumps(
        {name: hashlib.sha1(data).hexdigest() for name, data in files.items()},  # noqa: S324 (Apple's format)
        sort_keys=True,
    ).encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
        archive.writestr("manifest.json", manifest)
        archive.writestr("signature", _apple_signature(manifest))
    return buffer.getvalue()


@cache
def _service_account(path: str) -> dict:
    return json.loads(_path_bytes(path))


def google_save_jwt(member: Member, *, origin: str) -> str:
    """Return the RS256 JWT of a Google Wallet "save" link for the member's loyalty card."""
    account = _service_account(settings.WALLET_GOOGLE_SERVICE_ACCOUNT)
    issuer = settings.WALLET_GOOGLE_ISSUER_ID
    claims = {
        "iss": account["client_email"],
        "aud": "google",
        "typ": "savetowallet",
        "iat": int(time.time()),
        "origins": [origin],
        "payload": {
            "loyaltyObjects": [
                {
                    "id": f"{issuer}.{pass_serial(member)}",
                    "classId": f"{issuer}.{settings.WALLET_GOOGLE_CLASS}",
                    "state": "ACTIVE",
                    "accountId": member.number,
                    "barcode": {
                        "type": "QR_CODE",
                        "value": member.number,
                        "alternateText": member.number,
                    },
                    "loyaltyPoints": {"label": "Points", "balance": {"int": member.points_balance}},
                }
            ]
        },
    }
    headers = {"kid": account["private_key_id"]} if account.get("private_key_id") else None
    return jwt.encode(claims, account["private_key"], algorithm="RS256", headers=headers)


def google_save_url(member: Member, *, origin: str) -> str:
    """Return the link that adds the member's card to Google Wallet."""
    return GOOGLE_SAVE_URL + google_save_jwt(member, origin=origin)


# The member's own link to their pass: sealed (privacy's one scheme), so it names nobody and
# cannot be guessed.
def wallet_link_issue(member: Member, *, now: float | None = None) -> str:
    """Return the token of the member's own link to their wallet pass."""
    return LINK_PREFIX + seal(f"{member.pk}:{int(now or time.time())}", domain=LINK_DOMAIN)


def wallet_link_read(token: str, *, now: float | None = None) -> int:
    """Return the member id a wallet link was issued for, or raise WalletLinkInvalid."""
    if not isinstance(token, str) or not token.startswith(LINK_PREFIX) or len(token) > 120:
        raise WalletLinkInvalid()
    opened = unseal(token[len(LINK_PREFIX) :], domain=LINK_DOMAIN) or ""
    member_id, _, issued = opened.partition(":")
    if not (member_id.isdigit() and issued.isdigit()):
        raise WalletLinkInvalid()
    if (now or time.time()) - int(issued) > settings.WALLET_LINK_DAYS * 86400:
        raise WalletLinkInvalid()
    return int(member_id)


@dataclass(frozen=True)
class WalletOffer:
    """Which wallet buttons to show for a member (none when the chain set up neither)."""

    apple: bool
    google: bool

    @property
    def any(self) -> bool:
        return self.apple or self.google


def wallet_offer() -> WalletOffer:
    return WalletOffer(apple=apple_wallet_enabled(), google=google_wallet_enabled())


# Apple's pass web service ("PassKit Web Service Reference"): phones register for a pass's
# updates, ask which passes changed, fetch the new pass and send their logs.
class PassUnauthorized(Exception):
    """The call names no pass we issued, or its token is not the pass's."""


def pass_find(*, pass_type: str, serial: str, authorization: str) -> WalletPass:
    """Return the issued pass the call is about, or raise PassUnauthorized."""
    scheme, _, token = (authorization or "").partition(" ")
    if pass_type != settings.WALLET_APPLE_PASS_TYPE_ID or scheme != "ApplePass":
        raise PassUnauthorized()
    if not constant_time_compare(token, pass_auth_token(serial)):
        raise PassUnauthorized()
    found = WalletPass.objects.select_related("member").filter(serial=serial).first()
    if found is None:
        raise PassUnauthorized()
    return found


def pass_register(*, wallet_pass: WalletPass, device: str, push_token: str) -> bool:
    """Register a phone for the pass's updates; return whether it is new (Apple: 201)."""
    with transaction.atomic():
        _device, created = WalletDevice.objects.update_or_create(
            wallet_pass=wallet_pass, device_library_id=device, defaults={"push_token": push_token}
        )
    return created


def pass_unregister(*, wallet_pass: WalletPass, device: str) -> None:
    WalletDevice.objects.filter(wallet_pass=wallet_pass, device_library_id=device).delete()


def pass_updated_at(member: Member) -> int:
    """Return when the pass's content last changed (its balance): a Unix time."""
    last = LedgerEntry.objects.filter(member=member).aggregate(at=Max("created_at"))["at"]
    return int((last or member.created_at).timestamp())


def passes_updated(*, device: str, pass_type: str, since: str) -> tuple[list[str], int]:
    """Return the serials of the device's passes changed after `since`, and the newest time."""
    if pass_type != settings.WALLET_APPLE_PASS_TYPE_ID:
        return [], 0
    after = int(since) if since.isdigit() else -1
    serials, newest = [], 0
    registered = WalletDevice.objects.filter(device_library_id=device).select_related(
        "wallet_pass__member"
    )
    for row in registered:
        updated = pass_updated_at(row.wallet_pass.member)
        newest = max(newest, updated)
        if updated > after:
            serials.append(row.wallet_pass.serial)
    return serials, newest
