"""Spotting national register numbers and dates in what a reader agent sends."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loyalty.eid_rules import (
    contains_date,
    contains_national_number,
    forbidden_result_fields,
    national_number_is_valid,
)


def make_national_number(yymmdd: str, serial: int, born_2000_or_later: bool) -> str:
    body = f"{yymmdd}{serial:03d}"
    base = int(("2" if born_2000_or_later else "") + body)
    return f"{body}{97 - base % 97:02d}"


@given(
    st.dates().map(lambda d: d.strftime("%y%m%d")),
    st.integers(min_value=1, max_value=998),
    st.booleans(),
)
def test_every_well_formed_number_is_recognised(yymmdd, serial, later):
    number = make_national_number(yymmdd, serial, later)
    assert national_number_is_valid(number)
    grouped = f"{number[:2]}.{number[2:4]}.{number[4:6]}-{number[6:9]}.{number[9:]}"
    assert contains_national_number(grouped)
    assert contains_national_number(f"Peeters {number}")


def test_wrong_check_digits_are_not_a_national_number():
    body = "850730033"
    valid = {97 - int(body) % 97, 97 - int("2" + body) % 97}
    for check in range(100):
        assert national_number_is_valid(f"{body}{check:02d}") == (check in valid)


@pytest.mark.parametrize(
    "value",
    [
        "01.02.1990",
        "1990-02-01",
        "01/02/90",
        "15 MAART 1985",
        "15 MARS 1985",
        "3 JAN 2001",
        "19900201",
        "12.DEC.1975",
    ],
)
def test_dates_are_spotted(value):
    assert contains_date(value)


@pytest.mark.parametrize(
    "value",
    ["Peeters", "Jan", "Dubois-Lefèvre", "Françoise Marie", "Van den Broeck", "Maes Decembre"],
)
def test_names_are_not_dates(value):
    assert not contains_date(value)
    assert not contains_national_number(value)


def test_forbidden_fields_names_keys_never_values():
    nn = make_national_number("900201", 123, False)
    payload = {
        "surname": "Peeters",
        "given_names": "Lotte " + nn,
        "eid_token": "a" * 64,
        "birth_date": "01.02.1990",
        "national_number": nn,
    }
    assert forbidden_result_fields(payload) == ["birth_date", "given_names", "national_number"]
    assert (
        forbidden_result_fields(
            {"surname": "Peeters", "given_names": "Lotte", "eid_token": "0123456789" * 6 + "abcd"}
        )
        == []
    )
    assert forbidden_result_fields({"eid_token": nn}) == ["eid_token"]
