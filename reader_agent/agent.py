"""The agent's loop: wait for an armed scan, read the card, send the minimised result."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from reader_agent.eid_card import IdentityReader, ScanResult, scan_result_from
from reader_agent.eid_token import EidTokeniser
from reader_agent.errors import (
    CardReadError,
    CardUnreadable,
    DeviceTokenRefused,
    NoCard,
    ScanWithdrawn,
    ServerBusy,
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
    cancel_check: float = 1.0
    """While waiting for the card, ask the server this often whether the scan still stands."""


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
        # Scans this agent already handled: a consent arms one read, never a second.
        self._handled: deque[str] = deque(maxlen=64)
        self.last_apdus = 0

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
                except ServerBusy as busy:
                    # Not an outage: the server serves its waits to other readers now.
                    log.debug("server busy; asking again in %s s", busy.retry_after)
                    self.stop.wait(busy.retry_after)
                    continue
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
        """Read the card once for one armed scan and send the result or the failure."""
        if scan.scan_id in self._handled:
            log.warning("scan already handled; not reading the card again for it")
            return
        self._handled.append(scan.scan_id)
        log.info("scan armed: insert the customer's eID card in the reader")
        try:
            result = self.read_card(self._card_wait(scan), scan=scan)
        except ScanWithdrawn as exc:
            log.info("scan %s before the card was read; nothing read", exc.reason)
            return
        except CardReadError as exc:
            log.warning("card not read (%s): %s; ready for the next card", exc.code, exc.message)
            self._report_failure(scan, exc)
            return
        except Exception as exc:  # keep serving the counter whatever went wrong
            # Only the type: an unexpected exception's message might quote card bytes.
            log.error("card not read (unexpected %s); ready for the next card", type(exc).__name__)
            self._report_failure(scan, CardUnreadable())
            return
        log.info("card read (%d commands); sending the result to the server", self.last_apdus)
        outcome = self._send("scan result", lambda: self.api.post_result(scan.scan_id, result))
        if outcome is not None:
            log.info(
                "scan done: %s", "new member enrolled" if outcome.created else "member recognised"
            )

    def read_card(self, timeout: float, *, scan: ArmedScan | None = None) -> ScanResult:
        """Wait up to timeout seconds for a card and return its minimised result.

        With a scan, the wait ends as soon as the scan is cancelled or expires, and the card
        is read only after the server confirmed that this scan may read it now.
        """
        self._wait_for_card(timeout, scan)
        anonymous = False
        if scan is not None:
            anonymous = self._claim(scan)
        self.transport.connect()
        try:
            reader = IdentityReader(self.transport, chunk_size=self.settings.chunk_size)
            try:
                return scan_result_from(reader, self.tokeniser, anonymous=anonymous)
            finally:
                self.last_apdus = reader.apdus_sent
        finally:
            self.transport.disconnect()

    def _wait_for_card(self, timeout: float, scan: ArmedScan | None) -> None:
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise NoCard
            step = remaining if scan is None else min(remaining, self.settings.cancel_check)
            if self.transport.wait_for_card(step):
                return
            if scan is not None:
                state = self._scan_state(scan)
                if state not in ("armed", None):
                    raise ScanWithdrawn(state)

    def _scan_state(self, scan: ArmedScan) -> str | None:
        try:
            return self.api.scan_state(scan.scan_id)
        except DeviceTokenRefused:
            raise
        except ServerError:
            return None  # unknown for now: keep waiting, the claim decides before any read

    def _claim(self, scan: ArmedScan) -> bool:
        """Ask the server whether this scan may read the card now; return whether anonymous."""
        try:
            return self.api.claim_read(scan.scan_id)
        except DeviceTokenRefused:
            raise
        except ServerUnavailable:
            raise ScanWithdrawn("unconfirmed (server unreachable)") from None
        except ServerError as exc:
            raise ScanWithdrawn(exc.code) from None

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
