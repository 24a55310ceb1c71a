import hashlib
import hmac
import logging
import os
import time

import pytest

from eid_emulator import CARDS, CardModes, VirtualCard
from eid_emulator.card import BELPIC_AID
from eid_emulator.cards import SENSITIVE_TAGS
from reader_agent.agent import EXIT_TOKEN_REFUSED, AgentSettings, ReaderAgent
from reader_agent.eid_card import MAX_APDUS
from reader_agent.server_api import DeviceApi
from reader_agent.transport import EmulatorTransport
from tests.reader_agent.conftest import TEST_KEY
from tests.reader_agent.fake_device_server import error

BELPIC_SELECT_DATA = BELPIC_AID
FAST = AgentSettings(
    card_wait=0.5, poll_wait=1, retry_window=1.0, backoff_initial=0.05, backoff_max=0.2
)


def make_agent(server, card, tokeniser, settings=FAST, token=None):
    return ReaderAgent(
        api=DeviceApi(server.url, token or server.token, timeout=2.0),
        transport=EmulatorTransport(card, poll_interval=0.01),
        tokeniser=tokeniser,
        settings=settings,
    )


def personal_values(name):
    """Return every value of the card that must not leave it, as text and as bytes."""
    person = CARDS[name]
    texts = [
        person.national_number,
        person.birth_date,
        person.birth_place,
        person.street,
        person.card_number,
    ]
    return texts, [*person.secrets(), person.card_number.encode(), person.photo()[:64]]


@pytest.mark.parametrize("name", ["alice", "bruno", "chloe", "emma", "nora", "lucas"])
def test_posts_only_names_token_and_how_it_read_and_leaks_nothing_else(
    name, device_server, tokeniser, caplog, capsys
):
    # given: staff armed a scan and the customer's card is in the reader
    caplog.set_level(logging.DEBUG)
    card = VirtualCard(name)
    scan_id = device_server.arm_scan()

    # when
    assert make_agent(device_server, card, tokeniser).run(max_scans=1) == 0

    # then: the result holds exactly the allowed keys
    posted = device_server.results.get_nowait()
    assert posted.path == f"/api/v1/device/scans/{scan_id}/result/"
    person = CARDS[name]
    token = hmac.new(TEST_KEY, person.card_number.encode(), hashlib.sha256).hexdigest()
    assert posted.json() == {
        "surname": person.surname,
        "given_names": person.given_names,
        "eid_token": token,
        "read_method": "read_record" if person.applet == 0x18 else "read_binary",
        "child_card": person.is_child_card,
    }
    # and the server confirmed the read was still wanted before the card was touched
    assert device_server.claims == [scan_id]
    # and no other value of the card travelled or was logged
    texts, raw = personal_values(name)
    everything_sent = b"".join(r.body + r.path.encode() for r in device_server.requests)
    captured = capsys.readouterr()
    logged = caplog.text + captured.out + captured.err
    for value in raw:
        assert value not in everything_sent
    for value in [*texts, person.surname, person.given_names]:
        assert value not in logged
    # and the card saw only the applet and the identity file selected, then reads
    assert card.selected_paths() == [BELPIC_SELECT_DATA, bytes.fromhex("DF014031")]
    assert {entry[1] for entry in card.apdu_log} <= {0xA4, 0xB0, 0xB2, 0xC0}
    assert len(card.apdu_log) <= MAX_APDUS
    if person.applet == 0x18:
        assert not set(card.sent_tags) & SENSITIVE_TAGS


def test_card_with_61_is_read_through_get_response(device_server, tokeniser):
    card = VirtualCard("alice", modes=CardModes(get_response=True))
    device_server.arm_scan()

    make_agent(device_server, card, tokeniser).run(max_scans=1)

    assert device_server.results.get_nowait().json()["surname"] == "Peeters"
    assert card.selected_paths()[-1] == bytes.fromhex("DF014031")


def test_anonymous_scan_sends_no_name_and_reads_only_tags_01_and_0f(device_server, tokeniser):
    card = VirtualCard("chloe")
    device_server.arm_scan(anonymous=True)

    make_agent(device_server, card, tokeniser).run(max_scans=1)

    assert set(device_server.results.get_nowait().json()) == {
        "eid_token",
        "read_method",
        "child_card",
    }
    assert card.sent_tags == [0x01, 0x0F]


