"""Whatever a card sends, the agent answers with one of its typed errors, never a crash or hang."""

import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eid_emulator import CARDS
from eid_emulator.cards import ATR_APPLET_17, ATR_APPLET_18, tlv_encode
from reader_agent.eid_card import MAX_APDUS, read_scan_result
from reader_agent.eid_token import EidTokeniser
from reader_agent.errors import CardReadError, MalformedIdentityFile, NameTooLong
from reader_agent.tlv import parse_identity

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
REAL_FILES = [person.identity_file() for person in CARDS.values()]

fields = st.lists(st.tuples(st.integers(0, 0x1F), st.binary(max_size=300)), max_size=12).map(
    lambda items: b"".join(tlv_encode(tag, value) for tag, value in items)
)


def mutated(data: bytes, draw) -> bytes:
    """Truncate, flip or splice garbage into a real identity file."""
    position = draw(st.integers(0, len(data)))
    how = draw(st.sampled_from(["truncate", "flip", "insert"]))
    if how == "truncate":
        return data[:position]
    if how == "flip":
        if position == len(data):
            return data
        return (
            data[:position]
            + bytes([data[position] ^ draw(st.integers(1, 255))])
            + data[position + 1 :]
        )
    return data[:position] + draw(st.binary(max_size=40)) + data[position:]


@st.composite
def identity_files(draw) -> bytes:
    kind = draw(st.sampled_from(["random", "tlv", "mutated"]))
    if kind == "random":
        return draw(st.binary(max_size=600))
    if kind == "tlv":
        return draw(fields) + b"\x00" * draw(st.integers(0, 20))
    return mutated(draw(st.sampled_from(REAL_FILES)), draw)


@FUZZ
@given(identity_files())
def test_parser_returns_identity_or_malformed_file(data):
    try:
        parsed = parse_identity(data)
    except (MalformedIdentityFile, NameTooLong):  # the two refusals parse_identity names
        return
    assert set(vars(parsed)) == {"card_number", "surname", "given_names", "document_type"}


status_words = st.one_of(
    st.sampled_from([(0x90, 0x00), (0x6B, 0x00), (0x62, 0x82), (0x6A, 0x82), (0x6A, 0x86)]),
    st.tuples(st.just(0x61), st.integers(0, 255)),
    st.tuples(st.just(0x6C), st.integers(0, 255)),
    st.tuples(st.integers(0, 255), st.integers(0, 255)),
)
answers = st.lists(st.tuples(st.binary(max_size=300), status_words), min_size=1, max_size=40)


class FuzzTransport:
    """Answer every APDU from a drawn list; once it runs out, keep saying 90 00 with data."""

    name = "fuzz"

    def __init__(self, script, tail: bytes, atr: bytes | None = None):
        self.atr = atr
        self.script = list(script)
        self.tail = tail
        self.count = 0

    def transmit(self, apdu):
        self.count += 1
        if self.script:
            data, (sw1, sw2) = self.script.pop(0)
            return data, sw1, sw2
        return self.tail, 0x90, 0x00


@FUZZ
@given(
    answers,
    st.binary(max_size=256),
    st.sampled_from([1, 17, 128, 256]),
    st.sampled_from([None, ATR_APPLET_17, ATR_APPLET_18]),
)
def test_reader_gives_a_typed_error_on_any_card_answer(script, tail, chunk_size, atr):
    transport = FuzzTransport(script, tail, atr)
    started = time.monotonic()
    try:
        read_scan_result(transport, EidTokeniser(b"k" * 32), chunk_size=chunk_size)
    except CardReadError as exc:
        assert exc.code in {
            "card_unreadable",
            "card_removed",
            "reader_unavailable",
            "card_not_activated",
            "eid_name_too_long",
        }
    assert time.monotonic() - started < 5
    assert transport.count <= MAX_APDUS
