"""Read the identity file of a Belgian eID and reduce it to what the loyalty server may get."""

from __future__ import annotations

import time
from dataclasses import dataclass

from reader_agent.eid_token import EidTokeniser
from reader_agent.errors import CardUnreadable, MalformedIdentityFile
from reader_agent.tlv import parse_identity
from reader_agent.transport import CardTransport

# 3F00/DF01/4031, by path from the MF, no FCI wanted: the only file the agent ever selects.
SELECT_IDENTITY_BY_PATH = bytes.fromhex("00A4080C04DF014031")
SELECT_STEPS = tuple(
    bytes.fromhex("00A4020C02") + fid for fid in (b"\x3f\x00", b"\xdf\x01", b"\x40\x31")
)
# Status words meaning "this card does not do SELECT by path": then select step by step.
_PATH_SELECT_UNSUPPORTED = {(0x6A, 0x86), (0x6A, 0x81), (0x6D, 0x00), (0x6E, 0x00)}
# A real identity file is well below 1 KB; anything bigger is not an eID answering sanely.
MAX_IDENTITY_FILE = 2048
MAX_GET_RESPONSE_ROUNDS = 16


@dataclass(frozen=True, repr=False)
class ScanResult:
    """The minimised result of a scan: exactly what the server's result endpoint accepts."""

    surname: str
    given_names: str
    eid_token: str

    def as_json(self) -> dict[str, str]:
        return {
            "surname": self.surname,
            "given_names": self.given_names,
            "eid_token": self.eid_token,
        }

    def __repr__(self) -> str:
        return "ScanResult(<redacted>)"


class IdentityFileReader:
    """Read 3F00/DF01/4031 through a transport, coping with 6C xx, 61 xx and 6B 00."""

    def __init__(
        self, transport: CardTransport, *, chunk_size: int = 256, wrong_length_pause: float = 0.005
    ) -> None:
        if not 1 <= chunk_size <= 256:
            raise ValueError("chunk_size must be between 1 and 256")
        self.transport = transport
        self.chunk_size = chunk_size
        # Old cards need a short pause before a READ BINARY re-sent after 6C xx.
        self.wrong_length_pause = wrong_length_pause

    def read(self) -> bytearray:
        """Return the raw identity file (caller wipes it after use)."""
        self._select_identity_file()
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

    def _select_identity_file(self) -> None:
        _, sw1, sw2 = self._exchange(SELECT_IDENTITY_BY_PATH)
        if sw1 in (0x90, 0x61):
            return
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
        data, sw1, sw2 = self.transport.transmit(apdu)
        if sw1 == 0x61 and apdu[1] == 0xA4:
            return data, sw1, sw2  # FCI on offer after SELECT: not wanted, not fetched
        collected = bytearray(data)
        rounds = 0
        while sw1 == 0x61:
            rounds += 1
            if rounds > MAX_GET_RESPONSE_ROUNDS or len(collected) > MAX_IDENTITY_FILE:
                raise CardUnreadable("the card keeps announcing more data")
            data, sw1, sw2 = self.transport.transmit(bytes([0x00, 0xC0, 0x00, 0x00, sw2]))
            collected += data
        return bytes(collected), sw1, sw2


def read_scan_result(
    transport: CardTransport, tokeniser: EidTokeniser, *, chunk_size: int = 256
) -> ScanResult:
    """Read the card in the reader and return names plus eID token; the card number is dropped."""
    raw = IdentityFileReader(transport, chunk_size=chunk_size).read()
    try:
        identity = parse_identity(raw)
    finally:
        # The raw file holds the national number, birth date and sex: overwrite it now
        # rather than leave it to the garbage collector.
        raw[:] = bytes(len(raw))
    return ScanResult(
        surname=identity.surname,
        given_names=identity.given_names,
        eid_token=tokeniser.token_for(identity.card_number),
    )
