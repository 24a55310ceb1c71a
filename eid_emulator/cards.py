"""Synthetic Belgian eID cards: invented people, valid check digits, no real data."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

# Files of the eID applet, addressed by their path below the master file 3F00.
IDENTITY = (0xDF01, 0x4031)
IDENTITY_SIGNATURE = (0xDF01, 0x4032)
ADDRESS = (0xDF01, 0x4033)
ADDRESS_SIGNATURE = (0xDF01, 0x4034)
PHOTO = (0xDF01, 0x4035)
RRN_CERTIFICATE = (0xDF00, 0x503C)

ATR_T0 = bytes.fromhex("3B9894400AA503010101AD1310")
ATR_APPLET_18 = bytes.fromhex("3B7F96000080318065B08504012012 0FFF829000")


def tlv_encode(tag: int, value: bytes) -> bytes:
    """Encode one field the way the eID does: tag, 0xFF per 255 of length, remainder."""
    length = len(value)
    prefix = bytearray([tag])
    while length >= 255:
        prefix.append(0xFF)
        length -= 255
    prefix.append(length)
    return bytes(prefix) + value


def national_number(birth_year: int, month: int, day: int, sequence: int) -> str:
    """Return an 11-digit national register number with a valid mod-97 check."""
    base = f"{birth_year % 100:02d}{month:02d}{day:02d}{sequence:03d}"
    # People born from 2000 on get a '2' in front of the number for the check.
    numeric = int(("2" + base) if birth_year >= 2000 else base)
    return base + f"{97 - numeric % 97:02d}"


def card_number(serial: int) -> str:
    """Return a 12-digit card number whose last two digits are the mod-97 check."""
    base = f"{serial:010d}"
    check = int(base) % 97 or 97
    return base + f"{check:02d}"


@dataclass(frozen=True)
class SyntheticPerson:
    """Everything an invented cardholder's card carries."""

    key: str
    card_number: str
    surname: str
    given_names: str
    third_initial: str
    national_number: str
    birth_date: str
    birth_place: str
    sex: str
    nationality: str
    municipality: str
    street: str
    postal_code: str
    town: str
    valid_from: str = "01.02.2021"
    valid_until: str = "01.02.2031"
    file_version: bytes | None = None
    atr: bytes = ATR_T0
    extra: dict[int, bytes] = field(default_factory=dict)

    def photo(self) -> bytes:
        """Return a fake JPEG carrying a marker that tests can look for."""
        marker = self.photo_marker()
        body = (marker + b"\x00\x11\x22\x33") * (3000 // (len(marker) + 4))
        return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + body + b"\xff\xd9"

    def photo_marker(self) -> bytes:
        return b"SYNTHETIC-PHOTO-" + self.key.upper().encode()

    def identity_file(self) -> bytes:
        """Return the identity file 4031 in the card's TLV layout, padded with zeros."""
        chip = hashlib.sha256(self.card_number.encode()).digest()[:16]
        fields: list[tuple[int, bytes]] = []
        if self.file_version is not None:
            fields.append((0x00, self.file_version))
        fields += [
            (0x01, self.card_number.encode()),
            (0x02, chip),
            (0x03, self.valid_from.encode()),
            (0x04, self.valid_until.encode()),
            (0x05, self.municipality.encode()),
            (0x06, self.national_number.encode()),
            (0x07, self.surname.encode()),
            (0x08, self.given_names.encode()),
            (0x09, self.third_initial.encode()),
            (0x0A, self.nationality.encode()),
            (0x0B, self.birth_place.encode()),
            (0x0C, self.birth_date.encode()),
            (0x0D, self.sex.encode()),
            (0x0E, b""),
            (0x0F, b"1"),
            (0x10, b"0"),
            (0x11, hashlib.sha1(self.photo(), usedforsecurity=False).digest()),
        ]
        fields += sorted(self.extra.items())
        content = b"".join(tlv_encode(tag, value) for tag, value in fields)
        return content + b"\x00" * 16

    def address_file(self) -> bytes:
        content = (
            tlv_encode(0x01, self.street.encode())
            + tlv_encode(0x02, self.postal_code.encode())
            + tlv_encode(0x03, self.town.encode())
        )
        return content + b"\x00" * (117 - len(content) if len(content) < 117 else 4)

    def files(self) -> dict[tuple[int, int], bytes]:
        """Return every elementary file of the card by (DF, EF) identifier."""
        seed = self.key.encode()
        return {
            IDENTITY: self.identity_file(),
            IDENTITY_SIGNATURE: hashlib.sha512(seed + b"id-sig").digest() * 4,
            ADDRESS: self.address_file(),
            ADDRESS_SIGNATURE: hashlib.sha512(seed + b"addr-sig").digest() * 4,
            PHOTO: self.photo(),
            RRN_CERTIFICATE: b"SYNTHETIC-RRN-CERT-" + seed + b"\x00" * 900,
        }

    def secrets(self) -> list[bytes]:
        """Return the values that must never leave the card through the agent."""
        return [
            self.national_number.encode(),
            self.birth_date.encode(),
            self.birth_place.encode(),
            self.street.encode(),
            self.postal_code.encode(),
            self.photo_marker(),
            hashlib.sha256(self.card_number.encode()).digest()[:16],
        ]


CARDS: dict[str, SyntheticPerson] = {
    "alice": SyntheticPerson(
        key="alice",
        card_number=card_number(5910001234),
        surname="Peeters",
        given_names="Alice Marie",
        third_initial="J",
        national_number=national_number(1985, 3, 14, 124),
        birth_date="14 MAA 1985",
        birth_place="Gent",
        sex="V",
        nationality="Belg",
        municipality="Gent",
        street="Korenmarkt 17 bus 3",
        postal_code="9000",
        town="Gent",
    ),
    "bruno": SyntheticPerson(
        key="bruno",
        card_number=card_number(5920004321),
        surname="Dubois-Lefèvre",
        given_names="Bruno Émile",
        third_initial="",
        national_number=national_number(2003, 11, 2, 37),
        birth_date="02 NOV 2003",
        birth_place="Liège",
        sex="M",
        nationality="Belge",
        municipality="Liège",
        street="Rue de la Régence 58",
        postal_code="4000",
        town="Liège",
    ),
    "chloe": SyntheticPerson(
        key="chloe",
        card_number=card_number(6010007777),
        surname="Van den Broeck",
        given_names="Chloé Françoise",
        third_initial="A",
        national_number=national_number(1992, 7, 30, 282),
        birth_date="30 JUIL 1992",
        birth_place="Namur",
        sex="F",
        nationality="Belge",
        municipality="Namur",
        street="Place d'Armes 4",
        postal_code="5000",
        town="Namur",
        file_version=b"\x01",
        atr=ATR_APPLET_18,
        extra={0x12: b"\x00", 0x13: "Ünïcode-Tag".encode()},
    ),
    # A card whose identity file passes 256 bytes, to need more than one READ BINARY and a
    # multi-byte (FF x) length.
    "emma": SyntheticPerson(
        key="emma",
        card_number=card_number(6020005555),
        surname="De Smedt",
        given_names="Emma Renée",
        third_initial="L",
        national_number=national_number(2001, 1, 9, 416),
        birth_date="09 JAN 2001",
        birth_place="Antwerpen",
        sex="V",
        nationality="Belg",
        municipality="Antwerpen",
        street="Meir 100",
        postal_code="2000",
        town="Antwerpen",
        extra={0x1F: b"WORK-PERMIT-" + b"0123456789" * 29},
    ),
}
