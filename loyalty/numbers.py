"""Member numbers: 12 digits, the last a Luhn check digit, so a typo is caught at the counter."""

from __future__ import annotations

import secrets

from core.errors import InvalidMemberNumber
from core.inputs import ascii_digits

MEMBER_NUMBER_LENGTH = 12


def luhn_check_digit(payload: str) -> str:
    """Return the Luhn check digit for a string of digits."""
    total = 0
    for i, ch in enumerate(reversed(payload)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def member_number_generate() -> str:
    """Return a fresh random member number (never starting with 0, so it survives spreadsheets)."""
    payload = str(secrets.randbelow(9) + 1) + "".join(
        str(secrets.randbelow(10)) for _ in range(MEMBER_NUMBER_LENGTH - 2)
    )
    return payload + luhn_check_digit(payload)


def member_number_is_valid(value: str) -> bool:
    """Return whether the value is 12 digits with a correct check digit."""
    return (
        len(value) == MEMBER_NUMBER_LENGTH
        and ascii_digits(value)
        and luhn_check_digit(value[:-1]) == value[-1]
    )


def member_number_clean(value: str) -> str:
    """Return the member number without spaces or dashes, or raise InvalidMemberNumber."""
    cleaned = "".join(ch for ch in str(value) if ch not in " -.")
    if not member_number_is_valid(cleaned):
        raise InvalidMemberNumber()
    return cleaned


def member_number_looks_like(value: str) -> bool:
    """Return whether the input is shaped like a member number (digits, maybe grouped)."""
    cleaned = "".join(ch for ch in str(value) if ch not in " -.")
    return len(cleaned) == MEMBER_NUMBER_LENGTH and ascii_digits(cleaned)
