"""An emulated Belgian eID chip: answers command APDUs as the Belpic applet does.

What it answers follows the applet reference manual and what the official middleware (eid-mw)
sends: SELECT of the applet by AID, of a file by identifier or by path; READ BINARY with
`6C xx` for a length beyond the file; GET CARD DATA (applet version, chip serial); READ RECORD
of single TLV records on applet 1.8 cards (`6D 00` on 1.7 cards). The log keeps each command's
header (and a SELECT's path) and which identity file tags each answer carried, never data.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from eid_emulator.cards import (
    APPLET_18,
    CARDS,
    IDENTITY,
    STRUCTURED_FILES,
    SyntheticPerson,
    tlv_encode,
)

MF = 0x3F00
# The Belpic applet's AID, as eid-mw selects it; the 12-byte prefix also selects it.
BELPIC_AID = bytes.fromhex("A000000030290570 00AD13100101FF")
# Another applet a card may have left selected (another program's session): files unknown.
OTHER_AID = bytes.fromhex("A00000017701")
SW_OK = b"\x90\x00"
SW_FILE_NOT_FOUND = b"\x6a\x82"
SW_WRONG_P1P2 = b"\x6a\x86"
SW_RECORD_NOT_FOUND = b"\x6a\x83"
SW_WRONG_LENGTH = b"\x67\x00"
SW_OFFSET_BEYOND_END = b"\x6b\x00"
SW_NOT_STRUCTURED = b"\x69\x81"
SW_NO_CURRENT_EF = b"\x69\x86"
SW_INS_NOT_SUPPORTED = b"\x6d\x00"
SW_CLA_NOT_SUPPORTED = b"\x6e\x00"
SW_CONDITIONS_NOT_SATISFIED = b"\x69\x85"

INS_SELECT = 0xA4
INS_READ_BINARY = 0xB0
INS_READ_RECORD = 0xB2
INS_GET_RESPONSE = 0xC0
INS_GET_CARD_DATA = 0xE4
CARD_DATA_LENGTH = 28
CARD_DATA_WITH_PINS_LENGTH = 31
# Prefix of the log lines that list the identity file tags an answer carried.
SENT_TAGS_PREFIX = "sent tags"


class CardWithdrawn(Exception):
    """Signal that the emulated card left the reader (removal mode, or removed by hand)."""


@dataclass(frozen=True)
class CardModes:
    """Behaviours of real cards that a reader must cope with; all off by default."""

    get_response: bool = False
    """Answer READ BINARY and READ RECORD with `61 xx`: the data come with GET RESPONSE."""
    other_applet: bool = False
    """Come out of reset with another applet selected: files are found only after SELECT AID."""
    remove_after: int | None = None
    """Withdraw the card once this many APDUs were received (the last is not answered)."""
    delay: float = 0.0
    """Seconds to wait before answering each APDU, as a slow card would."""


def apdu_log_entry(apdu: bytes) -> bytes:
    """Return what the log may keep of a command: the header, plus the data of a SELECT."""
    if len(apdu) > 5 and apdu[1] == INS_SELECT:
        return apdu[: 5 + apdu[4]]
    # Other commands may carry secrets (a PIN in VERIFY): keep only the header.
    return apdu[:5]


def _record_spans(fields: list[tuple[int, bytes]]) -> list[tuple[int, int, int]]:
    """Return (tag, start, end) of each TLV record in the encoded file."""
    spans, pos = [], 0
    for tag, value in fields:
        size = len(tlv_encode(tag, value))
        spans.append((tag, pos, pos + size))
        pos += size
    return spans


class VirtualCard:
    """Answer command APDUs for one synthetic person's card; usable in-process or over vpcd."""

    def __init__(
        self,
        person: SyntheticPerson | str = "alice",
        *,
        modes: CardModes | None = None,
        apdu_log_path: str | Path | None = None,
    ) -> None:
        self.modes = modes or CardModes()
        self.apdu_log: list[bytes] = []
        self.sent_tags: list[int] = []
        """Every identity file tag any answer carried (even in part), in order."""
        self.inserted = True
        self._lock = threading.Lock()
        self._log_file: TextIO | None = None
        if apdu_log_path is not None:
            self._log_file = Path(apdu_log_path).open("a", encoding="ascii", buffering=1)  # noqa: SIM115
        self._received = 0
        self._load(person)
        self.reset()

    def _load(self, person: SyntheticPerson | str) -> None:
        self.person = CARDS[person] if isinstance(person, str) else person
        self.atr = self.person.atr
        self._files = self.person.files()
        self._dfs = {df for df, _ in self._files}
        self._identity_spans = _record_spans(self.person.identity_fields())

    # -- card life -------------------------------------------------------------------------

    def reset(self) -> None:
        """Return to the state after power on: MF selected, nothing pending."""
        self._current_df: int = MF
        self._current_ef: tuple[int, int] | None = None
        self._pending: bytes = b""
        self._pending_tags: list[int] = []
        self._belpic_selected = not self.modes.other_applet

    def remove(self) -> None:
        self.inserted = False
        self.reset()

    def insert(self, person: SyntheticPerson | str | None = None) -> None:
        """Put this card (or another person's) back in the reader."""
        if person is not None:
            self._load(person)
        self._received = 0
        self.inserted = True
        self.reset()

    def close(self) -> None:
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    # -- APDU processing --------------------------------------------------------------------

    def transmit(self, apdu: bytes) -> bytes:
        """Process one command APDU and return response data followed by SW1 SW2."""
        with self._lock:
            if not self.inserted:
                raise CardWithdrawn
            self._record(apdu)
            self._received += 1
            limit = self.modes.remove_after
            if limit is not None and self._received >= limit:
                self.remove()
                raise CardWithdrawn
            if self.modes.delay:
                time.sleep(self.modes.delay)
            response, tags = self._dispatch(apdu)
            if tags:
                self._record_tags(tags)
            return response

    def selected_paths(self) -> list[bytes]:
        """Return the data field of every SELECT received, in order."""
        return [entry[5:] for entry in self.apdu_log if len(entry) > 5 and entry[1] == INS_SELECT]

    def _record(self, apdu: bytes) -> None:
        entry = apdu_log_entry(apdu)
        self.apdu_log.append(entry)
        if self._log_file is not None:
            self._log_file.write(entry.hex(" ").upper() + "\n")

    def _record_tags(self, tags: list[int]) -> None:
        self.sent_tags.extend(tags)
        if self._log_file is not None:
            listed = " ".join(f"{tag:02X}" for tag in tags)
            self._log_file.write(f"{SENT_TAGS_PREFIX} {listed}\n")

    def _dispatch(self, apdu: bytes) -> tuple[bytes, list[int]]:
        if len(apdu) < 4:
            return SW_WRONG_LENGTH, []
        if not self.person.activated:
            return SW_INS_NOT_SUPPORTED, []  # a card never activated answers nothing else
        cla, ins = apdu[0], apdu[1]
        if cla == 0x80:
            self._pending = b""
            if ins == INS_GET_CARD_DATA:
                return self._get_card_data(apdu), []
            if ins == INS_READ_RECORD and self.person.applet == APPLET_18:
                return self._read_record(apdu)
            return SW_INS_NOT_SUPPORTED, []
        if cla != 0x00:
            return SW_CLA_NOT_SUPPORTED, []
        if ins == INS_SELECT:
            self._pending = b""
            return self._select(apdu), []
        if ins == INS_READ_BINARY:
            self._pending = b""
            return self._read_binary(apdu)
        if ins == INS_GET_RESPONSE:
            return self._get_response(apdu)
        return SW_INS_NOT_SUPPORTED, []

    # -- SELECT ------------------------------------------------------------------------------

    def _select(self, apdu: bytes) -> bytes:
        p1, p2 = apdu[2], apdu[3]
        if p2 not in (0x00, 0x0C) or len(apdu) < 5:
            return SW_WRONG_P1P2
        lc = apdu[4]
        data = apdu[5 : 5 + lc]
        if lc == 0 or len(data) != lc:
            return SW_WRONG_LENGTH
        if p1 == 0x04:
            return self._select_aid(bytes(data))
        if lc % 2:
            return SW_WRONG_LENGTH
        if not self._belpic_selected:
            return SW_FILE_NOT_FOUND
        fids = [int.from_bytes(data[i : i + 2], "big") for i in range(0, lc, 2)]
        if p1 == 0x08:
            # A path from the MF; the MF's own identifier may or may not lead it.
            if fids[0] == MF:
                fids = fids[1:]
            return self._select_path(fids)
        if p1 in (0x00, 0x01, 0x02) and len(fids) == 1:
            return self._select_one(fids[0])
        return SW_WRONG_P1P2

    def _select_aid(self, aid: bytes) -> bytes:
        # A partial AID selects the applet it begins, as ISO 7816-4 allows.
        if len(aid) >= 12 and BELPIC_AID.startswith(aid):
            self._belpic_selected = True
            self._current_df, self._current_ef = MF, None
            return SW_OK
        if OTHER_AID.startswith(aid) and len(aid) >= 5:
            self._belpic_selected = False
            self._current_df, self._current_ef = MF, None
            return SW_OK
        return SW_FILE_NOT_FOUND

    def _select_path(self, fids: list[int]) -> bytes:
        if not fids:
            self._current_df, self._current_ef = MF, None
            return SW_OK
        if len(fids) == 1 and fids[0] in self._dfs:
            self._current_df, self._current_ef = fids[0], None
            return SW_OK
        if len(fids) == 2 and tuple(fids) in self._files:
            self._current_df, self._current_ef = fids[0], (fids[0], fids[1])
            return SW_OK
        return SW_FILE_NOT_FOUND

    def _select_one(self, fid: int) -> bytes:
        if fid == MF:
            self._current_df, self._current_ef = MF, None
            return SW_OK
        if self._current_df == MF and fid in self._dfs:
            self._current_df, self._current_ef = fid, None
            return SW_OK
        if (self._current_df, fid) in self._files:
            self._current_ef = (self._current_df, fid)
            return SW_OK
        return SW_FILE_NOT_FOUND

    # -- reading -----------------------------------------------------------------------------

    def _tags_in(self, start: int, end: int) -> list[int]:
        """Return the identity file tags whose bytes overlap [start, end) of the file."""
        if self._current_ef != IDENTITY:
            return []
        return [tag for tag, lo, hi in self._identity_spans if lo < end and start < hi]

    def _read_binary(self, apdu: bytes) -> tuple[bytes, list[int]]:
        if self._current_ef is None:
            return SW_NO_CURRENT_EF, []
        if apdu[2] & 0x80:
            return SW_WRONG_P1P2, []  # reading by short file identifier is not offered
        offset = int.from_bytes(apdu[2:4], "big")
        le = apdu[4] if len(apdu) > 4 else 0
        wanted = le or 256
        content = self._files[self._current_ef]
        if offset >= len(content):
            return SW_OFFSET_BEYOND_END, []
        remaining = len(content) - offset
        if wanted > remaining:
            # T=0: the card does not send fewer bytes than asked; it says how many it has.
            return bytes([0x6C, remaining & 0xFF]), []
        chunk = content[offset : offset + wanted]
        tags = self._tags_in(offset, offset + wanted)
        if self.modes.get_response:
            self._pending, self._pending_tags = chunk, tags
            return bytes([0x61, len(chunk) & 0xFF]), []
        return chunk + SW_OK, tags

    def _get_card_data(self, apdu: bytes) -> bytes:
        p1, p2 = apdu[2], apdu[3]
        if p1 != 0x00 or p2 not in (0x00, 0x01) or (p2 == 0x01 and self.person.applet != APPLET_18):
            return SW_WRONG_P1P2
        data = self.person.card_data(with_pin_tries=p2 == 0x01)
        le = apdu[4] if len(apdu) > 4 else 0
        if le != len(data):
            return bytes([0x6C, len(data)])
        return data + SW_OK

    def _read_record(self, apdu: bytes) -> tuple[bytes, list[int]]:
        if self._current_ef is None:
            return SW_NO_CURRENT_EF, []
        if self._current_ef not in STRUCTURED_FILES:
            return SW_NOT_STRUCTURED, []
        first, last = apdu[2], apdu[3]
        le = apdu[4] if len(apdu) > 4 else 0
        if last < first:
            return SW_RECORD_NOT_FOUND, []
        records = [
            (tag, value)
            for tag, value in self.person.records(self._current_ef)
            if first <= tag <= last
        ]
        if not records:
            return SW_RECORD_NOT_FOUND, []
        data = b"".join(bytes([tag, len(value)]) + value for tag, value in records)
        tags = [tag for tag, _ in records] if self._current_ef == IDENTITY else []
        if le and le > len(data):
            return bytes([0x6C, len(data) & 0xFF]), []
        if self.modes.get_response:
            self._pending, self._pending_tags = data, tags
            return bytes([0x61, min(len(data), 256) & 0xFF]), []
        wanted = le or 256
        if len(data) > wanted:
            # The first Le bytes now, the rest through GET RESPONSE.
            self._pending, self._pending_tags = data[wanted:], tags
            rest = len(self._pending)
            return data[:wanted] + bytes([0x61, min(rest, 256) & 0xFF]), tags
        return data + SW_OK, tags

    def _get_response(self, apdu: bytes) -> tuple[bytes, list[int]]:
        if not self._pending:
            return SW_CONDITIONS_NOT_SATISFIED, []
        le = (apdu[4] if len(apdu) > 4 else 0) or 256
        chunk, self._pending = self._pending[:le], self._pending[le:]
        tags = self._pending_tags
        if self._pending:
            return chunk + bytes([0x61, min(len(self._pending), 256) & 0xFF]), tags
        self._pending_tags = []
        return chunk + SW_OK, tags
