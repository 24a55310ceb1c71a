"""`reader-agent --check`: list the readers, say whether a card answers; read no personal file.

Per reader: whether a card is in it, its ATR and applet version, and whether the Belpic applet
answers (SELECT by AID, then GET CARD DATA: versions and life cycle, no personal data). The
identity, address and photo files are never selected.
"""

from __future__ import annotations

from collections.abc import Callable

from reader_agent.eid_card import (
    APPLET_VERSION_OFFSET,
    ATR_APPLET_VERSIONS,
    LIFE_CYCLE_OFFSET,
    IdentityReader,
)
from reader_agent.errors import CardNotActivated, CardReadError
from reader_agent.transport import CardTransport


def describe_card(transport: CardTransport) -> str:
    """Return one line about the card in the reader (connects and disconnects)."""
    transport.connect()
    try:
        atr = bytes(getattr(transport, "atr", None) or b"")
        reader = IdentityReader(transport, budget=3)
        try:
            reader.select_belpic()
            data = bytearray(reader.card_data())
        except CardNotActivated:
            return f"card present (ATR {atr.hex(' ').upper()}): never activated, cannot be read"
        except CardReadError as exc:
            return f"card present (ATR {atr.hex(' ').upper()}): not readable as an eID ({exc.code})"
        version = data[APPLET_VERSION_OFFSET]
        life_cycle = data[LIFE_CYCLE_OFFSET]
        data[:] = bytes(len(data))  # the chip serial is not shown or kept
        known = "known ATR" if atr in ATR_APPLET_VERSIONS else "unknown ATR"
        state = "personalised" if life_cycle == 0x0F else f"life cycle {life_cycle:02X}"
        method = "single fields (READ RECORD)" if version >= 0x18 else "whole file, wiped"
        return (
            f"eID card answers: applet {version >> 4}.{version & 15} ({known}), {state}; "
            f"a scan would read {method}"
        )
    finally:
        transport.disconnect()


def run_check(
    readers: list[str],
    transport_for: Callable[[str], CardTransport],
    out: Callable[[str], None] = print,
) -> int:
    """Print each reader and its card; return 0 when at least one eID card answered."""
    if not readers:
        out("no card reader found (is pcscd running and the reader plugged in?)")
        return 1
    answered = False
    for name in readers:
        transport = transport_for(name)
        try:
            if not transport.wait_for_card(0.2):
                out(f"{name}: no card")
                continue
            line = describe_card(transport)
            answered = answered or line.startswith("eID card answers")
            out(f"{name}: {line}")
        except CardReadError as exc:
            out(f"{name}: {exc.message}")
        finally:
            transport.close()
    return 0 if answered else 1


def pcsc_readers() -> list[str]:
    """Return the names of the PC/SC readers pcscd (or Windows' service) knows."""
    from smartcard import scard

    hresult, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    if hresult != scard.SCARD_S_SUCCESS:
        return []
    try:
        hresult, readers = scard.SCardListReaders(context, [])
        return list(readers) if hresult == scard.SCARD_S_SUCCESS else []
    finally:
        scard.SCardReleaseContext(context)
