import hashlib
import hmac

import pytest

from eid_emulator import CARDS, CardModes, VirtualCard
from eid_emulator.cards import ATR_APPLET_17, ATR_APPLET_18, DOCUMENT_TYPES, SENSITIVE_TAGS
from reader_agent.eid_card import (
    MAX_APDUS,
    READ_BINARY,
    READ_RECORD,
    IdentityReader,
    read_scan_result,
)
from reader_agent.errors import (
    CardNotActivated,
    CardRemoved,
    CardUnreadable,
    MalformedIdentityFile,
    NameTooLong,
)
from reader_agent.transport import EmulatorTransport
from tests.reader_agent.conftest import TEST_KEY

SELECT_BELPIC = "00a4040c0fa00000003029057000ad13100101ff"
SELECT_IDENTITY = "00a4080c04df014031"


def connected(card: VirtualCard) -> EmulatorTransport:
    transport = EmulatorTransport(card)
    transport.connect()
    return transport


def log_hex(card: VirtualCard) -> list[str]:
    return [entry.hex() for entry in card.apdu_log]


def read(card: VirtualCard, **kwargs):
    reader = IdentityReader(connected(card), **kwargs)
    return reader, reader.read()


# -- applet 1.8: single records ------------------------------------------------------------


def test_applet_18_reads_only_tags_01_07_08_0f_with_read_record():
    card = VirtualCard("chloe")

    reader, identity = read(card)

    assert (identity.surname, identity.given_names) == ("Van den Broeck", "Chloé Françoise")
    assert identity.card_number == CARDS["chloe"].card_number
    assert reader.method == READ_RECORD
    assert log_hex(card) == [
        SELECT_BELPIC,
        SELECT_IDENTITY,
        "80b2010100",
        "80b2070800",
        "80b20f0f00",
    ]
    assert card.sent_tags == [0x01, 0x07, 0x08, 0x0F]


def test_anonymous_on_applet_18_reads_the_card_number_and_document_type_only():
    card = VirtualCard("chloe")

    identity = IdentityReader(connected(card)).read(anonymous=True)

    assert identity.surname is None and identity.given_names is None
    assert card.sent_tags == [0x01, 0x0F]


@pytest.mark.parametrize("name", [n for n, p in CARDS.items() if p.applet == 0x18 and p.activated])
def test_no_applet_18_card_ever_sends_a_sensitive_tag(name):
    card = VirtualCard(name)

    read(card)

    assert not set(card.sent_tags) & SENSITIVE_TAGS
    assert len(card.apdu_log) <= MAX_APDUS


def test_read_record_resends_with_the_length_after_6c():
    transport = ScriptedTransport(
        OK,
        OK,
        (b"\x01\x0c123456789012", 0x90, 0x00),
        (b"", 0x6C, 0x05),
        (b"\x07\x03Aap", 0x90, 0x00),
        (b"\x0f\x011", 0x90, 0x00),
    )
    transport.atr = ATR_APPLET_18

    identity = IdentityReader(transport, wrong_length_pause=0).read()

    assert identity.surname == "Aap" and identity.given_names == ""
    assert [apdu.hex() for apdu in transport.sent[3:5]] == ["80b2070800", "80b2070805"]


def test_read_record_fetches_the_rest_after_61():
    transport = ScriptedTransport(
        OK,
        OK,
        (b"", 0x61, 0x0E),
        (b"\x01\x0c123456789012", 0x90, 0x00),
        (b"\x07\x03Aap\x08\x04Noot", 0x90, 0x00),
    )
    transport.atr = ATR_APPLET_18
    transport.answers.append((b"", 0x6A, 0x83))  # no document type on this card

    identity = IdentityReader(transport).read()

    assert (identity.card_number, identity.given_names, identity.document_type) == (
        "123456789012",
        "Noot",
        "",
    )
    assert transport.sent[3].hex() == "00c000000e"


def test_an_emulated_card_answering_61_is_read_within_the_budget():
    card = VirtualCard("bruno", modes=CardModes(get_response=True))

    _, identity = read(card)

    assert identity.surname == "Dubois-Lefèvre"
    assert len(card.apdu_log) <= MAX_APDUS


