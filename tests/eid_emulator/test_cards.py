import pytest

from eid_emulator import CARDS
from eid_emulator.cards import card_number, national_number, tlv_encode


def mod97_valid(number: str, born_after_2000: bool) -> bool:
    base = int(("2" if born_after_2000 else "") + number[:9])
    return 97 - base % 97 == int(number[9:])


@pytest.mark.parametrize("name", sorted(CARDS))
def test_national_numbers_carry_a_valid_mod97_check(name):
    person = CARDS[name]
    born_after_2000 = int(person.birth_date[-4:]) >= 2000

    assert len(person.national_number) == 11
    assert mod97_valid(person.national_number, born_after_2000)


def test_one_card_holder_is_born_after_2000_and_needs_the_2_prefix():
    number = national_number(2003, 11, 2, 37)

    assert mod97_valid(number, born_after_2000=True)
    assert not mod97_valid(number, born_after_2000=False)


def test_card_numbers_have_twelve_digits_and_a_mod97_check():
    number = card_number(5910001234)

    assert len(number) == 12 and number.isdigit()
    assert int(number[:10]) % 97 == int(number[10:]) % 97


def test_names_include_dutch_and_french_non_ascii():
    names = {p.surname for p in CARDS.values()} | {p.given_names for p in CARDS.values()}

    assert "Dubois-Lefèvre" in names
    assert any("Françoise" in name for name in names)


def test_tlv_encoding_uses_ff_for_long_values():
    assert tlv_encode(0x07, b"ab") == b"\x07\x02ab"
    assert tlv_encode(0x07, b"x" * 254)[:2] == b"\x07\xfe"
    assert tlv_encode(0x07, b"x" * 255)[:3] == b"\x07\xff\x00"
    assert tlv_encode(0x07, b"x" * 600)[:4] == b"\x07\xff\xff\x5a"


def test_identity_file_holds_the_fields_tests_look_for():
    person = CARDS["alice"]
    content = person.identity_file()

    assert content.endswith(b"\x00" * 16)
    for value in (person.national_number, person.birth_date, person.sex, person.card_number):
        assert value.encode() in content


def test_photo_looks_like_a_jpeg_with_a_marker():
    photo = CARDS["bruno"].photo()

    assert photo.startswith(b"\xff\xd8") and photo.endswith(b"\xff\xd9")
    assert b"SYNTHETIC-PHOTO-BRUNO" in photo
    assert 2500 < len(photo) < 4000
