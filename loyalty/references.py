"""Member references: how the counter designates a member after finding them.

A cashier reaches a member only through what the customer presents (rule 9). The lookup hands
back a reference: opaque (AES-GCM under a key derived from SECRET_KEY), short-lived, and bound
to the staff member and the store it was issued to, carrying how the member was found. Every
later counter call (earn, redeem, ledger, consent, card link, erasure, export) takes it; a bare
member id is refused, so nobody can walk the chain's members by counting.
"""

from __future__ import annotations

import base64
import binascii
import os
import struct
import time
from dataclasses import dataclass
from functools import cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.utils.crypto import salted_hmac

from core.errors import MemberReferenceExpired, MemberReferenceInvalid

PREFIX = "mr_"
# member id, store id, staff user id, issued at (seconds), how the member was found
_PAYLOAD = struct.Struct(">QIIIBxx")  # 23 bytes: the token has no base64 padding
_NONCE = 12
_LENGTH = len(PREFIX) + len(base64.urlsafe_b64encode(bytes(_NONCE + _PAYLOAD.size + 16)))

# How the member was found at the counter; stored with each read (never the value typed).
FOUND_BY = ("number", "email", "phone", "eid", "name_search", "enrolment")


@dataclass(frozen=True)
class MemberReference:
    member_id: int
    store_id: int
    staff_id: int
    issued_at: int
    found_by: str


@cache
def _cipher(secret: str) -> AESGCM:
    key = salted_hmac("loyalty.member-reference", "v1", secret=secret, algorithm="sha256")
    return AESGCM(key.digest())


def member_reference_issue(
    *, member_id: int, store_id: int, staff_id: int, found_by: str, now: float | None = None
) -> str:
    """Return a reference to this member for this staff member at this store."""
    payload = _PAYLOAD.pack(
        member_id, store_id, staff_id, int(now or time.time()), FOUND_BY.index(found_by)
    )
    nonce = os.urandom(_NONCE)
    sealed = _cipher(settings.SECRET_KEY).encrypt(nonce, payload, None)
    return PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")


def member_reference_read(
    reference: str, *, store_id: int, staff_id: int, now: float | None = None
) -> MemberReference:
    """Return what `reference` designates, if it was issued to this staff member at this store.

    Raises MemberReferenceInvalid for anything else (a bare id, a forged or foreign reference)
    and MemberReferenceExpired once its time is up (settings.MEMBER_REFERENCE_SECONDS).
    """
    if (
        not isinstance(reference, str)
        or len(reference) != _LENGTH
        or not reference.startswith(PREFIX)
    ):
        raise MemberReferenceInvalid()
    try:
        raw = base64.urlsafe_b64decode(reference[len(PREFIX) :].encode("ascii"))
        payload = _cipher(settings.SECRET_KEY).decrypt(raw[:_NONCE], raw[_NONCE:], None)
        member_id, ref_store, ref_staff, issued_at, found_by = _PAYLOAD.unpack(payload)
        found = FOUND_BY[found_by]
    except (InvalidTag, binascii.Error, UnicodeEncodeError, ValueError, struct.error, IndexError):
        raise MemberReferenceInvalid() from None
    if ref_store != store_id or ref_staff != staff_id:
        raise MemberReferenceInvalid()
    age = (now or time.time()) - issued_at
    if age > settings.MEMBER_REFERENCE_SECONDS or age < -60:
        raise MemberReferenceExpired()
    return MemberReference(member_id, ref_store, ref_staff, issued_at, found)
