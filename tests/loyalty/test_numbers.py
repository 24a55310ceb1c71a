import pytest

from core.errors import InvalidMemberNumber
from loyalty.numbers import (
    luhn_check_digit,
    member_number_clean,
    member_number_generate,
    member_number_is_valid,
)


def test_generated_numbers_are_valid_and_twelve_digits():
    for _ in range(200):
        number = member_number_generate()
        assert len(number) == 12 and number.isdigit() and number[0] != "0"
        assert member_number_is_valid(number)


def test_luhn_known_value():
    # 7992739871 is the textbook Luhn example with check digit 3.
    assert luhn_check_digit("7992739871") == "3"


def test_every_single_digit_typo_is_caught():
    number = member_number_generate()
    for pos in range(12):
        for digit in "0123456789":
            if digit != number[pos]:
                typo = number[:pos] + digit + number[pos + 1 :]
                assert not member_number_is_valid(typo)


def test_clean_accepts_grouping_and_refuses_wrong_check_digit():
    number = member_number_generate()
    grouped = f"{number[:4]} {number[4:8]}-{number[8:]}"
    assert member_number_clean(grouped) == number
    wrong = number[:-1] + str((int(number[-1]) + 1) % 10)
    with pytest.raises(InvalidMemberNumber):
        member_number_clean(wrong)
