"""Keyed hashes, random link tokens and the normal form of what a customer types to be found."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

IDENTIFIER_MAX = 254


def keyed_digest(value: str, *, domain: str) -> str:
    """Return HMAC-SHA256 of `value` under PRIVACY_HASH_KEY, separated by `domain`."""
    key = settings.PRIVACY_HASH_KEY.encode()
    return hmac.new(key, f"{domain}\x00{value}".encode(), hashlib.sha256).hexdigest()


def subject_digest(subject_key: str) -> str:
    """Return the keyed digest the consent chain covers instead of the subject key."""
    return keyed_digest(subject_key, domain="subject")


def requester_digest(identifier: str) -> str:
    """Return the keyed digest of a requester's address, kept to recognise a repeat request."""
    return keyed_digest(identifier_normalise(identifier) or identifier, domain="requester")


def token_new() -> tuple[str, str]:
    """Return a fresh link token and the hash stored for it (SHA-256: the token is random)."""
    token = secrets.token_urlsafe(32)
    return token, token_hash(token)


def token_hash(token: str) -> str:
    """Return the stored form of a link token."""
    return hashlib.sha256(token.encode()).hexdigest()


def identifier_normalise(value: str) -> str | None:
    """Return an e-mail address (lower-cased) or a number (digits only), or None for garbage.

    A customer is found by the address or member number they are known by; this is the one
    normal form resolvers, rate limits and requester digests all use.
    """
    value = (value or "").strip()
    if not value or len(value) > IDENTIFIER_MAX or not value.isprintable():
        return None
    if "@" in value:
        try:
            validate_email(value)
        except ValidationError:
            return None
        return value.lower()
    digits = "".join(ch for ch in value if ch not in " -./")
    if digits.isdigit() and digits.isascii() and 6 <= len(digits) <= 20:
        return digits
    return None


_NONCE = 12


def _seal_cipher() -> AESGCM:
    key = hmac.new(settings.PRIVACY_HASH_KEY.encode(), b"seal\x00v1", hashlib.sha256).digest()
    return AESGCM(key)


def seal(text: str, *, domain: str) -> str:
    """Return `text` encrypted and authenticated (AES-GCM under PRIVACY_HASH_KEY), for `domain`."""
    nonce = os.urandom(_NONCE)
    sealed = _seal_cipher().encrypt(nonce, text.encode(), domain.encode())
    return base64.urlsafe_b64encode(nonce + sealed).decode()


def unseal(token: str, *, domain: str) -> str | None:
    """Return what `seal` sealed for `domain`, or None if it was altered or sealed otherwise."""
    try:
        raw = base64.urlsafe_b64decode(token.encode())
        return _seal_cipher().decrypt(raw[:_NONCE], raw[_NONCE:], domain.encode()).decode()
    except (InvalidTag, ValueError, binascii.Error, UnicodeError):
        return None