def test_a_refused_result_ends_the_scan_and_the_card_is_not_read_again(
    device_server, tokeniser, caplog
):
    # given: the server refuses the result (the card belongs to another member) and, like
    # the old server, hands the same scan out again
    caplog.set_level(logging.INFO)
    device_server.result_answers = [(409, error("eid_card_linked_elsewhere"))]
    scan_id = device_server.arm_scan()
    expires = "2999-01-01T00:00:00+00:00"
    device_server.next_answers = [(200, {"scan_id": scan_id, "expires_at": expires})] * 4
    card = VirtualCard("alice")
    device_server._armed.get_nowait()

    make_agent(device_server, card, tokeniser).run(max_scans=4)

    assert device_server.results.qsize() == 1
    assert len(card.apdu_log) == 4  # one read of a 1.7 card, never a second
    assert "not reading the card again" in caplog.text


def test_cancel_while_waiting_for_the_card_stops_the_wait_and_reads_nothing(
    device_server, tokeniser, caplog
):
    import threading

    caplog.set_level(logging.INFO)
    card = VirtualCard("alice")
    card.remove()
    scan_id = device_server.arm_scan()
    settings = AgentSettings(card_wait=20, poll_wait=1, cancel_check=0.1)
    agent = make_agent(device_server, card, tokeniser, settings=settings)

    def cancel_then_insert():
        device_server.cancel(scan_id)
        card.insert()

    threading.Timer(0.3, cancel_then_insert).start()
    started = time.monotonic()
    agent.run(max_scans=1)

    assert time.monotonic() - started < 5
    assert card.apdu_log == []
    assert device_server.results.empty() and device_server.failures.empty()
    assert "nothing read" in caplog.text


def test_a_scan_the_server_no_longer_confirms_is_not_read(device_server, tokeniser):
    card = VirtualCard("alice")
    scan_id = device_server.arm_scan()
    device_server.claims.append(scan_id)  # as if another read had claimed it

    make_agent(device_server, card, tokeniser).run(max_scans=1)

    assert card.apdu_log == []
    assert device_server.results.empty()


def test_a_card_never_activated_is_reported_once_as_such(device_server, tokeniser):
    card = VirtualCard("zoe")
    device_server.arm_scan()

    make_agent(device_server, card, tokeniser).run(max_scans=1)

    assert device_server.failures.get_nowait().json()["code"] == "card_not_activated"
    assert len(card.apdu_log) == 1


def test_no_card_in_time_reports_no_card(device_server, tokeniser):
    card = VirtualCard("alice")
    card.remove()
    scan_id = device_server.arm_scan()

    make_agent(device_server, card, tokeniser).run(max_scans=1)

    failure = device_server.failures.get_nowait()
    assert failure.path == f"/api/v1/device/scans/{scan_id}/failure/"
    assert failure.json()["code"] == "no_card"
    assert device_server.results.empty()


def test_card_pulled_mid_read_is_reported_then_next_card_works(device_server, tokeniser, caplog):
    caplog.set_level(logging.INFO)
    card = VirtualCard("bruno", modes=CardModes(remove_after=2))
    agent = make_agent(device_server, card, tokeniser)
    device_server.arm_scan()

    agent.run(max_scans=1)

    assert device_server.failures.get_nowait().json()["code"] == "card_removed"
    assert "card_removed" in caplog.text
    assert "ready for the next card" in caplog.text

    # when: the customer puts the card back and staff arm again
    card.modes = CardModes()
    card.insert()
    device_server.arm_scan()
    agent.run(max_scans=1)

    assert device_server.results.get_nowait().json()["surname"] == "Dubois-Lefèvre"


def test_retries_a_result_in_memory_while_the_server_errs(device_server, tokeniser, caplog):
    caplog.set_level(logging.INFO)
    device_server.result_answers = [(503, error("unavailable")), (502, None)]
    device_server.arm_scan()

    make_agent(device_server, VirtualCard("alice"), tokeniser).run(max_scans=1)

    assert device_server.results.qsize() == 3
    assert "retrying the scan result" in caplog.text
    assert "scan done: new member enrolled" in caplog.text


def test_gives_up_after_the_retry_window_and_keeps_nothing_on_disk(
    device_server, tokeniser, caplog, tmp_path, monkeypatch
):
    caplog.set_level(logging.INFO)
    monkeypatch.chdir(tmp_path)
    device_server.result_answers = [(503, error("unavailable"))] * 50
    device_server.arm_scan()

    make_agent(device_server, VirtualCard("chloe"), tokeniser).run(max_scans=1)

    assert 2 <= device_server.results.qsize() < 50
    assert "not delivered and discarded" in caplog.text
    assert os.listdir(tmp_path) == []


