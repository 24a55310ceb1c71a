import pytest

from eid_emulator import CARDS, CardModes, CardWithdrawn, VirtualCard

SELECT_PATH = bytes.fromhex("00A4080C04DF014031")


def answer(card, hex_apdu):
    response = card.transmit(bytes.fromhex(hex_apdu))
    return response[:-2], response[-2:].hex().upper()


def test_select_by_path_with_or_without_the_mf_then_read():
    card = VirtualCard("alice")
    content = CARDS["alice"].identity_file()

    assert answer(card, "00A4080C04DF014031") == (b"", "9000")
    assert answer(card, "00B0000010") == (content[:16], "9000")
    assert answer(card, "00A4080C063F00DF014033")[1] == "9000"
    assert answer(card, "00B0000003")[0] == CARDS["alice"].address_file()[:3]


def test_select_step_by_step():
    card = VirtualCard("chloe")

    for fid in ("3F00", "DF01", "4035"):
        assert answer(card, f"00A4020C02{fid}")[1] == "9000"

    assert answer(card, "00B0000002")[0] == b"\xff\xd8"


@pytest.mark.parametrize("apdu", ["00A4080C04DF014099", "00A4080C04DF024031", "00A4020C029999"])
def test_unknown_files_answer_6a82(apdu):
    assert answer(VirtualCard("alice"), apdu)[1] == "6A82"


def test_read_binary_at_an_offset_and_beyond_the_end():
    card = VirtualCard("alice")
    content = CARDS["alice"].identity_file()
    card.transmit(SELECT_PATH)

    assert answer(card, "00B0000A05") == (content[10:15], "9000")
    assert answer(card, f"00B000{len(content) - 2:02X}00") == (content[-2:], "9000")
    assert answer(card, f"00B000{len(content):02X}10")[1] == "6B00"
    assert answer(card, "00B0100010")[1] == "6B00"


def test_read_without_a_selected_file_and_unknown_commands_are_refused():
    card = VirtualCard("alice")

    assert answer(card, "00B0000010")[1] == "6986"
    assert answer(card, "0020000108" + "31323334FFFFFFFF")[1] == "6D00"
    assert answer(card, "80B0000010")[1] == "6E00"


def test_wrong_le_mode_answers_6c_with_the_exact_length():
    card = VirtualCard("alice", modes=CardModes(wrong_le=True))
    size = len(CARDS["alice"].identity_file())
    card.transmit(SELECT_PATH)

    assert answer(card, "00B0000000")[1] == f"6C{size:02X}"
    assert answer(card, f"00B00000{size:02X}")[1] == "9000"


def test_get_response_mode_hands_data_out_through_get_response():
    card = VirtualCard("alice", modes=CardModes(get_response=True))
    content = CARDS["alice"].identity_file()
    card.transmit(SELECT_PATH)

    assert answer(card, "00B0000020") == (b"", "6120")
    assert answer(card, "00C0000010") == (content[:16], "6110")
    assert answer(card, "00C0000010") == (content[16:32], "9000")
    assert answer(card, "00C0000010")[1] == "6985"


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


def test_apdu_log_keeps_headers_and_paths_never_data(tmp_path):
    log_file = tmp_path / "apdu.log"
    card = VirtualCard("alice", apdu_log_path=log_file)

    card.transmit(SELECT_PATH)
    card.transmit(bytes.fromhex("00B0000000"))
    card.transmit(bytes.fromhex("0020000108" + "31323334FFFFFFFF"))  # a VERIFY with a PIN
    card.close()

    assert card.apdu_log == [SELECT_PATH, bytes.fromhex("00B0000000"), bytes.fromhex("0020000108")]
    assert log_file.read_text().splitlines() == [
        "00 A4 08 0C 04 DF 01 40 31",
        "00 B0 00 00 00",
        "00 20 00 01 08",
    ]
    assert card.selected_paths() == [bytes.fromhex("DF014031")]
