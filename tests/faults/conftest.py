"""Fault tests: they need the real servers (CI's PostgreSQL + Redis pass)."""

from __future__ import annotations

import os
from urllib.parse import urlsplit

import pytest

from tests.faults.proxy import TcpProxy


@pytest.fixture
def redis_proxy():
    """A proxy in front of this run's Redis, which the test can cut and restore."""
    url = os.environ.get("REDIS_URL")
    if not url:
        pytest.skip("needs Redis: set REDIS_URL (CI's second pass)")
    parts = urlsplit(url)
    proxy = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 6379)
    yield proxy
    proxy.close()
