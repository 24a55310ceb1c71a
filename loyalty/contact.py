"""Normalising the only contact data a member gives: e-mail and phone."""

from __future__ import annotations

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from core.errors import InvalidEmail, InvalidPhone

DEFAULT_REGION = "BE"


def email_normalize(value: str) -> str:
    """Return the e-mail trimmed with its domain lower-cased, or raise InvalidEmail."""
    value = (value or "").strip()
    if len(value) > 254:
        raise InvalidEmail()
    try:
        validate_email(value)
    except ValidationError:
        raise InvalidEmail() from None
    local, _, domain = value.rpartition("@")
    return f"{local}@{domain.lower()}"


def phone_normalize(value: str, *, region: str = DEFAULT_REGION) -> str:
    """Return the phone number in E.164 (Belgian by default), or raise InvalidPhone."""
    value = (value or "").strip()
    if not value or len(value) > 32:
        raise InvalidPhone()
    try:
        parsed = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        raise InvalidPhone() from None
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidPhone()
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def email_masked(value: str | None) -> str | None:
    """Return the e-mail with all but the first letter of its local part hidden: j***@gmail.com.

    Enough for a customer to confirm "yes, that is my address", too little to copy it.
    """
    if not value:
        return None
    local, _, domain = value.rpartition("@")
    return f"{local[:1]}***@{domain}"


def phone_masked(value: str | None) -> str | None:
    """Return the phone number with all but its country code and last two digits hidden."""
    if not value:
        return None
    code = _country_code(value)
    return f"{code} *** {value[-2:]}".strip()


def _country_code(value: str) -> str:
    """Return "+32" for a number in E.164 ("+32..."), "" for anything else.

    Country calling codes are prefix-free (ITU E.164), so the first one to three digits that
    are one of them are it: what `phonenumbers.parse` finds, without parsing the rest (every
    counter lookup masks a phone). Anything not in E.164 is parsed as before.
    """
    digits = value[1:4]
    if value.startswith("+") and digits.isascii() and digits.isdigit():
        for n in (1, 2, 3):
            if int(digits[:n]) in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
                return "+" + digits[:n]
    try:
        return f"+{phonenumbers.parse(value, None).country_code}"
    except phonenumbers.NumberParseException:
        return ""