def test_refused_result_is_logged_by_code_only(device_server, tokeniser, caplog):
    caplog.set_level(logging.INFO)
    device_server.result_answers = [
        (
            403,
            {
                "code": "consent_missing",
                "message": "Alice Peeters has not consented",
                "details": {},
            },
        )
    ]
    device_server.arm_scan()

    make_agent(device_server, VirtualCard("alice"), tokeniser).run(max_scans=1)

    assert "consent_missing" in caplog.text
    assert "Peeters" not in caplog.text


def test_refused_token_stops_with_a_non_zero_exit(device_server, tokeniser, caplog):
    caplog.set_level(logging.INFO)

    code = make_agent(device_server, VirtualCard("alice"), tokeniser, token="revoked").run()

    assert code == EXIT_TOKEN_REFUSED
    assert "device token refused" in caplog.text
    assert len(device_server.requests) == 1


def test_refused_token_while_posting_a_result_stops_too(device_server, tokeniser):
    device_server.result_answers = [(401, error("device_revoked"))]
    device_server.arm_scan()

    code = make_agent(device_server, VirtualCard("alice"), tokeniser).run()

    assert code == EXIT_TOKEN_REFUSED


def test_keeps_polling_while_the_server_is_down(tokeniser, caplog):
    from tests.reader_agent.fake_device_server import FakeDeviceServer

    caplog.set_level(logging.INFO)
    server = FakeDeviceServer()
    server.next_answers = [(500, error("boom")), (503, None)]
    server.start()
    try:
        server.arm_scan()
        make_agent(server, VirtualCard("alice"), tokeniser).run(max_scans=1)
    finally:
        server.stop()

    assert "server unreachable" in caplog.text
    assert "server reachable again" in caplog.text
    assert server.results.qsize() == 1


def test_a_busy_server_is_asked_again_after_retry_after_not_at_once(tokeniser, caplog):
    from tests.reader_agent.fake_device_server import FakeDeviceServer

    caplog.set_level(logging.INFO)
    server = FakeDeviceServer()
    server.next_answers = [(204, None, {"Retry-After": "1"})]
    server.start()
    try:
        server.arm_scan()
        started = time.monotonic()
        make_agent(server, VirtualCard("alice"), tokeniser).run(max_scans=1)
        took = time.monotonic() - started
    finally:
        server.stop()

    polls = [r for r in server.requests if r.path.startswith("/api/v1/device/scans/next/")]
    # one poll turned away, the next one a second later got the scan and the card was read
    assert len(polls) == 2
    assert took >= 1.0
    assert server.results.qsize() == 1
    # busy is not an outage: nothing alarming in the log
    assert "unreachable" not in caplog.text


def test_unreachable_server_is_retried_then_stop_ends_the_loop(tokeniser, caplog):
    import threading

    caplog.set_level(logging.INFO)
    stop = threading.Event()
    agent = ReaderAgent(
        api=DeviceApi("http://127.0.0.1:9", "t", timeout=0.5),
        transport=EmulatorTransport(VirtualCard("alice")),
        tokeniser=tokeniser,
        settings=FAST,
        stop=stop,
    )
    threading.Timer(0.5, stop.set).start()

    assert agent.run() == 0
    assert caplog.text.count("server unreachable") == 1


class UnpluggedReader(EmulatorTransport):
    def wait_for_card(self, timeout):
        from reader_agent.errors import ReaderUnavailable

        raise ReaderUnavailable("the card reader was disconnected")


class BrokenTransport(EmulatorTransport):
    def transmit(self, apdu):
        raise ZeroDivisionError("Peeters 85031412401")


@pytest.mark.parametrize(
    ("transport_class", "code"),
    [(UnpluggedReader, "reader_unavailable"), (BrokenTransport, "card_unreadable")],
)
def test_reader_trouble_is_reported_without_detail_and_the_loop_goes_on(
    device_server, tokeniser, caplog, transport_class, code
):
    caplog.set_level(logging.INFO)
    device_server.arm_scan()
    device_server.arm_scan()
    agent = ReaderAgent(
        api=DeviceApi(device_server.url, device_server.token),
        transport=transport_class(VirtualCard("alice")),
        tokeniser=tokeniser,
        settings=FAST,
    )

    assert agent.run(max_scans=2) == 0

    codes = [device_server.failures.get_nowait().json()["code"] for _ in range(2)]
    assert codes == [code, code]
    assert "85031412401" not in caplog.text
    assert "Peeters" not in caplog.text
