"""`reader-agent --check`: readers and cards, without reading any personal file."""

import pytest

from eid_emulator import VirtualCard
from reader_agent.check import describe_card, run_check
from reader_agent.transport import EmulatorTransport


@pytest.mark.parametrize(
    ("name", "expected"),
    [("chloe", "applet 1.8"), ("alice", "applet 1.7"), ("zoe", "never activated")],
)
def test_check_says_what_the_card_is_without_selecting_any_file(name, expected):
    card = VirtualCard(name)

    line = describe_card(EmulatorTransport(card))

    assert expected in line
    assert card.selected_paths() in ([bytes.fromhex("A00000003029057000AD13100101FF")],)
    assert card.sent_tags == []  # no identity file byte left the card
    assert {entry[1] for entry in card.apdu_log} <= {0xA4, 0xE4}


def test_check_reports_empty_readers_and_no_readers():
    card = VirtualCard("alice")
    card.remove()
    lines = []

    assert run_check(["Reader 0"], lambda _n: EmulatorTransport(card), lines.append) == 1
    assert lines == ["Reader 0: no card"]
    assert run_check([], lambda _n: None, lines.append) == 1


@pytest.mark.pcsc
def test_check_through_pcscd(pcsc):
    import subprocess
    import sys

    from tests.pcsc_support import REPO_ROOT

    pcsc.insert("chloe")
    done = subprocess.run(
        [sys.executable, "-m", "reader_agent", "--check"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    assert "Virtual PCD 00 00: eID card answers: applet 1.8" in done.stdout
    assert "Virtual PCD 00 01: no card" in done.stdout
    assert all(line.startswith(("00 A4 04", "80 E4")) for line in pcsc.apdu_lines())
