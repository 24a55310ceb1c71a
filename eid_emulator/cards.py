"""Synthetic Belgian eID cards: invented people, valid check digits, no real data.

Each card carries an applet version (1.7 or 1.8) that decides its ATR, what GET CARD DATA
answers, whether READ RECORD exists and how the photo is hashed, and a document type (identity
file tag 0F) for every kind of card in circulation: Belgian eID, Kids-ID, the cards for
foreigners and their kids versions.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass, field

# Files of the eID applet, addressed by their path below the master file 3F00.
IDENTITY = (0xDF01, 0x4031)
IDENTITY_SIGNATURE = (0xDF01, 0x4032)
ADDRESS = (0xDF01, 0x4033)
ADDRESS_SIGNATURE = (0xDF01, 0x4034)
PHOTO = (0xDF01, 0x4035)
BASIC_PUBLIC_KEY = (0xDF01, 0x4040)
RRN_CERTIFICATE = (0xDF00, 0x503C)
# Files with TLV records, on which READ RECORD works (applet 1.8).
STRUCTURED_FILES = frozenset({IDENTITY, ADDRESS})

APPLET_17 = 0x17
APPLET_18 = 0x18
# ATRs seen on Belgian cards: two of applet 1.7, one of applet 1.8.
ATR_APPLET_17 = bytes.fromhex("3B9894400AA503010101AD1310")
ATR_APPLET_17_B = bytes.fromhex("3B9813400AA503010101AD1311")
ATR_APPLET_18 = bytes.fromhex("3B7F96000080318065B085040120120FFF829000")
# Kept under its old name: the first 1.7 ATR, which speaks T=0.
ATR_T0 = ATR_APPLET_17

# Identity file tag 0F, as the file-format document lists them.
DOCUMENT_TYPES: dict[str, str] = {
    "1": "Belgian eID",
    "6": "Kids-ID",
    "7": "bootstrap card",
    "8": "habilitation card",
    # Foreigners' cards (A to N, K, L, EU, EU+, ...): same chip, same files.
    **{str(n): f"foreigner card (type {n})" for n in (*range(11, 24), 27, 28, *range(31, 37))},
    **{str(n): f"foreigner kids card (type {n})" for n in range(61, 70)},
}
CHILD_DOCUMENT_TYPES = frozenset({"6", *(str(n) for n in range(61, 70))})


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
    applet: int = APPLET_17
    atr: bytes | None = None
    document_type: str = "1"
    activated: bool = True
    """False for a card that was never activated: every command answers 6D 00."""
    extra: dict[int, bytes] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.atr is None:
            default = ATR_APPLET_18 if self.applet == APPLET_18 else ATR_APPLET_17
            object.__setattr__(self, "atr", default)

    def variant(self, **changes) -> SyntheticPerson:
        """Return this person's card with some fields changed (e.g. another document type)."""
        if "applet" in changes and "atr" not in changes:
            changes["atr"] = None
        return dataclasses.replace(self, **changes)

    @property
    def is_child_card(self) -> bool:
        return self.document_type in CHILD_DOCUMENT_TYPES

    def photo(self) -> bytes:
        """Return a fake JPEG carrying a marker that tests can look for."""
        marker = self.photo_marker()
        body = (marker + b"\x00\x11\x22\x33") * (3000 // (len(marker) + 4))
        return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + body + b"\xff\xd9"

    def photo_marker(self) -> bytes:
        return b"SYNTHETIC-PHOTO-" + self.key.upper().encode()

    def chip_number(self) -> bytes:
        """Return the 16-byte chip serial: tag 02 of the identity file and GET CARD DATA's."""
        return hashlib.sha256(b"chip:" + self.card_number.encode()).digest()[:16]

    def photo_hash(self) -> bytes:
        """Return tag 11: SHA-384 of the photo on applet 1.8 cards, SHA-1 on 1.7 cards."""
        if self.applet == APPLET_18:
            return hashlib.sha384(self.photo()).digest()
        return hashlib.sha1(self.photo(), usedforsecurity=False).digest()

    def basic_public_key(self) -> bytes:
        return b"SYNTHETIC-BASIC-KEY-" + self.key.encode() + bytes(80)

    def identity_fields(self) -> list[tuple[int, bytes]]:
        """Return the identity file's records (tag, value) in file order."""
        fields: list[tuple[int, bytes]] = []
        if self.file_version is not None:
            fields.append((0x00, self.file_version))
        fields += [
            (0x01, self.card_number.encode()),
            (0x02, self.chip_number()),
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
            (0x0F, self.document_type.encode()),
            (0x10, b"0"),
            (0x11, self.photo_hash()),
        ]
        extra = dict(self.extra)
        if self.applet == APPLET_18:
            extra.setdefault(0x1A, hashlib.sha384(self.basic_public_key()).digest())
        fields += sorted(extra.items())
        return fields

    def identity_file(self) -> bytes:
        """Return the identity file 4031 in the card's TLV layout, padded with zeros."""
        content = b"".join(tlv_encode(tag, value) for tag, value in self.identity_fields())
        return content + b"\x00" * 16

    def address_fields(self) -> list[tuple[int, bytes]]:
        return [
            (0x01, self.street.encode()),
            (0x02, self.postal_code.encode()),
            (0x03, self.town.encode()),
        ]

    def address_file(self) -> bytes:
        content = b"".join(tlv_encode(tag, value) for tag, value in self.address_fields())
        return content + b"\x00" * (117 - len(content) if len(content) < 117 else 4)

    def records(self, path: tuple[int, int]) -> list[tuple[int, bytes]]:
        """Return the TLV records of a structured file."""
        return self.identity_fields() if path == IDENTITY else self.address_fields()

    def files(self) -> dict[tuple[int, int], bytes]:
        """Return every elementary file of the card by (DF, EF) identifier."""
        seed = self.key.encode()
        files = {
            IDENTITY: self.identity_file(),
            IDENTITY_SIGNATURE: hashlib.sha512(seed + b"id-sig").digest() * 4,
            ADDRESS: self.address_file(),
            ADDRESS_SIGNATURE: hashlib.sha512(seed + b"addr-sig").digest() * 4,
            PHOTO: self.photo(),
            RRN_CERTIFICATE: b"SYNTHETIC-RRN-CERT-" + seed + b"\x00" * 900,
        }
        if self.applet == APPLET_18:
            files[BASIC_PUBLIC_KEY] = self.basic_public_key()
        return files

    def card_data(self, *, with_pin_tries: bool = False) -> bytes:
        """Return GET CARD DATA's answer: 28 bytes, or 31 with PIN tries left (applet 1.8)."""
        data = (
            self.chip_number()
            + bytes([0xD0, 0x01, 0x02])  # component code, OS number, OS version
            + bytes([0x0F, 0x03])  # softmask number and version
            + bytes([self.applet])  # applet version: 0x17 or 0x18
            + b"\x00\x01"  # global OS version
            + bytes([0x01, 0x01, 0x01])  # applet interface, PKCS#1 support, key exchange
            + bytes([0x0F if self.activated else 0x07])  # life cycle: 0F personalised
        )
        if with_pin_tries:
            data += b"\x03\x00\x00"
        return data

    def secrets(self) -> list[bytes]:
        """Return the values that must never leave the card through the agent."""
        return [
            self.national_number.encode(),
            self.birth_date.encode(),
            self.birth_place.encode(),
            self.street.encode(),
            self.postal_code.encode(),
            self.photo_marker(),
            self.chip_number(),
        ]


# Tags of the identity file that a minimal reader needs; everything else stays on the chip.
SENSITIVE_TAGS = frozenset({0x06, 0x0C, 0x0D, 0x10, 0x15, 0x16})

_ALICE = SyntheticPerson(
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
)

CARDS: dict[str, SyntheticPerson] = {
    # Belgian eID, applet 1.7, the T=0 ATR.
    "alice": _ALICE,
    # Belgian eID, applet 1.7, the other 1.7 ATR.
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
        atr=ATR_APPLET_17_B,
    ),
    # Belgian eID, applet 1.8.
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
        applet=APPLET_18,
        extra={0x12: b"\x00", 0x13: "Ünïcode-Tag".encode()},
    ),
    # A foreigner's card (EU+) on applet 1.7 whose identity file passes 256 bytes, to need
    # more than one READ BINARY, with the sensitive tags a 1.7 read cannot avoid.
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
        nationality="Nederlandse",
        municipality="Antwerpen",
        street="Meir 100",
        postal_code="2000",
        town="Antwerpen",
        document_type="32",
        extra={
            0x10: b"1",
            0x15: b"12.05.2018 SYRIE",
            0x16: b"ARBEIDSMARKT: ONBEPERKT",
            0x19: b"REGIONAL-FILE-" + b"0123456789" * 12,
            0x1F: b"03.04.2017",
        },
    ),
    # Kids-ID (under 12), applet 1.8.
    "lucas": SyntheticPerson(
        key="lucas",
        card_number=card_number(6110002468),
        surname="Janssens",
        given_names="Lucas Pieter",
        third_initial="",
        national_number=national_number(2017, 6, 21, 105),
        birth_date="21 JUN 2017",
        birth_place="Leuven",
        sex="M",
        nationality="Belg",
        municipality="Leuven",
        street="Naamsestraat 12",
        postal_code="3000",
        town="Leuven",
        applet=APPLET_18,
        document_type="6",
    ),
    # Kids-ID on applet 1.7.
    "hugo": SyntheticPerson(
        key="hugo",
        card_number=card_number(5930001357),
        surname="Lambert",
        given_names="Hugo",
        third_initial="",
        national_number=national_number(2016, 2, 3, 211),
        birth_date="03 FEB 2016",
        birth_place="Mons",
        sex="M",
        nationality="Belge",
        municipality="Mons",
        street="Grand-Place 2",
        postal_code="7000",
        town="Mons",
        document_type="6",
    ),
    # A foreigner's card (EU) on applet 1.8, with a special status and a protection date.
    "nora": SyntheticPerson(
        key="nora",
        card_number=card_number(6120003690),
        surname="Haddad",
        given_names="Nora Layla",
        third_initial="",
        national_number=national_number(1990, 9, 12, 348),
        birth_date="12 SEP 1990",
        birth_place="Beyrouth",
        sex="F",
        nationality="Libanaise",
        municipality="Bruxelles",
        street="Rue Neuve 1",
        postal_code="1000",
        town="Bruxelles",
        applet=APPLET_18,
        document_type="31",
        extra={0x10: b"2", 0x15: b"04.11.2016 LIBAN", 0x16: b"MARCHE DU TRAVAIL: ILLIMITE"},
    ),
    # A foreigner's card (A) on applet 1.7.
    "omar": SyntheticPerson(
        key="omar",
        card_number=card_number(5940008642),
        surname="Benali",
        given_names="Omar",
        third_initial="",
        national_number=national_number(1978, 12, 1, 57),
        birth_date="01 DEC 1978",
        birth_place="Casablanca",
        sex="M",
        nationality="Marocaine",
        municipality="Charleroi",
        street="Boulevard Tirou 9",
        postal_code="6000",
        town="Charleroi",
        document_type="11",
    ),
    # A foreigner's kids card on applet 1.8.
    "yara": SyntheticPerson(
        key="yara",
        card_number=card_number(6130009753),
        surname="Kowalska",
        given_names="Yara",
        third_initial="",
        national_number=national_number(2018, 4, 8, 122),
        birth_date="08 APR 2018",
        birth_place="Kraków",
        sex="F",
        nationality="Poolse",
        municipality="Brugge",
        street="Markt 3",
        postal_code="8000",
        town="Brugge",
        applet=APPLET_18,
        document_type="61",
    ),
    # The longest names the file format allows: surname 110 bytes, given names 95 bytes of
    # UTF-8 (with two-byte letters, fewer characters).
    "max": SyntheticPerson(
        key="max",
        card_number=card_number(6140001122),
        surname=("Vandenbroucke-" + "é" * 48 + "-Smet" + "x" * 80).encode()[:110].decode(),
        given_names=("Maximiliaan " + "Ö" * 30 + " Theodoor" + "y" * 60).encode()[:95].decode(),
        third_initial="Z",
        national_number=national_number(1970, 1, 1, 999),
        birth_date="01 JAN 1970",
        birth_place="Brussel",
        sex="M",
        nationality="Belg",
        municipality="Brussel",
        street="Wetstraat 16",
        postal_code="1000",
        town="Brussel",
        applet=APPLET_18,
    ),
    # A card issued abroad and never activated: it answers 6D 00 to everything.
    "zoe": SyntheticPerson(
        key="zoe",
        card_number=card_number(6150004455),
        surname="Claes",
        given_names="Zoë",
        third_initial="",
        national_number=national_number(1995, 5, 5, 510),
        birth_date="05 MEI 1995",
        birth_place="Hasselt",
        sex="V",
        nationality="Belg",
        municipality="Consulaat Montréal",
        street="Rue Sherbrooke 1",
        postal_code="9999",
        town="Montréal",
        applet=APPLET_18,
        activated=False,
    ),
}