def test_a_card_left_in_another_applet_is_read_after_select_by_aid():
    card = VirtualCard("chloe", modes=CardModes(other_applet=True))

    _, identity = read(card)

    assert identity.surname == "Van den Broeck"
    assert log_hex(card)[0] == SELECT_BELPIC


def test_an_unknown_atr_asks_get_card_data_for_the_applet_version():
    card = VirtualCard(CARDS["chloe"].variant(atr=bytes.fromhex("3B8F800180")))

    reader, _ = read(card)

    assert log_hex(card)[:2] == [SELECT_BELPIC, "80e400001c"]
    assert reader.method == READ_RECORD
    assert len(card.apdu_log) == MAX_APDUS


def test_a_card_whose_atr_says_18_but_has_no_read_record_falls_back_to_read_binary():
    card = VirtualCard(CARDS["alice"].variant(atr=ATR_APPLET_18))

    reader, identity = read(card)

    assert identity.surname == "Peeters"
    assert reader.method == READ_BINARY


def test_a_card_never_activated_answers_6d00_and_is_not_retried():
    card = VirtualCard("zoe")

    with pytest.raises(CardNotActivated) as caught:
        read(card)

    assert caught.value.code == "card_not_activated"
    assert len(card.apdu_log) == 1


def test_names_longer_than_the_card_format_are_refused_with_the_servers_code():
    long = CARDS["max"].variant(surname=CARDS["max"].surname + "x")

    with pytest.raises(NameTooLong) as caught:
        read(VirtualCard(long))

    assert caught.value.code == "eid_name_too_long"


def test_the_longest_names_the_format_allows_are_read_whole():
    _, identity = read(VirtualCard("max"))

    assert len(identity.surname.encode()) == 110
    assert len(identity.given_names.encode()) == 95


@pytest.mark.parametrize("document_type", sorted(DOCUMENT_TYPES, key=int))
@pytest.mark.parametrize("applet", [0x17, 0x18])
def test_every_document_type_reads_alike_on_both_applets(document_type, applet):
    person = CARDS["alice"].variant(applet=applet, document_type=document_type)

    result = read_scan_result(connected(VirtualCard(person)), _tokeniser())

    assert result.surname == "Peeters"
    assert result.child_card is (document_type in {"6", *map(str, range(61, 70))})
    assert result.read_method == (READ_RECORD if applet == 0x18 else READ_BINARY)


def _tokeniser():
    from reader_agent.eid_token import EidTokeniser

    return EidTokeniser(TEST_KEY)


# -- applet 1.7: the whole file, parsed and wiped -------------------------------------------


def test_applet_17_reads_the_identity_file_after_6c():
    card = VirtualCard("alice")
    size = len(CARDS["alice"].identity_file())

    reader, identity = read(card)

    assert identity.surname == "Peeters"
    assert reader.method == READ_BINARY
    assert log_hex(card) == [SELECT_BELPIC, SELECT_IDENTITY, "00b0000000", f"00b00000{size:02x}"]


def test_reads_a_long_file_in_chunks_at_increasing_offsets():
    card = VirtualCard("emma")
    rest = len(CARDS["emma"].identity_file()) - 256

    read(card)

    assert log_hex(card)[2:] == ["00b0000000", "00b0010000", f"00b00100{rest:02x}"]
    assert len(card.apdu_log) <= MAX_APDUS


def test_raw_identity_file_is_whole_then_wiped_by_the_caller():
    card = VirtualCard("bruno")
    reader = IdentityReader(connected(card))
    reader.select_belpic()
    reader._select_identity_file()

    assert bytes(reader.read_identity_file()) == CARDS["bruno"].identity_file()


def test_treats_6b00_as_the_end_of_a_file_that_fills_whole_chunks():
    # given: a chunk size that divides the file exactly, so only 6B 00 can end it
    size = len(CARDS["hugo"].identity_file())
    chunk = next(n for n in range(200, 80, -1) if size % n == 0)
    card = VirtualCard("hugo")

    _, identity = read(card, chunk_size=chunk)

    assert identity.surname == "Lambert"
    assert card.apdu_log[-1][:2] == b"\x00\xb0"


def test_copes_with_61_on_read_binary():
    card = VirtualCard("bruno", modes=CardModes(get_response=True))

    _, identity = read(card)

    assert identity.surname == "Dubois-Lefèvre"


