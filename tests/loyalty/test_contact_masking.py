"""Masked contact details at the counter: the country code found as phonenumbers finds it."""

import phonenumbers
import pytest

from loyalty.contact import email_masked, phone_masked


def _examples():
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        example = phonenumbers.example_number(region)
        if example is not None:
            yield phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)


def test_every_region_s_example_number_keeps_the_country_code_phonenumbers_parses():
    examples = list(_examples())
    assert len(examples) > 200
    for number in examples:
        code = phonenumbers.parse(number, None).country_code
        assert phone_masked(number) == f"+{code} *** {number[-2:]}", number


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("+32470123456", "+32 *** 56"),
        ("+14155550123", "+1 *** 23"),
        ("+3584012345678", "+358 *** 78"),
        ("0470 12 34 56", "*** 56"),  # not E.164: no country code shown
        ("", None),
        (None, None),
    ],
)
def test_phone_masked(value, masked):
    assert phone_masked(value) == masked


def test_email_masked():
    assert email_masked("jan.peeters@gmail.com") == "j***@gmail.com"
    assert email_masked(None) is None
