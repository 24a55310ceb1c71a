"""The pyscard (PC/SC) implementation of the card transport, robust to pcscd restarts."""

from __future__ import annotations

import time
from typing import NoReturn

from smartcard import scard

from reader_agent.errors import CardRemoved, CardUnreadable, ReaderUnavailable

OK = scard.SCARD_S_SUCCESS


def _code(hresult: int) -> int:
    # pyscard reports some codes signed and some unsigned depending on the platform.
    return hresult & 0xFFFFFFFF


_SERVICE_GONE = {
    _code(scard.SCARD_E_NO_SERVICE),
    _code(scard.SCARD_E_SERVICE_STOPPED),
    _code(scard.SCARD_E_INVALID_HANDLE),
    _code(getattr(scard, "SCARD_E_INVALID_PARAMETER", 0x80100004)),
}
_READER_GONE = {
    _code(scard.SCARD_E_UNKNOWN_READER),
    _code(scard.SCARD_E_READER_UNAVAILABLE),
    _code(scard.SCARD_E_NO_READERS_AVAILABLE),
}
_CARD_GONE = {
    _code(scard.SCARD_W_REMOVED_CARD),
    _code(scard.SCARD_E_NO_SMARTCARD),
    _code(scard.SCARD_W_RESET_CARD),
}
_TIMEOUT = _code(scard.SCARD_E_TIMEOUT)
_SHARING = _code(scard.SCARD_E_SHARING_VIOLATION)


class PyscardTransport:
    """Reach the card through pcscd; re-establish the PC/SC context whenever pcscd went away."""

    def __init__(self, reader: str | None = None, *, removal_grace: float = 1.5) -> None:
        """Use the first reader whose name contains `reader` (any reader if None)."""
        self.wanted = reader
        self.removal_grace = removal_grace
        self.name = reader or "first PC/SC reader"
        self._context: int | None = None
        self._reader: str | None = None
        self._card: int | None = None
        self._protocol: int | None = None
        self.atr: bytes | None = None

    # -- context and reader ------------------------------------------------------------------

    def _ensure_context(self) -> int:
        if self._context is None:
            hresult, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
            if hresult != OK:
                raise ReaderUnavailable("the PC/SC service (pcscd) is not running")
            self._context = context
        return self._context

    def _drop_context(self) -> None:
        self.disconnect()
        context, self._context = self._context, None
        if context is not None:
            scard.SCardReleaseContext(context)

    def _fail_service(self, hresult: int) -> None:
        """Turn a PC/SC failure about the service or reader into ReaderUnavailable."""
        if _code(hresult) in _SERVICE_GONE:
            self._drop_context()
            raise ReaderUnavailable("the PC/SC service (pcscd) stopped")
        if _code(hresult) in _READER_GONE:
            raise ReaderUnavailable("the card reader was disconnected")

    def _find_reader(self) -> str:
        context = self._ensure_context()
        hresult, readers = scard.SCardListReaders(context, [])
        if hresult != OK:
            self._fail_service(hresult)
            raise ReaderUnavailable("no card reader is connected")
        for reader in readers:
            if self.wanted is None or self.wanted in reader:
                self._reader = reader
                return reader
        raise ReaderUnavailable("the configured card reader is not connected")

    def _reader_state(self, timeout_ms: int, known_state: int) -> int | None:
        """Return the reader's event state after up to timeout_ms of waiting for a change."""
        context = self._ensure_context()
        reader = self._find_reader()
        hresult, states = scard.SCardGetStatusChange(context, timeout_ms, [(reader, known_state)])
        if _code(hresult) == _TIMEOUT:
            return None
        if hresult != OK:
            self._fail_service(hresult)
            raise ReaderUnavailable("the card reader does not answer")
        return states[0][1]

    # -- the transport interface --------------------------------------------------------------

    def wait_for_card(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        state = scard.SCARD_STATE_UNAWARE
        last_error: ReaderUnavailable | None = None
        while True:
            remaining = deadline - time.monotonic()
            try:
                new_state = self._reader_state(
                    0 if state == scard.SCARD_STATE_UNAWARE else int(min(remaining, 1.0) * 1000),
                    state,
                )
                last_error = None
            except ReaderUnavailable as exc:
                # pcscd restarting or the reader replugged: keep trying until the deadline.
                last_error = exc
                state = scard.SCARD_STATE_UNAWARE
                new_state = None
                time.sleep(min(0.25, max(remaining, 0)))
            if new_state is not None:
                state = new_state & ~scard.SCARD_STATE_CHANGED
                if state & scard.SCARD_STATE_PRESENT and not state & scard.SCARD_STATE_MUTE:
                    return True
            if time.monotonic() >= deadline:
                if last_error is not None:
                    raise last_error
                return False

    def connect(self) -> None:
        self.disconnect()
        context = self._ensure_context()
        reader = self._reader or self._find_reader()
        hresult, card, protocol = scard.SCardConnect(
            context,
            reader,
            scard.SCARD_SHARE_SHARED,
            scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1,
        )
        if hresult != OK:
            self._reader = None
            self._fail_service(hresult)
            if _code(hresult) in _CARD_GONE:
                raise CardRemoved
            if _code(hresult) == _SHARING:
                raise ReaderUnavailable("another program holds the card reader")
            raise CardUnreadable("the card does not answer (is it inserted the right way?)")
        self._card, self._protocol = card, protocol
        hresult, _reader, _state, _protocol, atr = scard.SCardStatus(card)
        self.atr = bytes(atr) if hresult == OK else None
        # A transaction keeps other programs from selecting files between our APDUs.
        scard.SCardBeginTransaction(card)

    def transmit(self, apdu: bytes) -> tuple[bytes, int, int]:
        if self._card is None:
            raise ReaderUnavailable("no card session is open")
        hresult, response = scard.SCardTransmit(self._card, self._protocol, list(apdu))
        if hresult != OK or len(response) < 2:
            # vpcd answers an APDU to a vanished card with an empty response, not an error.
            self._raise_for_transmit(hresult)
        return bytes(response[:-2]), response[-2], response[-1]

    def _raise_for_transmit(self, hresult: int) -> NoReturn:
        self.disconnect()
        if _code(hresult) in _CARD_GONE:
            raise CardRemoved
        if hresult != OK:
            self._fail_service(hresult)
        # A generic transmission error: a card pulled out mid-APDU shows up as one, and the
        # reader notices it is empty a moment later.
        deadline = time.monotonic() + self.removal_grace
        while time.monotonic() < deadline:
            state = self._reader_state(100, scard.SCARD_STATE_UNAWARE)
            if state is not None and state & scard.SCARD_STATE_EMPTY:
                raise CardRemoved
            time.sleep(0.1)
        raise CardUnreadable("the card stopped answering")

    def disconnect(self) -> None:
        self.atr = None
        card, self._card = self._card, None
        if card is not None:
            scard.SCardEndTransaction(card, scard.SCARD_LEAVE_CARD)
            scard.SCardDisconnect(card, scard.SCARD_LEAVE_CARD)

    def close(self) -> None:
        self._drop_context()
        self._reader = None
