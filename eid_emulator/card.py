"""An emulated Belgian eID chip: answers command APDUs like the card's file system does."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from eid_emulator.cards import CARDS, SyntheticPerson

MF = 0x3F00
SW_OK = b"\x90\x00"
SW_FILE_NOT_FOUND = b"\x6a\x82"
SW_WRONG_P1P2 = b"\x6a\x86"
SW_WRONG_LENGTH = b"\x67\x00"
SW_OFFSET_BEYOND_END = b"\x6b\x00"
SW_NO_CURRENT_EF = b"\x69\x86"
SW_INS_NOT_SUPPORTED = b"\x6d\x00"
SW_CLA_NOT_SUPPORTED = b"\x6e\x00"
SW_CONDITIONS_NOT_SATISFIED = b"\x69\x85"

INS_SELECT = 0xA4
INS_READ_BINARY = 0xB0
INS_GET_RESPONSE = 0xC0


class CardWithdrawn(Exception):
    """Signal that the emulated card left the reader (removal mode, or removed by hand)."""


@dataclass(frozen=True)
class CardModes:
    """Behaviours of real cards that a reader must cope with; all off by default."""

    wrong_le: bool = False
    """Answer `6C xx` (with the exact length) to a READ BINARY whose Le is too long."""
    get_response: bool = False
    """Answer READ BINARY with `61 xx`: the data come with GET RESPONSE."""
    remove_after: int | None = None
    """Withdraw the card once this many APDUs were received (the last is not answered)."""
    delay: float = 0.0
    """Seconds to wait before answering each APDU, as a slow card would."""


def apdu_log_entry(apdu: bytes) -> bytes:
    """Return what the log may keep of a command: the header, plus the path of a SELECT."""
    if len(apdu) > 5 and apdu[1] == INS_SELECT:
        return apdu[: 5 + apdu[4]]
    # Other commands may carry secrets (a PIN in VERIFY): keep only the header.
    return apdu[:5]


class VirtualCard:
    """Answer command APDUs for one synthetic person's card; usable in-process or over vpcd."""

    def __init__(
        self,
        person: SyntheticPerson | str = "alice",
        *,
        modes: CardModes | None = None,
        apdu_log_path: str | Path | None = None,
    ) -> None:
        self.person = CARDS[person] if isinstance(person, str) else person
        self.modes = modes or CardModes()
        self.atr = self.person.atr
        self.apdu_log: list[bytes] = []
        self.inserted = True
        self._files = self.person.files()
        self._dfs = {df for df, _ in self._files}
        self._lock = threading.Lock()
        self._log_file: TextIO | None = None
        if apdu_log_path is not None:
            self._log_file = Path(apdu_log_path).open("a", encoding="ascii", buffering=1)  # noqa: SIM115
        self._received = 0
        self.reset()

    # -- card life -------------------------------------------------------------------------

    def reset(self) -> None:
        """Return to the state after power on: MF selected, nothing pending."""
        self._current_df: int = MF
        self._current_ef: tuple[int, int] | None = None
        self._pending: bytes = b""

    def remove(self) -> None:
        self.inserted = False
        self.reset()

    def insert(self, person: SyntheticPerson | str | None = None) -> None:
        """Put this card (or another person's) back in the reader."""
        if person is not None:
            self.person = CARDS[person] if isinstance(person, str) else person
            self.atr = self.person.atr
            self._files = self.person.files()
            self._dfs = {df for df, _ in self._files}
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
            return self._dispatch(apdu)

    def selected_paths(self) -> list[bytes]:
        """Return the data field of every SELECT received, in order."""
        return [entry[5:] for entry in self.apdu_log if len(entry) > 5 and entry[1] == INS_SELECT]

    def _record(self, apdu: bytes) -> None:
        entry = apdu_log_entry(apdu)
        self.apdu_log.append(entry)
        if self._log_file is not None:
            self._log_file.write(entry.hex(" ").upper() + "\n")

    def _dispatch(self, apdu: bytes) -> bytes:
        if len(apdu) < 4:
            return SW_WRONG_LENGTH
        cla, ins = apdu[0], apdu[1]
        if cla != 0x00:
            return SW_CLA_NOT_SUPPORTED
        if ins == INS_SELECT:
            self._pending = b""
            return self._select(apdu)
        if ins == INS_READ_BINARY:
            self._pending = b""
            return self._read_binary(apdu)
        if ins == INS_GET_RESPONSE:
            return self._get_response(apdu)
        return SW_INS_NOT_SUPPORTED

    def _select(self, apdu: bytes) -> bytes:
        p1, p2 = apdu[2], apdu[3]
        if p2 not in (0x00, 0x0C) or len(apdu) < 5:
            return SW_WRONG_P1P2
        lc = apdu[4]
        data = apdu[5 : 5 + lc]
        if lc == 0 or len(data) != lc or lc % 2:
            return SW_WRONG_LENGTH
        fids = [int.from_bytes(data[i : i + 2], "big") for i in range(0, lc, 2)]
        if p1 == 0x08:
            # A path from the MF; the MF's own identifier may or may not lead it.
            if fids[0] == MF:
                fids = fids[1:]
            return self._select_path(fids)
        if p1 in (0x00, 0x01, 0x02) and len(fids) == 1:
            return self._select_one(fids[0])
        return SW_WRONG_P1P2

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

    def _read_binary(self, apdu: bytes) -> bytes:
        if self._current_ef is None:
            return SW_NO_CURRENT_EF
        if apdu[2] & 0x80:
            return SW_WRONG_P1P2  # reading by short file identifier is not offered
        offset = int.from_bytes(apdu[2:4], "big")
        le = apdu[4] if len(apdu) > 4 else 0
        wanted = le or 256
        content = self._files[self._current_ef]
        if offset >= len(content):
            return SW_OFFSET_BEYOND_END
        remaining = len(content) - offset
        if self.modes.wrong_le and wanted > remaining:
            return bytes([0x6C, remaining])
        chunk = content[offset : offset + wanted]
        if self.modes.get_response:
            self._pending = chunk
            return bytes([0x61, len(chunk) & 0xFF])
        return chunk + SW_OK

    def _get_response(self, apdu: bytes) -> bytes:
        if not self._pending:
            return SW_CONDITIONS_NOT_SATISFIED
        le = (apdu[4] if len(apdu) > 4 else 0) or 256
        chunk, self._pending = self._pending[:le], self._pending[le:]
        if self._pending:
            return chunk + bytes([0x61, len(self._pending) & 0xFF])
        return chunk + SW_OK
