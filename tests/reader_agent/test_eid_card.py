import hashlib
import hmac

import pytest

from eid_emulator import CARDS, CardModes, VirtualCard
from reader_agent.eid_card import IdentityFileReader, read_scan_result
from reader_agent.errors import CardRemoved, CardUnreadable, MalformedIdentityFile
from reader_agent.transport import EmulatorTransport
from tests.reader_agent.conftest import TEST_KEY

SELECT_IDENTITY = "00a4080c04df014031"


def connected(card: VirtualCard) -> EmulatorTransport:
    transport = EmulatorTransport(card)
    transport.connect()
    return transport


def log_hex(card: VirtualCard) -> list[str]:
    return [entry.hex() for entry in card.apdu_log]


def test_reads_the_identity_file_with_one_select_and_one_read():
    card = VirtualCard("alice")

    content = IdentityFileReader(connected(card)).read()

    assert bytes(content) == CARDS["alice"].identity_file()
    assert log_hex(card) == [SELECT_IDENTITY, "00b0000000"]


def test_reads_a_long_file_in_chunks_at_increasing_offsets():
    card = VirtualCard("emma")

    content = IdentityFileReader(connected(card)).read()

    assert bytes(content) == CARDS["emma"].identity_file()
    assert log_hex(card) == [SELECT_IDENTITY, "00b0000000", "00b0010000"]


def test_treats_6b00_as_the_end_of_a_file_that_fills_whole_chunks():
    # given: a chunk size that divides the file exactly, so only 6B 00 can end it
    size = len(CARDS["alice"].identity_file())
    chunk = next(n for n in range(200, 1, -1) if size % n == 0)
    card = VirtualCard("alice")

    content = IdentityFileReader(connected(card), chunk_size=chunk).read()

    assert len(content) == size
    assert card.apdu_log[-1][:2] == b"\x00\xb0"
    assert len(card.apdu_log) == 1 + size // chunk + 1


def test_resends_with_the_length_the_card_asks_for_after_6c():
    card = VirtualCard("alice", modes=CardModes(wrong_le=True))
    size = len(CARDS["alice"].identity_file())

    content = IdentityFileReader(connected(card)).read()

    assert bytes(content) == CARDS["alice"].identity_file()
    assert log_hex(card) == [SELECT_IDENTITY, "00b0000000", f"00b00000{size:02x}"]


def test_fetches_data_with_get_response_after_61():
    card = VirtualCard("emma", modes=CardModes(get_response=True))

    content = IdentityFileReader(connected(card)).read()

    assert bytes(content) == CARDS["emma"].identity_file()
    assert [entry[1] for entry in card.apdu_log] == [0xA4, 0xB0, 0xC0, 0xB0, 0xC0]


def test_copes_with_6c_and_61_together_and_small_chunks():
    card = VirtualCard("bruno", modes=CardModes(wrong_le=True, get_response=True))

    content = IdentityFileReader(connected(card), chunk_size=100).read()

    assert bytes(content) == CARDS["bruno"].identity_file()


@pytest.mark.parametrize("after", [1, 2, 3])
def test_card_removed_mid_read_raises_card_removed(after):
    card = VirtualCard("emma", modes=CardModes(remove_after=after))

    with pytest.raises(CardRemoved) as caught:
        IdentityFileReader(connected(card)).read()

    assert caught.value.code == "card_removed"


class ScriptedTransport:
    """Answer APDUs from a script of (data, sw1, sw2), recording the commands."""

    name = "scripted"

    def __init__(self, *answers):
        self.answers = list(answers)
        self.sent = []

    def wait_for_card(self, timeout):
        return True

    def connect(self):
        pass

    def transmit(self, apdu):
        self.sent.append(apdu)
        return self.answers.pop(0)

    def disconnect(self):
        pass

    def close(self):
        pass


def test_selects_step_by_step_when_the_card_refuses_a_path():
    transport = ScriptedTransport(
        (b"", 0x6A, 0x86),
        (b"", 0x90, 0x00),
        (b"", 0x90, 0x00),
        (b"", 0x90, 0x00),
        (b"\x01\x02ab", 0x90, 0x00),
    )

    assert IdentityFileReader(transport).read() == bytearray(b"\x01\x02ab")
    assert [apdu.hex() for apdu in transport.sent[1:4]] == [
        "00a4020c023f00",
        "00a4020c02df01",
        "00a4020c024031",
    ]


@pytest.mark.parametrize(
    ("answers", "error"),
    [
        ([(b"", 0x6A, 0x82)], CardUnreadable),
        ([(b"", 0x69, 0x82)], CardUnreadable),
        ([(b"", 0x90, 0x00), (b"", 0x6B, 0x00)], MalformedIdentityFile),
        ([(b"", 0x90, 0x00), (b"", 0x69, 0x86)], CardUnreadable),
        ([(b"", 0x90, 0x00), (b"", 0x6C, 0x10), (b"", 0x6C, 0x10)], CardUnreadable),
        ([(b"", 0x90, 0x00), (b"x" * 300, 0x90, 0x00)], CardUnreadable),
        ([(b"", 0x90, 0x00)] + [(b"", 0x61, 0x01)] * 40, CardUnreadable),
    ],
    ids=["not-found", "security", "empty", "no-ef", "6c-loop", "too-much", "61-loop"],
)
def test_bad_card_answers_raise_typed_errors(answers, error):
    with pytest.raises(error):
        IdentityFileReader(ScriptedTransport(*answers)).read()


def test_stops_a_card_that_never_ends_the_file():
    transport = ScriptedTransport(*([(b"", 0x90, 0x00)] + [(b"z" * 256, 0x90, 0x00)] * 20))

    with pytest.raises(CardUnreadable):
        IdentityFileReader(transport).read()

    assert len(transport.sent) <= 10


def test_scan_result_holds_names_and_keyed_hash_of_the_card_number(tokeniser):
    person = CARDS["bruno"]

    result = read_scan_result(connected(VirtualCard("bruno")), tokeniser)

    expected = hmac.new(TEST_KEY, person.card_number.encode(), hashlib.sha256).hexdigest()
    assert result.as_json() == {
        "surname": "Dubois-Lefèvre",
        "given_names": "Bruno Émile",
        "eid_token": expected,
    }
    assert "Bruno" not in repr(result)
