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


FAULTS: list[tuple[str, str, str, str]] = []


def fault_line(fault: str, running: str, user_saw: str, lost: str) -> None:
    """Record one line of the fault table (printed at the end of the run)."""
    FAULTS.append((fault, running, user_saw, lost))
    print(f"FAULT | {fault} | running: {running} | user saw: {user_saw} | lost: {lost}")


def pytest_terminal_summary(terminalreporter):
    if not FAULTS:
        return
    terminalreporter.section("faults injected")
    for fault, running, user_saw, lost in FAULTS:
        terminalreporter.write_line(
            f"{fault:34} | {running:42} | user saw: {user_saw:36} | lost: {lost}"
        )
