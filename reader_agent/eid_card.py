"""Read a Belgian eID with the fewest bytes the card allows and reduce it to what the server gets.

Order of commands (at most `MAX_APDUS` per card, retries included):

1. SELECT the Belpic applet by AID, as the official middleware does, so a card that another
   program left in another applet still reads;
2. the applet version from the ATR, or GET CARD DATA when the ATR is not one we know;
3. SELECT the identity file 3F00/DF01/4031;
4. applet 1.8: READ RECORD of tag 01 (card number), tags 07-08 (names) and tag 0F (document
   type) only, so the national number (06), birth date (0C), sex (0D) and every other tag
   stay on the chip; applet 1.7 (no READ RECORD): READ BINARY of the whole file, parsed and
   wiped in memory at once.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from reader_agent.eid_token import EidTokeniser
from reader_agent.errors import (
    CardNotActivated,
    CardUnreadable,
    MalformedIdentityFile,
)
from reader_agent.tlv import (
    TAG_CARD_NUMBER,
    TAG_DOCUMENT_TYPE,
    TAG_GIVEN_NAMES,
    TAG_SURNAME,
    CardIdentity,
    identity_from_fields,
    parse_identity,
    parse_records,
)
from reader_agent.transport import CardTransport

BELPIC_AID = bytes.fromhex("A00000003029057000AD13100101FF")
SELECT_BELPIC = bytes.fromhex("00A4040C0F") + BELPIC_AID
GET_CARD_DATA = bytes.fromhex("80E400001C")
CARD_DATA_LENGTH = 28
APPLET_VERSION_OFFSET = 21
LIFE_CYCLE_OFFSET = 27
# 3F00/DF01/4031, by path from the MF, no FCI wanted: the only file the agent ever selects.
SELECT_IDENTITY_BY_PATH = bytes.fromhex("00A4080C04DF014031")
SELECT_STEPS = tuple(
    bytes.fromhex("00A4020C02") + fid for fid in (b"\x3f\x00", b"\xdf\x01", b"\x40\x31")
)
# Status words meaning "this card does not do SELECT by path": then select step by step.
_PATH_SELECT_UNSUPPORTED = {(0x6A, 0x86), (0x6A, 0x81), (0x6E, 0x00)}
# A real identity file is well below 1 KB; anything bigger is not an eID answering sanely.
MAX_IDENTITY_FILE = 2048
MAX_GET_RESPONSE_ROUNDS = 4
# The most commands one scan may send, retries included.
MAX_APDUS = 6

# ATRs of Belgian cards, by applet version (the ATR's historical bytes tell them apart).
ATR_APPLET_VERSIONS = {
    bytes.fromhex("3B9894400AA503010101AD1310"): 0x17,
    bytes.fromhex("3B9813400AA503010101AD1311"): 0x17,
    bytes.fromhex("3B7F96000080318065B085040120120FFF829000"): 0x18,
}

READ_RECORD = "read_record"
READ_BINARY = "read_binary"
# The tag ranges asked with READ RECORD: never a range that holds 06, 0C or 0D.
NAMED_RECORDS = ((TAG_CARD_NUMBER, TAG_CARD_NUMBER), (TAG_SURNAME, TAG_GIVEN_NAMES))
ANONYMOUS_RECORDS = ((TAG_CARD_NUMBER, TAG_CARD_NUMBER),)
DOCUMENT_TYPE_RECORD = (TAG_DOCUMENT_TYPE, TAG_DOCUMENT_TYPE)
# Document types (tag 0F) of children's cards: Kids-ID and the foreigners' kids cards.
CHILD_DOCUMENT_TYPES = frozenset({"6", *(str(n) for n in range(61, 70))})


@dataclass(frozen=True, repr=False)
class ScanResult:
    """The minimised result of a scan: exactly what the server's result endpoint accepts."""

    eid_token: str
    read_method: str
    child_card: bool
    surname: str | None = None
    given_names: str | None = None

    def as_json(self) -> dict[str, object]:
        body: dict[str, object] = {
            "eid_token": self.eid_token,
            "read_method": self.read_method,
            "child_card": self.child_card,
        }
        if self.surname is not None:
            body["surname"] = self.surname
            body["given_names"] = self.given_names or ""
        return body

    def __repr__(self) -> str:
        return "ScanResult(<redacted>)"


class CountingTransport:
    """Pass APDUs through to a transport, refusing any beyond the scan's budget."""

    def __init__(self, transport: CardTransport, budget: int = MAX_APDUS) -> None:
        self.transport = transport
        self.budget = budget
        self.sent = 0

    def transmit(self, apdu: bytes) -> tuple[bytes, int, int]:
        if self.sent >= self.budget:
            raise CardUnreadable("the card needed more commands than a scan may send")
        self.sent += 1
        return self.transport.transmit(apdu)


