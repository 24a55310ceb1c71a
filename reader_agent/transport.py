"""The one interface through which the agent touches a card, and its in-process implementation."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Protocol

from reader_agent.errors import CardRemoved, CardUnreadable, ReaderUnavailable

if TYPE_CHECKING:
    from eid_emulator import VirtualCard


class CardTransport(Protocol):
    """A card reader: wait for a card, connect, exchange APDUs, let go."""

    name: str
    atr: bytes | None
    """The ATR of the card in the current session (None before connect)."""

    def wait_for_card(self, timeout: float) -> bool:
        """Return True once a card is present, False if none came within timeout seconds.

        Raise ReaderUnavailable if the reader is (or stays) unreachable.
        """

    def connect(self) -> None:
        """Open a session with the card in the reader."""

    def transmit(self, apdu: bytes) -> tuple[bytes, int, int]:
        """Send one command APDU; return (data, SW1, SW2). Raise CardRemoved and friends."""

    def disconnect(self) -> None:
        """End the card session, if any; never raise."""

    def close(self) -> None:
        """Release every resource (e.g. the PC/SC context); never raise."""


class EmulatorTransport:
    """Talk to an eid_emulator VirtualCard in this process, without pcscd."""

    name = "virtual card (in-process)"

    def __init__(self, card: VirtualCard, *, poll_interval: float = 0.05) -> None:
        self.card = card
        self.poll_interval = poll_interval
        self._connected = False
        self.atr: bytes | None = None

    @classmethod
    def for_card(cls, name: str) -> EmulatorTransport:
        """Build a transport holding the named synthetic card (e.g. 'alice')."""
        from eid_emulator import VirtualCard  # the emulator is only needed for demos and tests

        return cls(VirtualCard(name))

    def wait_for_card(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not self.card.inserted:
            if time.monotonic() >= deadline:
                return False
            time.sleep(self.poll_interval)
        return True

    def connect(self) -> None:
        if not self.card.inserted:
            raise CardRemoved
        self.card.reset()
        self.atr = self.card.atr
        self._connected = True

    def transmit(self, apdu: bytes) -> tuple[bytes, int, int]:
        from eid_emulator import CardWithdrawn

        if not self._connected:
            raise ReaderUnavailable("no card session is open")
        try:
            response = self.card.transmit(apdu)
        except CardWithdrawn:
            self._connected = False
            raise CardRemoved from None
        if len(response) < 2:
            raise CardUnreadable("the card answered without a status word")
        return response[:-2], response[-2], response[-1]

    def disconnect(self) -> None:
        self._connected = False

    def close(self) -> None:
        self._connected = False
