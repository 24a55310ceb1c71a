"""The agent's loop: wait for an armed scan, read the card, send the minimised result."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from reader_agent.eid_card import ScanResult, read_scan_result
from reader_agent.eid_token import EidTokeniser
from reader_agent.errors import (
    CardReadError,
    CardUnreadable,
    DeviceTokenRefused,
    NoCard,
    ServerError,
    ServerUnavailable,
)
from reader_agent.server_api import ArmedScan, DeviceApi
from reader_agent.transport import CardTransport

log = logging.getLogger("reader_agent")

EXIT_OK = 0
EXIT_TOKEN_REFUSED = 3
T = TypeVar("T")


@dataclass(frozen=True)
class AgentSettings:
    """Timings of the agent, in seconds."""

    card_wait: float = 30.0
    poll_wait: int = 20
    retry_window: float = 30.0
    backoff_initial: float = 1.0
    backoff_max: float = 8.0
    chunk_size: int = 256


class ReaderAgent:
    """Serve armed scans for one counter until stopped, or until the server refuses the token."""

    def __init__(
        self,
        *,
        api: DeviceApi,
        transport: CardTransport,
        tokeniser: EidTokeniser,
        settings: AgentSettings | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        self.api = api
        self.transport = transport
        self.tokeniser = tokeniser
        self.settings = settings or AgentSettings()
        self.stop = stop or threading.Event()

    def run(self, *, max_scans: int | None = None) -> int:
        """Poll, scan, report; return the process exit code."""
        log.info("reader agent ready (reader: %s)", self.transport.name)
        handled = 0
        backoff = self.settings.backoff_initial
        unreachable = False
        try:
            while not self.stop.is_set():
                try:
                    scan = self.api.next_scan(wait=self.settings.poll_wait)
                except DeviceTokenRefused:
                    return self._token_refused()
                except ServerError as exc:
                    # Polling carries no card data, so it may retry for as long as it takes.
                    if not unreachable:
                        log.warning(
                            "server unreachable (%s); retrying, scans are not possible meanwhile",
                            exc.code,
                        )
                    unreachable = True
                    self.stop.wait(backoff)
                    backoff = min(backoff * 2, self.settings.backoff_max)
                    continue
                if unreachable:
                    log.info("server reachable again")
                unreachable = False
                backoff = self.settings.backoff_initial
                if scan is None:
                    continue
                self.handle_scan(scan)
                handled += 1
                if max_scans is not None and handled >= max_scans:
                    return EXIT_OK
        except DeviceTokenRefused:
            return self._token_refused()
        return EXIT_OK

    def handle_scan(self, scan: ArmedScan) -> None:
        """Read the card for one armed scan and send the result or the failure."""
        log.info("scan armed: insert the customer's eID card in the reader")
        try:
            result = self.read_card(self._card_wait(scan))
        except CardReadError as exc:
            log.warning("card not read (%s): %s; ready for the next card", exc.code, exc.message)
            self._report_failure(scan, exc)
            return
        except Exception as exc:  # keep serving the counter whatever went wrong
            # Only the type: an unexpected exception's message might quote card bytes.
            log.error("card not read (unexpected %s); ready for the next card", type(exc).__name__)
            self._report_failure(scan, CardUnreadable())
            return
        log.info("card read; sending the result to the server")
        outcome = self._send("scan result", lambda: self.api.post_result(scan.scan_id, result))
        if outcome is not None:
            log.info(
                "scan done: %s", "new member enrolled" if outcome.created else "member recognised"
            )

    def read_card(self, timeout: float) -> ScanResult:
        """Wait up to timeout seconds for a card and return its minimised result."""
        if not self.transport.wait_for_card(timeout):
            raise NoCard
        self.transport.connect()
        try:
            return read_scan_result(
                self.transport, self.tokeniser, chunk_size=self.settings.chunk_size
            )
        finally:
            self.transport.disconnect()

    def _report_failure(self, scan: ArmedScan, error: CardReadError) -> None:
        self._send(
            "failure report", lambda: self.api.post_failure(scan.scan_id, error.code, error.message)
        )

    def _card_wait(self, scan: ArmedScan) -> float:
        wait = self.settings.card_wait
        if scan.expires_at is not None:
            left = (scan.expires_at - datetime.now(UTC)).total_seconds()
            wait = min(wait, max(left, 1.0))
        return wait

    def _send(self, what: str, call: Callable[[], T]) -> T | None:
        """Call the server, retrying a bounded time while it is unreachable; data stay in memory."""
        deadline = time.monotonic() + self.settings.retry_window
        delay = self.settings.backoff_initial
        while True:
            try:
                return call()
            except DeviceTokenRefused:
                raise
            except ServerUnavailable:
                if time.monotonic() + delay > deadline or self.stop.is_set():
                    log.error(
                        "server unreachable: %s not delivered and discarded; scan the card again "
                        "once the server is back",
                        what,
                    )
                    return None
                log.warning(
                    "server unreachable: retrying the %s in %.0f s (kept in memory only)",
                    what,
                    delay,
                )
                self.stop.wait(delay)
                delay = min(delay * 2, self.settings.backoff_max)
            except ServerError as exc:
                log.warning("server refused the %s (%s)", what, exc.code)
                return None

    def _token_refused(self) -> int:
        log.error("device token refused: the server does not accept this device; stopping")
        return EXIT_TOKEN_REFUSED
