"""Client of the server's device API (`/api/v1/device/`), authenticated by a device token."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import requests

from reader_agent.eid_card import ScanResult
from reader_agent.errors import DeviceTokenRefused, ServerBusy, ServerError, ServerUnavailable

FAILURE_CODES = frozenset(
    {
        "card_removed",
        "reader_unavailable",
        "card_unreadable",
        "no_card",
        "card_not_activated",
        "eid_name_too_long",
    }
)


@dataclass(frozen=True)
class ArmedScan:
    """A scan that staff armed for this device; nothing personal in it."""

    scan_id: str
    expires_at: datetime | None
    anonymous: bool = False


@dataclass(frozen=True)
class ScanOutcome:
    """The server's answer to a result: which member, and whether it is new."""

    member_id: int | None
    created: bool


# The longest pause a server's Retry-After can impose on the reader.
MAX_RETRY_AFTER = 30


def _seconds(header: str | None) -> float:
    """Return Retry-After's whole seconds (0 when absent or not a number), at most 30."""
    if header is None or not header.strip().isdigit():
        return 0
    return min(int(header.strip()), MAX_RETRY_AFTER)


class DeviceApi:
    """Talk to the server exactly as the device API contract says."""

    def __init__(
        self,
        server_url: str,
        token: str,
        *,
        timeout: float = 10.0,
        session: requests.Session | None = None,
    ) -> None:
        self.base_url = server_url.rstrip("/") + "/api/v1/device/"
        self.timeout = timeout
        self.session = session or requests.Session()
        self.session.headers["Authorization"] = f"Device {token}"
        self.session.headers["Accept"] = "application/json"

    def next_scan(self, wait: int = 20) -> ArmedScan | None:
        """Long-poll for an armed scan; return None when the server has none (204)."""
        response = self._request(
            "GET", "scans/next/", params={"wait": wait}, read_timeout=wait + 10
        )
        if response.status_code == 204:
            retry_after = _seconds(response.headers.get("Retry-After"))
            if retry_after:
                raise ServerBusy(retry_after)
            return None
        body = self._json(response)
        try:
            scan_id = str(uuid.UUID(str(body["scan_id"])))
        except (KeyError, ValueError, TypeError):
            raise ServerError("the server sent a scan without a valid id") from None
        expires_at = None
        raw_expiry = body.get("expires_at")
        if isinstance(raw_expiry, str):
            try:
                expires_at = datetime.fromisoformat(raw_expiry)
            except ValueError:
                expires_at = None
            if expires_at is not None and expires_at.tzinfo is None:
                expires_at = None  # a naive time cannot be compared safely; ignore it
        return ArmedScan(
            scan_id=scan_id, expires_at=expires_at, anonymous=body.get("anonymous") is True
        )

    def scan_state(self, scan_id: str) -> str:
        """Return the scan's state as the server has it: armed, cancelled, expired, ..."""
        body = self._json(self._request("GET", f"scans/{scan_id}/"))
        state = body.get("state")
        if not isinstance(state, str):
            raise ServerError("the server sent a scan without a state")
        return state

    def claim_read(self, scan_id: str) -> bool:
        """Tell the server the card is about to be read; return whether the scan is anonymous.

        The server answers 409 (raised as ServerError with its code) when the scan was
        cancelled, expired or already read: then the card must not be read.
        """
        body = self._json(self._request("POST", f"scans/{scan_id}/read/", json={}))
        return body.get("anonymous") is True

    def post_result(self, scan_id: str, result: ScanResult) -> ScanOutcome:
        """Send the minimised scan result; return the member the server linked it to."""
        response = self._request("POST", f"scans/{scan_id}/result/", json=result.as_json())
        body = self._json(response)
        member = body.get("member") if isinstance(body.get("member"), dict) else {}
        member_id = member.get("id") if isinstance(member.get("id"), int) else None
        return ScanOutcome(member_id=member_id, created=bool(body.get("created")))

    def post_failure(self, scan_id: str, code: str, message: str) -> None:
        """Tell the server (and so the cashier's screen) why the scan failed."""
        if code not in FAILURE_CODES:
            code = "card_unreadable"
        self._request("POST", f"scans/{scan_id}/failure/", json={"code": code, "message": message})

    def close(self) -> None:
        self.session.close()

    def _request(
        self, method: str, path: str, *, read_timeout: float | None = None, **kwargs
    ) -> requests.Response:
        try:
            response = self.session.request(
                method,
                self.base_url + path,
                timeout=(self.timeout, read_timeout or self.timeout),
                **kwargs,
            )
        except requests.RequestException:
            raise ServerUnavailable from None
        status = response.status_code
        if status < 400:
            return response
        code = self._error_code(response)
        if status == 401:
            raise DeviceTokenRefused(status=status, code=code or DeviceTokenRefused.code)
        if status >= 500:
            raise ServerUnavailable(f"the server answered {status}", status=status)
        # The server's message is not logged: only its stable code is.
        raise ServerError(
            f"the server refused the request ({code or status})", status=status, code=code
        )

    @staticmethod
    def _error_code(response: requests.Response) -> str | None:
        try:
            body = response.json()
        except ValueError:
            return None
        code = body.get("code") if isinstance(body, dict) else None
        return code if isinstance(code, str) and code.isidentifier() else None

    @staticmethod
    def _json(response: requests.Response) -> dict:
        try:
            body = response.json()
        except ValueError:
            raise ServerError("the server sent a body that is not JSON") from None
        if not isinstance(body, dict):
            raise ServerError("the server sent an unexpected body")
        return body
