"""Defence in depth for eID scan results: spot values the loyalty purpose must never receive.

The agent already keeps only the surname, the given names and a keyed hash of the card
number. These checks catch an agent that is misconfigured, old or tampered with: a national
register number (law of 8 Aug 1983) or a birth date in any value is refused, not stored.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from django.conf import settings

from core.inputs import ascii_digits

ALLOWED_RESULT_KEYS = frozenset(
    {"surname", "given_names", "eid_token", "read_method", "child_card"}
)
# Anchored with \A and \Z and used with fullmatch: `$` would let a trailing newline through.
EID_TOKEN_RE = re.compile(r"\A[0-9a-f]{64}\Z")


def eid_token_is_valid(value: object) -> bool:
    """Return whether the value is an agent's eID token: exactly 64 lower-case hex digits."""
    return isinstance(value, str) and EID_TOKEN_RE.fullmatch(value) is not None


def eid_token_digest(token: str) -> str:
    """Return what the server stores for an agent's eID token: HMAC-SHA256 under its own key.

    No value an agent sends lands in the database as sent: an old or tampered agent that
    puts something else than a hash in the token gets it hashed all the same.
    """
    key = settings.EID_TOKEN_HASH_KEY.encode()
    return hmac.new(key, b"eid-token\x00" + token.encode(), hashlib.sha256).hexdigest()


_DIGIT_GROUPS = re.compile(r"\d[\d\s./-]*\d|\d")
_MONTHS = (
    "jan|feb|f[ée]v|mar|maa|mrt|apr|avr|mai|mei|may|jun|juin|jul|juil|aug|ao[uû]|sep|okt|oct|"
    "nov|dec|d[ée]c"
)
_DATE_PATTERNS = [
    re.compile(r"\b\d{1,2}\s*[./-]\s*\d{1,2}\s*[./-]\s*\d{2,4}\b"),
    re.compile(r"\b\d{4}\s*[./-]\s*\d{1,2}\s*[./-]\s*\d{1,2}\b"),
    re.compile(rf"\b\d{{1,2}}[\s./-]*(?:{_MONTHS})[a-zé]*\.?[\s./-]*\d{{2,4}}\b", re.IGNORECASE),
    re.compile(r"\b(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\b"),
]


def national_number_is_valid(digits: str) -> bool:
    """Return whether 11 digits pass the national register number's mod-97 check.

    The check digits are 97 minus the first nine digits mod 97; for people born from 2000
    on, a 2 is put in front of those nine digits first.
    """
    if len(digits) != 11 or not ascii_digits(digits):
        return False
    body, check = digits[:9], int(digits[9:])
    return check in (97 - int(body) % 97, 97 - int("2" + body) % 97)


def contains_national_number(value: str) -> bool:
    """Return whether any 11 digits in the value (separators allowed) form a valid number."""
    for group in _DIGIT_GROUPS.findall(value):
        digits = re.sub(r"\D", "", group)
        for start in range(len(digits) - 10):
            if national_number_is_valid(digits[start : start + 11]):
                return True
    return False


def contains_date(value: str) -> bool:
    """Return whether the value holds something shaped like a date."""
    return any(p.search(value) for p in _DATE_PATTERNS)


def forbidden_result_fields(payload: dict) -> list[str]:
    """Return the names of keys in a scan result that may not be received, sorted.

    Unknown keys are forbidden whatever their value; known keys are forbidden when their
    value looks like a national register number or a date. Values are never returned.
    """
    bad = {key for key in payload if key not in ALLOWED_RESULT_KEYS}
    for key in ALLOWED_RESULT_KEYS & set(payload):
        value = payload[key]
        if not isinstance(value, str):
            continue
        if key == "eid_token" and eid_token_is_valid(value):
            continue  # hex of the right shape: hashed under the server's key before storage
        if contains_national_number(value) or contains_date(value):
            bad.add(key)
    return sorted(str(k)[:40] for k in bad)
