"""The chain's wallet set up for tests, and a pass checked the way a phone would check it.

The certificates and keys are made here: a test WWDR authority (self-signed), the chain's pass
certificate issued by it, and a Google service account key. A .pkpass is checked with the
`cryptography` library: every file's SHA-1 in the manifest, the pass certificate issued by the
WWDR, and the detached PKCS#7 signature (its signed attributes' message digest is the
manifest's SHA-256, and the pass key signed those attributes).
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import NameOID

PASS_TYPE_ID = "pass.be.example.loyalty"
KEY_PASSWORD = "pass-key-password"
# DER of the OID 1.2.840.113549.1.9.4 (PKCS#9 messageDigest)
MESSAGE_DIGEST_OID = bytes.fromhex("06092a864886f70d010904")


def rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def certificate(subject: str, key, *, issuer=None, issuer_key=None, ca: bool = False):
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


def _write(path: Path, data: bytes) -> str:
    path.write_bytes(data)
    return str(path)


def wallet_set_up(directory: Path, settings) -> dict:
    """Set the chain's wallet settings to fresh test certificates and keys in `directory`."""
    wwdr_key, pass_key, google_key = rsa_key(), rsa_key(), rsa_key()
    wwdr = certificate("Test WWDR", wwdr_key, ca=True)
    cert = certificate(f"Pass Type ID: {PASS_TYPE_ID}", pass_key, issuer=wwdr, issuer_key=wwdr_key)
    pem = serialization.Encoding.PEM
    settings.WALLET_APPLE_PASS_TYPE_ID = PASS_TYPE_ID
    settings.WALLET_APPLE_TEAM_ID = "TEAM123456"
    settings.WALLET_APPLE_CERT = _write(directory / "pass.pem", cert.public_bytes(pem))
    settings.WALLET_APPLE_WWDR = _write(directory / "wwdr.pem", wwdr.public_bytes(pem))
    settings.WALLET_APPLE_KEY_PASSWORD = KEY_PASSWORD
    settings.WALLET_APPLE_KEY = _write(
        directory / "pass.key",
        pass_key.private_bytes(
            pem,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(KEY_PASSWORD.encode()),
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
    settings.WALLET_GOOGLE_SERVICE_ACCOUNT = _write(
        directory / "service-account.json", json.dumps(account).encode()
    )
    return {
        "wwdr": directory / "wwdr.pem",
        "wwdr_cert": wwdr,
        "cert": cert,
        "google_public": google_key.public_key(),
    }


def pkpass_files(pkpass: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(pkpass)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


# A few lines of DER, enough to walk a PKCS#7 SignedData (RFC 5652) to its signer's fields.
def _tlv(data: bytes, at: int) -> tuple[int, int, int]:
    """Return (tag, start of the content, end) of the DER element at `at`."""
    tag, length, at = data[at], data[at + 1], at + 2
    if length & 0x80:
        n = length & 0x7F
        length, at = int.from_bytes(data[at : at + n], "big"), at + n
    return tag, at, at + length


def _children(data: bytes, start: int, end: int) -> list[tuple[int, int, int, int]]:
    """Return (tag, element start, content start, end) of each element in a constructed one."""
    found, at = [], start
    while at < end:
        tag, content, stop = _tlv(data, at)
        found.append((tag, at, content, stop))
        at = stop
    return found


def pkpass_check(pkpass: bytes, *, pass_cert, wwdr_cert) -> dict[str, bytes]:
    """Check a .pkpass as Wallet does; return its files. Raises on any mismatch."""
    files = pkpass_files(pkpass)
    manifest_bytes = files["manifest.json"]
    manifest = json.loads(manifest_bytes)
    assert set(manifest) == set(files) - {"manifest.json", "signature"}, "manifest incomplete"
    for name, digest in manifest.items():
        assert hashlib.sha1(files[name]).hexdigest() == digest, name  # noqa: S324
    # the pass certificate, issued by the WWDR, travels in the signature with it
    pass_cert.verify_directly_issued_by(wwdr_cert)
    carried = pkcs7.load_der_pkcs7_certificates(files["signature"])
    assert pass_cert in carried and wwdr_cert in carried
    # ContentInfo -> [0] SignedData -> signerInfos (the last SET) -> the one SignerInfo
    der = files["signature"]
    _tag, content, end = _tlv(der, 0)
    explicit = _children(der, content, end)[1]
    _tag, signed_data, end = _tlv(der, explicit[2])
    parts = _children(der, signed_data, end)
    encapsulated = parts[2]
    assert len(_children(der, encapsulated[2], encapsulated[3])) == 1, "not detached"
    [signer] = _children(der, parts[-1][2], parts[-1][3])
    fields = _children(der, signer[2], signer[3])
    attrs = next(f for f in fields if f[0] == 0xA0)  # signedAttrs, [0] IMPLICIT SET OF
    signature = next(f for f in fields if f[0] == 0x04)
    attrs_der = der[attrs[1] : attrs[3]]
    assert MESSAGE_DIGEST_OID in attrs_der, "no message digest"
    digest_at = attrs_der.index(MESSAGE_DIGEST_OID) + len(MESSAGE_DIGEST_OID)
    _tag, value, stop = _tlv(attrs_der, digest_at)  # SET { OCTET STRING }
    _tag, value, stop = _tlv(attrs_der, value)
    assert attrs_der[value:stop] == hashlib.sha256(manifest_bytes).digest(), "digest differs"
    # the signature covers the attributes as a SET (RFC 5652, 5.4); raises InvalidSignature
    pass_cert.public_key().verify(
        der[signature[2] : signature[3]],
        b"\x31" + attrs_der[1:],
        padding.PKCS1v15(),
        hashes.SHA256(),
    )
    return files