def test_more_commands_than_the_budget_are_refused():
    card = VirtualCard("emma", modes=CardModes(get_response=True))

    with pytest.raises(CardUnreadable):
        read(card)

    assert len(card.apdu_log) == MAX_APDUS


@pytest.mark.parametrize("after", [1, 2, 3])
def test_card_removed_mid_read_raises_card_removed(after):
    card = VirtualCard("emma", modes=CardModes(remove_after=after))

    with pytest.raises(CardRemoved) as caught:
        read(card)

    assert caught.value.code == "card_removed"


class ScriptedTransport:
    """Answer APDUs from a script of (data, sw1, sw2), recording the commands."""

    name = "scripted"
    atr = ATR_APPLET_17

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


OK = (b"", 0x90, 0x00)


def test_selects_step_by_step_when_the_card_refuses_a_path():
    transport = ScriptedTransport(
        OK,
        (b"", 0x6A, 0x86),
        OK,
        OK,
        OK,
        (b"\x01\x02ab\x07\x01X", 0x90, 0x00),
    )

    identity = IdentityReader(transport).read()

    assert (identity.card_number, identity.surname) == ("ab", "X")
    assert [apdu.hex() for apdu in transport.sent[2:5]] == [
        "00a4020c023f00",
        "00a4020c02df01",
        "00a4020c024031",
    ]


@pytest.mark.parametrize(
    ("answers", "error"),
    [
        ([(b"", 0x6A, 0x82)], CardUnreadable),
        ([(b"", 0x6D, 0x00)], CardNotActivated),
        ([OK, (b"", 0x6A, 0x82)], CardUnreadable),
        ([OK, (b"", 0x69, 0x82)], CardUnreadable),
        ([OK, OK, (b"", 0x6B, 0x00)], MalformedIdentityFile),
        ([OK, OK, (b"", 0x69, 0x86)], CardUnreadable),
        ([OK, OK, (b"", 0x6D, 0x00)], CardNotActivated),
        ([OK, OK, (b"", 0x6C, 0x10), (b"", 0x6C, 0x10)], CardUnreadable),
        ([OK, OK, (b"x" * 300, 0x90, 0x00)], CardUnreadable),
        ([OK, OK] + [(b"", 0x61, 0x01)] * 40, CardUnreadable),
    ],
    ids=[
        "no-applet",
        "not-activated",
        "not-found",
        "security",
        "empty",
        "no-ef",
        "not-activated-on-read",
        "6c-loop",
        "too-much",
        "61-loop",
    ],
)
def test_bad_card_answers_raise_typed_errors(answers, error):
    with pytest.raises(error):
        IdentityReader(ScriptedTransport(*answers)).read()


def test_read_record_answering_a_tag_not_asked_for_is_refused():
    transport = ScriptedTransport(OK, OK, (b"\x06\x0b85073003328", 0x90, 0x00))
    transport.atr = ATR_APPLET_18

    with pytest.raises(MalformedIdentityFile):
        IdentityReader(transport).read()


def test_stops_a_card_that_never_ends_the_file():
    transport = ScriptedTransport(*([OK, OK] + [(b"z" * 256, 0x90, 0x00)] * 20))

    with pytest.raises(CardUnreadable):
        IdentityReader(transport).read()

    assert len(transport.sent) <= MAX_APDUS


@pytest.mark.parametrize("name", ["bruno", "chloe"])
def test_scan_result_holds_names_and_keyed_hash_of_the_card_number(name, tokeniser):
    person = CARDS[name]

    result = read_scan_result(connected(VirtualCard(name)), tokeniser)

    expected = hmac.new(TEST_KEY, person.card_number.encode(), hashlib.sha256).hexdigest()
    assert result.as_json() == {
        "surname": person.surname,
        "given_names": person.given_names,
        "eid_token": expected,
        "read_method": READ_RECORD if person.applet == 0x18 else READ_BINARY,
        "child_card": False,
    }
    assert person.given_names.split()[0] not in repr(result)


def test_anonymous_result_carries_no_name(tokeniser):
    result = read_scan_result(connected(VirtualCard("alice")), tokeniser, anonymous=True)

    assert set(result.as_json()) == {"eid_token", "read_method", "child_card"}
