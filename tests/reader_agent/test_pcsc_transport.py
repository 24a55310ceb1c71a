"""The agent's pyscard transport against real pcscd with the vpcd driver and the emulator."""

import hashlib
import hmac
import threading
import time

import pytest

from eid_emulator import CARDS
from reader_agent.agent import AgentSettings, ReaderAgent
from reader_agent.eid_card import MAX_APDUS, read_scan_result
from reader_agent.errors import CardReadError, CardRemoved, ReaderUnavailable
from reader_agent.server_api import DeviceApi
from tests.reader_agent.conftest import TEST_KEY

pytestmark = pytest.mark.pcsc

SELECTS = {
    "00 A4 04 0C 0F A0 00 00 00 30 29 05 70 00 AD 13 10 01 01 FF",
    "00 A4 08 0C 04 DF 01 40 31",
}


@pytest.fixture
def transport(pcsc):
    from reader_agent.pcsc import PyscardTransport

    transport = PyscardTransport(pcsc.reader)
    yield transport
    # Before pcscd stops: a context left open would hold it up.
    transport.close()


def read_once(transport, tokeniser, timeout=10.0):
    assert transport.wait_for_card(timeout)
    transport.connect()
    try:
        return read_scan_result(transport, tokeniser)
    finally:
        transport.disconnect()


def token_of(name):
    return hmac.new(TEST_KEY, CARDS[name].card_number.encode(), hashlib.sha256).hexdigest()


@pytest.mark.parametrize(
    ("name", "emulator_args"),
    [
        ("alice", ()),
        ("bruno", ("--other-applet",)),
        ("omar", ("--get-response",)),
        ("emma", ()),
        ("chloe", ()),
        ("nora", ("--other-applet",)),
    ],
)
def test_reads_names_and_token_through_pcscd(pcsc, transport, tokeniser, name, emulator_args):
    pcsc.insert(name, *emulator_args)

    result = read_once(transport, tokeniser)

    person = CARDS[name]
    assert result.as_json() == {
        "surname": person.surname,
        "given_names": person.given_names,
        "eid_token": token_of(name),
        "read_method": "read_record" if person.applet == 0x18 else "read_binary",
        "child_card": person.is_child_card,
    }
    lines = pcsc.apdu_lines()
    assert {line for line in lines if line.startswith("00 A4")} == SELECTS
    assert {line[:5] for line in lines} <= {"00 A4", "00 B0", "80 B2", "00 C0"}
    assert len(lines) <= MAX_APDUS


@pytest.mark.parametrize("name", [n for n, p in CARDS.items() if p.applet == 0x18 and p.activated])
def test_an_applet_18_card_never_sends_tags_06_0c_0d_through_pcscd(
    pcsc, transport, tokeniser, name
):
    pcsc.insert(name)

    result = read_once(transport, tokeniser)

    assert result.read_method == "read_record"
    assert pcsc.sent_tags() == [0x01, 0x07, 0x08, 0x0F]
    assert not set(pcsc.sent_tags()) & {0x06, 0x0C, 0x0D, 0x10, 0x15, 0x16}
    assert [line[:5] for line in pcsc.apdu_lines()] == ["00 A4", "00 A4", "80 B2", "80 B2", "80 B2"]


def test_an_applet_17_card_sends_the_whole_file_which_is_then_wiped(pcsc, transport, tokeniser):
    pcsc.insert("emma")

    result = read_once(transport, tokeniser)

    assert result.read_method == "read_binary"
    assert {0x06, 0x0C, 0x0D} <= set(pcsc.sent_tags())


def test_a_card_never_activated_is_reported_after_one_command(pcsc, transport, tokeniser):
    from reader_agent.errors import CardNotActivated

    pcsc.insert("zoe")

    with pytest.raises(CardNotActivated):
        read_once(transport, tokeniser)

    assert len(pcsc.apdu_lines()) == 1


def test_wait_for_card_times_out_on_an_empty_reader(pcsc, transport):
    started = time.monotonic()

    assert transport.wait_for_card(0.5) is False
    assert time.monotonic() - started < 2


def test_card_pulled_mid_read_then_the_next_card_reads(pcsc, transport, tokeniser):
    # given: a card that leaves the reader at its second APDU
    pcsc.insert("alice", "--remove-after", "2")

    with pytest.raises(CardRemoved):
        read_once(transport, tokeniser)

    pcsc.remove()
    pcsc.insert("bruno")
    assert read_once(transport, tokeniser).eid_token == token_of("bruno")


def test_emulator_killed_mid_read_gives_a_clear_error_then_recovers(pcsc, transport, tokeniser):
    # given: a slow card, killed while the agent reads it
    pcsc.insert("emma", "--apdu-delay", "0.3")
    outcome = {}

    def read():
        try:
            read_once(transport, tokeniser)
        except CardReadError as exc:
            outcome["error"] = exc

    reader = threading.Thread(target=read)
    reader.start()
    deadline = time.monotonic() + 5
    while not pcsc.apdu_lines() and time.monotonic() < deadline:
        time.sleep(0.02)
    pcsc.kill_emulator()
    reader.join(10)

    assert outcome["error"].code in {"card_removed", "card_unreadable"}
    # when: a new emulator (card) comes
    pcsc.insert("alice")
    assert read_once(transport, tokeniser).surname == "Peeters"


def test_survives_a_pcscd_restart(pcsc, transport, tokeniser):
    if not pcsc.owns_pcscd:
        pytest.skip("pcscd was already running and is not this test's to restart")
    pcsc.insert("alice")
    assert read_once(transport, tokeniser).surname == "Peeters"

    pcsc.stop_pcscd()
    with pytest.raises(ReaderUnavailable):
        transport.wait_for_card(0.3)
    pcsc.start_pcscd()
    pcsc.wait_for_card(present=True, timeout=15)

    assert read_once(transport, tokeniser).surname == "Peeters"


def test_agent_loop_through_pcscd(pcsc, transport, tokeniser, device_server):
    pcsc.insert("chloe")
    device_server.arm_scan()
    agent = ReaderAgent(
        api=DeviceApi(device_server.url, device_server.token),
        transport=transport,
        tokeniser=tokeniser,
        settings=AgentSettings(card_wait=5, poll_wait=1),
    )

    assert agent.run(max_scans=1) == 0

    assert device_server.results.get_nowait().json()["given_names"] == "Chloé Françoise"
    selects = [line for line in pcsc.apdu_lines() if line.startswith("00 A4")]
    assert selects == sorted(SELECTS)
