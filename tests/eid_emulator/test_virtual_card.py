import hashlib

import pytest

from eid_emulator import CARDS, CardModes, CardWithdrawn, VirtualCard
from eid_emulator.cards import (
    ATR_APPLET_17,
    ATR_APPLET_17_B,
    ATR_APPLET_18,
    CHILD_DOCUMENT_TYPES,
    DOCUMENT_TYPES,
)

SELECT_PATH = bytes.fromhex("00A4080C04DF014031")
# As eid-mw sends it: the full Belpic AID, P2 00.
SELECT_AID_EIDMW = "00A404000FA000000030290570 00AD13100101FF".replace(" ", "")


def answer(card, hex_apdu):
    response = card.transmit(bytes.fromhex(hex_apdu))
    return response[:-2], response[-2:].hex().upper()


# -- SELECT ----------------------------------------------------------------------------------


@pytest.mark.parametrize("p2", ["00", "0C"])
def test_select_of_the_belpic_applet_by_aid_answers_9000(p2):
    card = VirtualCard("alice")

    assert answer(card, SELECT_AID_EIDMW[:6] + p2 + SELECT_AID_EIDMW[8:]) == (b"", "9000")
    assert answer(card, "00A404000C" + "A000000030290570 00AD1310".replace(" ", ""))[1] == "9000"
    assert answer(card, "00A4040005A000000099")[1] == "6A82"


def test_a_card_left_in_another_applet_finds_files_only_after_select_by_aid():
    card = VirtualCard("chloe", modes=CardModes(other_applet=True))

    assert answer(card, "00A4080C04DF014031")[1] == "6A82"
    assert answer(card, SELECT_AID_EIDMW)[1] == "9000"
    assert answer(card, "00A4080C04DF014031")[1] == "9000"


def test_select_by_path_with_or_without_the_mf_then_read():
    card = VirtualCard("alice")
    content = CARDS["alice"].identity_file()

    assert answer(card, "00A4080C04DF014031") == (b"", "9000")
    assert answer(card, "00B0000010") == (content[:16], "9000")
    assert answer(card, "00A4080C063F00DF014033")[1] == "9000"
    assert answer(card, "00B0000003")[0] == CARDS["alice"].address_file()[:3]


def test_select_step_by_step_by_fid_as_eid_mw_does():
    card = VirtualCard("chloe")

    for fid in ("3F00", "DF01", "4035"):
        assert answer(card, f"00A4020C02{fid}")[1] == "9000"

    assert answer(card, "00B0000002")[0] == b"\xff\xd8"


@pytest.mark.parametrize("apdu", ["00A4080C04DF014099", "00A4080C04DF024031", "00A4020C029999"])
def test_unknown_files_answer_6a82(apdu):
    assert answer(VirtualCard("alice"), apdu)[1] == "6A82"


# -- READ BINARY -----------------------------------------------------------------------------


def test_read_binary_at_an_offset_and_beyond_the_end():
    card = VirtualCard("alice")
    content = CARDS["alice"].identity_file()
    card.transmit(SELECT_PATH)

    assert answer(card, "00B0000A05") == (content[10:15], "9000")
    assert answer(card, f"00B000{len(content) - 2:02X}02") == (content[-2:], "9000")
    assert answer(card, f"00B000{len(content):02X}10")[1] == "6B00"
    assert answer(card, "00B0100010")[1] == "6B00"


def test_a_too_long_read_binary_answers_6c_with_the_length_left():
    card = VirtualCard("alice")
    size = len(CARDS["alice"].identity_file())
    card.transmit(SELECT_PATH)

    assert answer(card, "00B0000000") == (b"", f"6C{size:02X}")
    assert answer(card, f"00B00000{size:02X}") == (CARDS["alice"].identity_file(), "9000")
    assert answer(card, "00B00010FC")[1] == f"6C{size - 16:02X}"


def test_read_without_a_selected_file_and_unknown_commands_are_refused():
    card = VirtualCard("alice")

    assert answer(card, "00B0000010")[1] == "6986"
    assert answer(card, "0020000108" + "31323334FFFFFFFF")[1] == "6D00"
    assert answer(card, "90B0000010")[1] == "6E00"


def test_get_response_mode_hands_data_out_through_get_response():
    card = VirtualCard("alice", modes=CardModes(get_response=True))
    content = CARDS["alice"].identity_file()
    card.transmit(SELECT_PATH)

    assert answer(card, "00B0000020") == (b"", "6120")
    assert answer(card, "00C0000010") == (content[:16], "6110")
    assert answer(card, "00C0000010") == (content[16:32], "9000")
    assert answer(card, "00C0000010")[1] == "6985"


# -- GET CARD DATA ---------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "version"), [("alice", 0x17), ("chloe", 0x18)])
def test_get_card_data_gives_28_bytes_with_the_applet_version_and_the_chip_serial(name, version):
    card = VirtualCard(name)

    data, sw = answer(card, "80E400001C")

    assert sw == "9000" and len(data) == 28
    assert data[21] == version and data[27] == 0x0F
    # the serial is the chip number of the identity file (tag 02)
    assert data[:16] == CARDS[name].chip_number()
    assert (
        CARDS[name].identity_file()[CARDS[name].identity_file().index(b"\x02\x10") + 2 :][:16]
        == data[:16]
    )


