"""The emulator's command line through real pcscd: ATR, swapping and removing cards."""

import os
import subprocess
import sys

import pytest

from eid_emulator import CARDS
from tests.pcsc_support import REPO_ROOT

pytestmark = pytest.mark.pcsc


def atr_in_reader(reader):
    from smartcard import scard

    _, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    try:
        _, states = scard.SCardGetStatusChange(context, 0, [(reader, scard.SCARD_STATE_UNAWARE)])
        return bytes(states[0][2])
    finally:
        scard.SCardReleaseContext(context)


def test_card_shows_its_atr_in_the_virtual_reader(pcsc):
    pcsc.insert("chloe")

    assert atr_in_reader(pcsc.reader) == CARDS["chloe"].atr


def test_cards_are_swapped_and_removed_on_stdin_commands(pcsc):
    emulator = subprocess.Popen(
        [sys.executable, "-m", "eid_emulator", "--card", "alice", "--control-stdin"],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        stdin=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        pcsc.wait_for_card(present=True)
        assert atr_in_reader(pcsc.reader) == CARDS["alice"].atr

        emulator.stdin.write("remove\n")
        emulator.stdin.flush()
        pcsc.wait_for_card(present=False)

        emulator.stdin.write("insert chloe\n")
        emulator.stdin.flush()
        pcsc.wait_for_card(present=True)
        assert atr_in_reader(pcsc.reader) == CARDS["chloe"].atr

        emulator.stdin.write("quit\n")
        emulator.stdin.flush()
        assert emulator.wait(10) == 0
        pcsc.wait_for_card(present=False)
    finally:
        if emulator.poll() is None:
            emulator.kill()
            emulator.wait()
