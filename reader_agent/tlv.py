"""Parse the eID identity file, keeping only what the loyalty purpose needs."""

from __future__ import annotations

from dataclasses import dataclass

from reader_agent.errors import MalformedIdentityFile

TAG_CARD_NUMBER = 0x01
TAG_SURNAME = 0x07
TAG_GIVEN_NAMES = 0x08
KEPT_TAGS = frozenset({TAG_CARD_NUMBER, TAG_SURNAME, TAG_GIVEN_NAMES})

# The longest name the card can hold is far shorter; this bounds what we hand the server.
MAX_NAME_LENGTH = 200
MAX_CARD_NUMBER_LENGTH = 32


@dataclass(frozen=True, repr=False)
class CardIdentity:
    """The three values kept from the card; the card number lives only until it is hashed."""

    card_number: str
    surname: str
    given_names: str

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


def _decode_name(raw: bytes | bytearray, tag: int) -> str:
    try:
        text = bytes(raw).decode("utf-8")
    except UnicodeDecodeError:
        # `from None`: the decode error would otherwise carry the raw bytes along.
        raise MalformedIdentityFile(f"field {tag:02X} is not valid UTF-8") from None
    if len(text) > MAX_NAME_LENGTH or any(ch < " " for ch in text):
        raise MalformedIdentityFile(f"field {tag:02X} is not a plausible name")
    return text.strip()


def _decode_card_number(raw: bytes | bytearray) -> str:
    if not raw or len(raw) > MAX_CARD_NUMBER_LENGTH or not bytes(raw).isalnum():
        raise MalformedIdentityFile("the card number is not a plausible card number")
    return bytes(raw).decode("ascii")


def parse_identity(data: bytes | bytearray) -> CardIdentity:
    """Return card number, surname and given names from an identity file.

    Every other field is stepped over by its length without being decoded or copied.
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
    if TAG_CARD_NUMBER not in found or TAG_SURNAME not in found:
        raise MalformedIdentityFile("identity file lacks the card number or surname")
    surname = _decode_name(found[TAG_SURNAME], TAG_SURNAME)
    if not surname:
        raise MalformedIdentityFile("the surname is empty")
    return CardIdentity(
        card_number=_decode_card_number(found[TAG_CARD_NUMBER]),
        surname=surname,
        given_names=_decode_name(found.get(TAG_GIVEN_NAMES, b""), TAG_GIVEN_NAMES),
    )
