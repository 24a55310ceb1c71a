import pytest

from eid_emulator.cards import CARDS, tlv_encode
from reader_agent.errors import MalformedIdentityFile, NameTooLong
from reader_agent.tlv import GIVEN_NAMES_MAX_BYTES, SURNAME_MAX_BYTES, parse_identity


def identity(*fields: tuple[int, bytes], padding: int = 0) -> bytes:
    return b"".join(tlv_encode(tag, value) for tag, value in fields) + b"\x00" * padding


MINIMAL = ((0x01, b"591000123475"), (0x07, b"Peeters"), (0x08, b"Alice Marie"))


def test_keeps_card_number_surname_and_given_names():
    parsed = parse_identity(identity(*MINIMAL, padding=20))

    assert (parsed.card_number, parsed.surname, parsed.given_names) == (
        "591000123475",
        "Peeters",
        "Alice Marie",
    )


def test_decodes_non_ascii_names_as_utf8():
    parsed = parse_identity(CARDS["chloe"].identity_file())

    assert parsed.surname == "Van den Broeck"
    assert parsed.given_names == "Chloé Françoise"


@pytest.mark.parametrize("name", sorted(CARDS))
def test_returns_only_the_kept_values(name):
    person = CARDS[name]

    parsed = parse_identity(person.identity_file())

    assert set(vars(parsed)) == {"card_number", "surname", "given_names", "document_type"}
    assert parsed.document_type == person.document_type
    kept = "|".join(vars(parsed).values())
    for secret in (person.national_number, person.birth_date, person.birth_place):
        assert secret not in kept


def test_reads_multi_byte_lengths():
    # given: a skipped field of 255 + 45 bytes (FF 2D) and one of 510 + 3 (FF FF 03)
    long_field = (0x1F, b"x" * 300)
    longer_field = (0x12, b"y" * 513)
    data = identity(long_field, *MINIMAL[:2], longer_field, MINIMAL[2], padding=3)
    assert data[1:3] == b"\xff\x2d"

    parsed = parse_identity(data)

    assert parsed.given_names == "Alice Marie"


def test_length_of_exactly_255_is_ff_00():
    data = identity(MINIMAL[0], (0x0B, b"b" * 255), *MINIMAL[1:])
    assert data[14:17] == b"\x0b\xff\x00"

    assert parse_identity(data).surname == "Peeters"


@pytest.mark.parametrize(
    ("tag", "longest"), [(0x07, SURNAME_MAX_BYTES), (0x08, GIVEN_NAMES_MAX_BYTES)]
)
def test_takes_names_up_to_the_card_format_and_refuses_longer(tag, longest):
    fields = {0x01: MINIMAL[0][1], 0x07: b"Peeters", 0x08: b"Alice"}
    fields[tag] = "é".encode() * (longest // 2) + b"a" * (longest % 2)
    assert parse_identity(identity(*sorted(fields.items())))

    fields[tag] += b"a"
    with pytest.raises(NameTooLong) as caught:
        parse_identity(identity(*sorted(fields.items())))
    assert caught.value.code == "eid_name_too_long"


def test_steps_over_the_file_version_tag_00():
    parsed = parse_identity(identity((0x00, b"\x01"), *MINIMAL, padding=8))

    assert parsed.surname == "Peeters"


def test_empty_tag_00_before_content_is_not_mistaken_for_padding():
    parsed = parse_identity(b"\x00\x00" + identity(*MINIMAL))

    assert parsed.card_number == "591000123475"


def test_given_names_may_be_absent():
    assert parse_identity(identity(*MINIMAL[:2])).given_names == ""


def test_does_not_decode_skipped_fields():
    # given: invalid UTF-8 in the national number and birth date fields
    data = identity(MINIMAL[0], (0x06, b"\xff\xfe\xfd"), *MINIMAL[1:], (0x0C, b"\xc3\x28"))

    assert parse_identity(data).surname == "Peeters"


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x00" * 30,
        identity(*MINIMAL[1:]),  # no card number
        identity(MINIMAL[0], MINIMAL[2]),  # no surname
        identity(*MINIMAL, MINIMAL[1]),  # surname twice
        identity(MINIMAL[0], (0x07, b"Pe\xffters"), MINIMAL[2]),  # invalid UTF-8
        identity(MINIMAL[0], (0x07, b""), MINIMAL[2]),  # empty surname
        identity(MINIMAL[0], (0x07, b"Pee\nters"), MINIMAL[2]),  # control character
        identity((0x01, b"59100-012347"), *MINIMAL[1:]),  # not a card number
        identity(*MINIMAL)[:-3],  # truncated value
        identity(*MINIMAL) + b"\x09",  # tag without length
        identity(*MINIMAL) + b"\x09\xff\xff",  # truncated multi-byte length
    ],
    ids=[
        "empty",
        "only-padding",
        "no-card-number",
        "no-surname",
        "duplicate",
        "bad-utf8",
        "empty-surname",
        "control-char",
        "bad-card-number",
        "truncated-value",
        "dangling-tag",
        "truncated-length",
    ],
)
def test_malformed_files_raise_a_typed_error(data):
    with pytest.raises(MalformedIdentityFile) as caught:
        parse_identity(data)

    assert caught.value.code == "card_unreadable"


def test_errors_and_repr_carry_no_personal_data():
    data = identity(MINIMAL[0], (0x07, b"Peeters\xff"), MINIMAL[2])
    with pytest.raises(MalformedIdentityFile) as caught:
        parse_identity(data)
    assert "Peeters" not in str(caught.value)
    assert caught.value.__cause__ is None

    parsed = parse_identity(identity(*MINIMAL))
    assert "Peeters" not in repr(parsed)
    assert "591000123475" not in repr(parsed)