class IdentityReader:
    """Read the fields a scan needs from the card in the reader, and nothing it does not."""

    def __init__(
        self,
        transport: CardTransport,
        *,
        chunk_size: int = 256,
        wrong_length_pause: float = 0.005,
        budget: int = MAX_APDUS,
    ) -> None:
        if not 1 <= chunk_size <= 256:
            raise ValueError("chunk_size must be between 1 and 256")
        self.card = CountingTransport(transport, budget)
        self.atr = getattr(transport, "atr", None)
        self.chunk_size = chunk_size
        # Old cards need a short pause before a command re-sent after 6C xx.
        self.wrong_length_pause = wrong_length_pause
        self.method = ""

    @property
    def apdus_sent(self) -> int:
        return self.card.sent

    def read(self, *, anonymous: bool = False) -> CardIdentity:
        """Return the card's identity (card number, names unless anonymous, document type)."""
        self.select_belpic()
        version = ATR_APPLET_VERSIONS.get(bytes(self.atr or b""))
        if version is None:
            version = self.applet_version()
        self._select_identity_file()
        if version >= 0x18:
            identity = self._read_records(anonymous=anonymous)
            if identity is not None:
                self.method = READ_RECORD
                return identity
        self.method = READ_BINARY
        raw = self.read_identity_file()
        try:
            identity = parse_identity(raw)
        finally:
            # The raw file holds the national number, birth date and sex: overwrite it now
            # rather than leave it to the garbage collector.
            raw[:] = bytes(len(raw))
        if anonymous:
            identity = CardIdentity(
                card_number=identity.card_number,
                surname=None,
                given_names=None,
                document_type=identity.document_type,
            )
        return identity

    # -- applet and card data ------------------------------------------------------------------

    def select_belpic(self) -> None:
        _, sw1, sw2 = self._exchange(SELECT_BELPIC)
        if sw1 in (0x90, 0x61):
            return
        if (sw1, sw2) == (0x6D, 0x00):
            raise CardNotActivated
        if (sw1, sw2) == (0x6A, 0x82):
            raise CardUnreadable("this card has no Belgian eID applet")
        raise CardUnreadable(f"the card answered {sw1:02X} {sw2:02X} to SELECT of the applet")

    def card_data(self) -> bytes:
        """Return GET CARD DATA's 28 bytes (chip serial, versions, life cycle; nothing personal)."""
        data, sw1, sw2 = self._exchange(GET_CARD_DATA)
        if sw1 == 0x6C:
            data, sw1, sw2 = self._exchange(GET_CARD_DATA[:4] + bytes([sw2]))
        if (sw1, sw2) == (0x6D, 0x00):
            raise CardNotActivated
        if (sw1, sw2) != (0x90, 0x00) or len(data) < CARD_DATA_LENGTH:
            raise CardUnreadable(f"the card answered {sw1:02X} {sw2:02X} to GET CARD DATA")
        return data

    def applet_version(self) -> int:
        data = bytearray(self.card_data())
        try:
            if data[LIFE_CYCLE_OFFSET] != 0x0F:
                raise CardNotActivated
            return data[APPLET_VERSION_OFFSET]
        finally:
            data[:] = bytes(len(data))  # the chip serial is of no use to us

    # -- the identity file ---------------------------------------------------------------------

    def _select_identity_file(self) -> None:
        _, sw1, sw2 = self._exchange(SELECT_IDENTITY_BY_PATH)
        if sw1 in (0x90, 0x61):
            return
        if (sw1, sw2) == (0x6D, 0x00):
            raise CardNotActivated
        if (sw1, sw2) in _PATH_SELECT_UNSUPPORTED:
            for step in SELECT_STEPS:
                _, sw1, sw2 = self._exchange(step)
                if sw1 not in (0x90, 0x61):
                    break
            else:
                return
        if (sw1, sw2) == (0x6A, 0x82):
            raise CardUnreadable("this card has no eID identity file")
        raise CardUnreadable(f"the card answered {sw1:02X} {sw2:02X} to SELECT")

    def _read_records(self, *, anonymous: bool) -> CardIdentity | None:
        """Return the identity from single records, or None when the card has no READ RECORD."""
        found: dict[int, bytearray] = {}
        ranges = (*(ANONYMOUS_RECORDS if anonymous else NAMED_RECORDS), DOCUMENT_TYPE_RECORD)
        try:
            for first, last in ranges:
                data = self._read_record(first, last)
                if data is None:
                    if not found:
                        return None  # 6D 00 / 69 81 on the first: a card without READ RECORD
                    raise CardUnreadable("the card stopped answering READ RECORD")
                try:
                    for tag, value in parse_records(data, first=first, last=last):
                        if tag in found:
                            raise MalformedIdentityFile(f"field {tag:02X} appears twice")
                        found[tag] = value
                finally:
                    data[:] = bytes(len(data))
            return identity_from_fields(found, anonymous=anonymous)
        finally:
            for value in found.values():
                value[:] = bytes(len(value))

    def _read_record(self, first: int, last: int) -> bytearray | None:
        apdu = bytes([0x80, 0xB2, first, last, 0x00])
        data, sw1, sw2 = self._exchange(apdu)
        if sw1 == 0x6C:
            time.sleep(self.wrong_length_pause)
            data, sw1, sw2 = self._exchange(apdu[:4] + bytes([sw2]))
        if (sw1, sw2) == (0x90, 0x00):
            return bytearray(data)
        if (sw1, sw2) == (0x6A, 0x83):
            return bytearray()  # no such record on this card (e.g. no document type)
        if (sw1, sw2) in ((0x6D, 0x00), (0x69, 0x81), (0x6E, 0x00)):
            return None
        raise CardUnreadable(f"the card answered {sw1:02X} {sw2:02X} to READ RECORD")

    def read_identity_file(self) -> bytearray:
        """Return the raw identity file of a card without READ RECORD (caller wipes it)."""
        content = bytearray()
        while True:
            if len(content) >= MAX_IDENTITY_FILE:
                raise CardUnreadable("the identity file is larger than an eID's")
            wanted = self.chunk_size
            last_chunk = False
            data, sw1, sw2 = self._read_binary(len(content), wanted)
            if sw1 == 0x6C:
                time.sleep(self.wrong_length_pause)
                # 6C xx gives the bytes left: fewer than asked means this is the last chunk.
                last_chunk = (sw2 or 256) < wanted
                wanted = sw2 or 256
                data, sw1, sw2 = self._read_binary(len(content), wanted)
                if sw1 == 0x6C:
                    raise CardUnreadable("the card keeps refusing the read length")
            if (sw1, sw2) == (0x6B, 0x00):
                break  # offset beyond the end: the previous chunk ended the file exactly
            if (sw1, sw2) == (0x6D, 0x00):
                raise CardNotActivated
            if (sw1, sw2) not in ((0x90, 0x00), (0x62, 0x82)):
                raise CardUnreadable(f"the card answered {sw1:02X} {sw2:02X} to READ BINARY")
            if len(data) > wanted:
                raise CardUnreadable("the card sent more data than asked for")
            content += data
            if last_chunk or len(data) < wanted or (sw1, sw2) == (0x62, 0x82):
                break
        if not content:
            raise MalformedIdentityFile("the identity file is empty")
        return content

    def _read_binary(self, offset: int, length: int) -> tuple[bytes, int, int]:
        if offset > 0x7FFF:
            raise CardUnreadable("the identity file is larger than an eID's")
        apdu = bytes([0x00, 0xB0, offset >> 8, offset & 0xFF, length & 0xFF])
        data, sw1, sw2 = self._exchange(apdu)
        if len(data) > length:
            raise CardUnreadable("the card sent more data than asked for")
        return data, sw1, sw2

    def _exchange(self, apdu: bytes) -> tuple[bytes, int, int]:
        """Send one command, collecting data announced by 61 xx with GET RESPONSE."""
        data, sw1, sw2 = self.card.transmit(apdu)
        if sw1 == 0x61 and apdu[1] == 0xA4:
            return data, sw1, sw2  # FCI on offer after SELECT: not wanted, not fetched
        collected = bytearray(data)
        rounds = 0
        while sw1 == 0x61:
            rounds += 1
            if rounds > MAX_GET_RESPONSE_ROUNDS or len(collected) > MAX_IDENTITY_FILE:
                raise CardUnreadable("the card keeps announcing more data")
            data, sw1, sw2 = self.card.transmit(bytes([0x00, 0xC0, 0x00, 0x00, sw2]))
            collected += data
        return bytes(collected), sw1, sw2


def scan_result_from(
    reader: IdentityReader, tokeniser: EidTokeniser, *, anonymous: bool = False
) -> ScanResult:
    """Read the card through `reader`; return names (unless anonymous), token, read method.

    The card number is turned into the token and dropped; the document type only says
    whether this is a child's card.
    """
    identity = reader.read(anonymous=anonymous)
    return ScanResult(
        eid_token=tokeniser.token_for(identity.card_number),
        read_method=reader.method,
        child_card=identity.document_type in CHILD_DOCUMENT_TYPES,
        surname=None if anonymous else identity.surname,
        given_names=None if anonymous else identity.given_names,
    )


def read_scan_result(
    transport: CardTransport,
    tokeniser: EidTokeniser,
    *,
    chunk_size: int = 256,
    anonymous: bool = False,
) -> ScanResult:
    """Read the card in the reader and return its minimised result."""
    reader = IdentityReader(transport, chunk_size=chunk_size)
    return scan_result_from(reader, tokeniser, anonymous=anonymous)