def test_get_card_data_with_pin_tries_on_18_only():
    data, sw = answer(VirtualCard("chloe"), "80E400011F")
    assert sw == "9000" and len(data) == 31

    assert answer(VirtualCard("alice"), "80E400011F")[1] == "6A86"
    assert answer(VirtualCard("chloe"), "80E4000000")[1] == "6C1C"


# -- READ RECORD -----------------------------------------------------------------------------


def test_read_record_returns_only_the_records_asked_for():
    card = VirtualCard("chloe")
    person = CARDS["chloe"]
    card.transmit(SELECT_PATH)

    data, sw = answer(card, "80B2070800")

    surname, given = person.surname.encode(), person.given_names.encode()
    assert sw == "9000"
    assert data == bytes([7, len(surname)]) + surname + bytes([8, len(given)]) + given
    assert card.sent_tags == [0x07, 0x08]


def test_read_record_status_words():
    card = VirtualCard("chloe")

    assert answer(card, "80B2010100")[1] == "6986"  # no file selected
    card.transmit(bytes.fromhex("00A4080C04DF014035"))
    assert answer(card, "80B2010100")[1] == "6981"  # the photo is not structured
    card.transmit(SELECT_PATH)
    assert answer(card, "80B2080700")[1] == "6A83"  # P2 < P1
    assert answer(card, "80B2202200")[1] == "6A83"  # no such tag
    assert answer(card, "80B20101FF")[1] == "6C0E"  # Le too long: 2 + 12 bytes
    assert answer(card, "80B2010105") == (
        b"\x01\x0c" + CARDS["chloe"].card_number[:3].encode(),
        "6109",
    )
    assert answer(card, "00C0000009")[0] == CARDS["chloe"].card_number[3:].encode()


def test_read_record_is_not_a_command_of_applet_17():
    card = VirtualCard("alice")
    card.transmit(SELECT_PATH)

    assert answer(card, "80B2010100")[1] == "6D00"


def test_a_card_never_activated_answers_6d00_to_everything():
    card = VirtualCard("zoe")

    for apdu in (SELECT_AID_EIDMW, "00A4080C04DF014031", "80E400001C", "00B0000000"):
        assert answer(card, apdu)[1] == "6D00"


# -- the cards themselves --------------------------------------------------------------------


def test_each_applet_version_has_its_real_atr():
    atrs = {name: person.atr for name, person in CARDS.items()}

    assert atrs["alice"] == ATR_APPLET_17
    assert atrs["bruno"] == ATR_APPLET_17_B
    assert atrs["chloe"] == ATR_APPLET_18
    assert {p.atr for p in CARDS.values() if p.applet == 0x18} == {ATR_APPLET_18}


def test_photo_hash_is_sha384_on_18_and_sha1_on_17():
    assert CARDS["chloe"].photo_hash() == hashlib.sha384(CARDS["chloe"].photo()).digest()
    assert len(CARDS["alice"].photo_hash()) == 20


def test_the_work_permit_mention_is_tag_16_and_1f_is_a_date():
    extra = CARDS["emma"].extra

    assert len(extra[0x16]) < 64
    assert extra[0x1F] == b"03.04.2017"


def test_every_document_type_is_listed_and_children_are_known_by_it():
    assert {"1", "6", "11", "31", "32", "61", "69"} <= set(DOCUMENT_TYPES)
    assert {"6", "61", "69"} <= CHILD_DOCUMENT_TYPES and "1" not in CHILD_DOCUMENT_TYPES
    assert CARDS["lucas"].is_child_card and CARDS["yara"].is_child_card


# -- the log ---------------------------------------------------------------------------------


def test_card_withdraws_at_the_nth_apdu_and_can_be_reinserted():
    card = VirtualCard("alice", modes=CardModes(remove_after=2))
    card.transmit(SELECT_PATH)

    with pytest.raises(CardWithdrawn):
        card.transmit(bytes.fromhex("00B0000000"))
    with pytest.raises(CardWithdrawn):
        card.transmit(SELECT_PATH)

    card.insert("bruno")
    assert answer(card, "00A4080C04DF014031")[1] == "9000"
    assert card.person.key == "bruno"


def test_apdu_log_keeps_headers_paths_and_sent_tags_never_data(tmp_path):
    log_file = tmp_path / "apdu.log"
    card = VirtualCard("chloe", apdu_log_path=log_file)

    card.transmit(SELECT_PATH)
    card.transmit(bytes.fromhex("80B2070800"))
    card.transmit(bytes.fromhex("0020000108" + "31323334FFFFFFFF"))  # a VERIFY with a PIN
    card.close()

    assert card.apdu_log == [SELECT_PATH, bytes.fromhex("80B2070800"), bytes.fromhex("0020000108")]
    assert log_file.read_text().splitlines() == [
        "00 A4 08 0C 04 DF 01 40 31",
        "80 B2 07 08 00",
        "sent tags 07 08",
        "00 20 00 01 08",
    ]
    assert card.selected_paths() == [bytes.fromhex("DF014031")]


def test_read_binary_logs_every_tag_its_bytes_touch():
    card = VirtualCard("alice")
    card.transmit(SELECT_PATH)

    card.transmit(bytes.fromhex("00B0000003"))  # tag 01, its length, its first byte

    assert card.sent_tags == [0x01]
    size = len(CARDS["alice"].identity_file())
    card.transmit(bytes.fromhex(f"00B00000{size:02X}"))
    assert {0x06, 0x0C, 0x0D} <= set(card.sent_tags)
