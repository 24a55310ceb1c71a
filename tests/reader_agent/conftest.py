"""Fixtures of the reader agent's tests: a fake device API server, a key, a PC/SC stack."""

from __future__ import annotations

import pytest

from reader_agent.eid_token import EidTokeniser
from tests.pcsc_support import missing_requirements, pcsc_stack
from tests.reader_agent.fake_device_server import FakeDeviceServer

TEST_KEY = bytes(range(32))


@pytest.fixture
def tokeniser() -> EidTokeniser:
    return EidTokeniser(TEST_KEY)


@pytest.fixture
def device_server():
    server = FakeDeviceServer().start()
    yield server
    server.stop()


@pytest.fixture
def pcsc(tmp_path):
    """A running pcscd whose vpcd reader is empty; insert cards with pcsc.insert('alice')."""
    reason = missing_requirements()
    if reason:
        pytest.skip(reason)
    with pcsc_stack(card=None, apdu_log=tmp_path / "apdu.log") as stack:
        yield stack
