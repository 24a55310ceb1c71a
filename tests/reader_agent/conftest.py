"""Fixtures of the reader agent's tests: a fake device API server, a key, a PC/SC stack."""

from __future__ import annotations

import pytest

from reader_agent.eid_token import EidTokeniser
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
