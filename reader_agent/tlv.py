"""Parse the eID identity file, keeping only what the loyalty purpose needs."""

from __future__ import annotations

from dataclasses import dataclass

from reader_agent.errors import MalformedIdentityFile, NameTooLong

TAG_CARD_NUMBER = 0x01
TAG_SURNAME = 0x07
TAG_GIVEN_NAMES = 0x08
TAG_DOCUMENT_TYPE = 0x0F
KEPT_TAGS = frozenset({TAG_CARD_NUMBER, TAG_SURNAME, TAG_GIVEN_NAMES, TAG_DOCUMENT_TYPE})

# The longest names the card format holds (file-format document, version 5): UTF-8 bytes.
# The server takes exactly these; a longer name is refused on both sides as eid_name_too_long.
SURNAME_MAX_BYTES = 110
GIVEN_NAMES_MAX_BYTES = 95
MAX_CARD_NUMBER_LENGTH = 32
MAX_DOCUMENT_TYPE_LENGTH = 2


@dataclass(frozen=True, repr=False)
class CardIdentity:
    """The values kept from the card; the card number lives only until it is hashed."""

    card_number: str
    surname: str | None
    given_names: str | None
    document_type: str = ""

    def __repr__(self) -> str:
        # Keep names and card number out of any log line or traceback that prints this.
        return "CardIdentity(<redacted>)"


def _read_length(data: bytes | bytearray, pos: int) -> tuple[int, int]:
    """Return (length, position after it): one byte, plus 255 for each leading 0xFF."""
    length = 0
    while True:
        if pos >= len(data):
            raise MalformedIdentityFile("identity file ends inside a length")
        byte = data[pos]
        pos += 1
        length += byte
        if byte != 0xFF:
            return length, pos


def _decode_name(raw: bytes | bytearray, tag: int, max_bytes: int) -> str:
    if len(raw) > max_bytes:
        raise NameTooLong
    try:
        text = bytes(raw).decode("utf-8")
    except UnicodeDecodeError:
        # `from None`: the decode error would otherwise carry the raw bytes along.
        raise MalformedIdentityFile(f"field {tag:02X} is not valid UTF-8") from None
    if any(ch < " " for ch in text):
        raise MalformedIdentityFile(f"field {tag:02X} is not a plausible name")
    return text.strip()


def _decode_card_number(raw: bytes | bytearray) -> str:
    if not raw or len(raw) > MAX_CARD_NUMBER_LENGTH or not bytes(raw).isalnum():
        raise MalformedIdentityFile("the card number is not a plausible card number")
    return bytes(raw).decode("ascii")


def _decode_document_type(raw: bytes | bytearray) -> str:
    if not raw:
        return ""
    if len(raw) > MAX_DOCUMENT_TYPE_LENGTH or not bytes(raw).isdigit():
        raise MalformedIdentityFile("the document type is not a plausible document type")
    return str(int(bytes(raw).decode("ascii")))


def identity_from_fields(
    found: dict[int, bytes | bytearray], *, anonymous: bool = False
) -> CardIdentity:
    """Return the identity from the kept fields (by tag); names are left out when anonymous."""
    if TAG_CARD_NUMBER not in found:
        raise MalformedIdentityFile("the card gave no card number")
    card_number = _decode_card_number(found[TAG_CARD_NUMBER])
    document_type = _decode_document_type(found.get(TAG_DOCUMENT_TYPE, b""))
    if anonymous:
        return CardIdentity(card_number, None, None, document_type)
    if TAG_SURNAME not in found:
        raise MalformedIdentityFile("the card gave no surname")
    surname = _decode_name(found[TAG_SURNAME], TAG_SURNAME, SURNAME_MAX_BYTES)
    if not surname:
        raise MalformedIdentityFile("the surname is empty")
    given_names = _decode_name(
        found.get(TAG_GIVEN_NAMES, b""), TAG_GIVEN_NAMES, GIVEN_NAMES_MAX_BYTES
    )
    return CardIdentity(card_number, surname, given_names, document_type)


def parse_identity(data: bytes | bytearray) -> CardIdentity:
    """Return card number, surname, given names and document type from an identity file.

    Every other field is stepped over by its length without being decoded or copied. Raises
    MalformedIdentityFile for a file that is not one, NameTooLong for a name longer than the
    card format allows (the cashier is told which).
    """
    found: dict[int, bytes | bytearray] = {}
    pos = 0
    end = len(data)
    while pos < end:
        tag = data[pos]
        if tag == 0x00 and not any(data[pos:]):
            break  # trailing padding; tag 00 with content is the file version, skipped below
        length, pos = _read_length(data, pos + 1)
        if pos + length > end:
            raise MalformedIdentityFile("identity file ends inside a field")
        if tag in KEPT_TAGS:
            if tag in found:
                raise MalformedIdentityFile(f"field {tag:02X} appears twice")
            found[tag] = data[pos : pos + length]
        pos += length
    return identity_from_fields(found)


def parse_records(data: bytes | bytearray, *, first: int, last: int) -> list[tuple[int, bytearray]]:
    """Split a READ RECORD answer into (tag, value), each tag within [first, last].

    READ RECORD gives each record as tag, one length byte, value. A tag outside the range
    asked for means the card did not do what we asked: nothing of the answer is kept.
    """
    records: list[tuple[int, bytearray]] = []
    pos, end = 0, len(data)
    while pos < end:
        if pos + 2 > end:
            raise MalformedIdentityFile("a record ends inside its header")
        tag, length = data[pos], data[pos + 1]
        if not first <= tag <= last:
            raise MalformedIdentityFile("the card answered with a record not asked for")
        if pos + 2 + length > end:
            raise MalformedIdentityFile("a record ends inside its value")
        records.append((tag, bytearray(data[pos + 2 : pos + 2 + length])))
        pos += 2 + length
    return records
