"""A small real HTTP server implementing the device API contract, for the agent's tests."""

from __future__ import annotations

import json
import queue
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

PREFIX = "/api/v1/device/"
GOOD_TOKEN = "device-token-for-tests"


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self):
        return json.loads(self.body)


@dataclass
class FakeDeviceServer:
    """Arm scans, script answers, record every request; `url` is the agent's --server."""

    token: str = GOOD_TOKEN
    max_hold: float = 0.2
    requests: list[RecordedRequest] = field(default_factory=list)
    result_answers: list[tuple[int, dict | None]] = field(default_factory=list)
    # (status, body) or (status, body, headers), answered to the next polls in turn.
    next_answers: list[tuple] = field(default_factory=list)
    cancelled: set[str] = field(default_factory=set)
    anonymous: set[str] = field(default_factory=set)
    claims: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._armed: queue.Queue[str] = queue.Queue()
        self.results: queue.Queue[RecordedRequest] = queue.Queue()
        self.failures: queue.Queue[RecordedRequest] = queue.Queue()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeDeviceServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def arm_scan(self, *, anonymous: bool = False) -> str:
        scan_id = str(uuid.uuid4())
        if anonymous:
            self.anonymous.add(scan_id)
        self._armed.put(scan_id)
        return scan_id

    def cancel(self, scan_id: str) -> None:
        self.cancelled.add(scan_id)

    def bodies(self) -> list[bytes]:
        return [request.body for request in self.requests]

    def _handler_class(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # keep test output quiet
                pass

            def do_GET(self) -> None:
                self._dispatch("GET")

            def do_POST(self) -> None:
                self._dispatch("POST")

            def _dispatch(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                recorded = RecordedRequest(method, self.path, dict(self.headers), body)
                server.requests.append(recorded)
                if self.headers.get("Authorization") != f"Device {server.token}":
                    self._answer(401, error("device_revoked"))
                    return
                path = urlsplit(self.path)
                if not path.path.startswith(PREFIX):
                    self._answer(404, error("not_found"))
                    return
                route = path.path[len(PREFIX) :].strip("/").split("/")
                if method == "GET" and route == ["scans", "next"]:
                    self._next(float(parse_qs(path.query).get("wait", ["0"])[0]))
                elif method == "POST" and len(route) == 3 and route[2] == "result":
                    server.results.put(recorded)
                    status, answer = (
                        server.result_answers.pop(0)
                        if server.result_answers
                        else (
                            200,
                            {
                                "member": {"id": 7, "number": "M-0007", "given_name": "x"},
                                "created": True,
                            },
                        )
                    )
                    self._answer(status, answer)
                elif method == "GET" and len(route) == 2 and route[0] == "scans":
                    state = "cancelled" if route[1] in server.cancelled else "armed"
                    self._answer(200, {"scan_id": route[1], "state": state})
                elif method == "POST" and len(route) == 3 and route[2] == "read":
                    scan_id = route[1]
                    if scan_id in server.cancelled:
                        self._answer(409, error("scan_cancelled"))
                    elif scan_id in server.claims:
                        self._answer(409, error("scan_already_read"))
                    else:
                        server.claims.append(scan_id)
                        self._answer(200, {"anonymous": scan_id in server.anonymous})
                elif method == "POST" and len(route) == 3 and route[2] == "failure":
                    server.failures.put(recorded)
                    self._answer(204, None)
                else:
                    self._answer(404, error("not_found"))

            def _next(self, wait: float) -> None:
                if server.next_answers:
                    self._answer(*server.next_answers.pop(0))
                    return
                try:
                    scan_id = server._armed.get(timeout=min(wait, server.max_hold))
                except queue.Empty:
                    self._answer(204, None)
                    return
                expires = datetime.now(UTC) + timedelta(minutes=2)
                self._answer(
                    200,
                    {
                        "scan_id": scan_id,
                        "expires_at": expires.isoformat(),
                        "anonymous": scan_id in server.anonymous,
                    },
                )

            def _answer(
                self, status: int, payload: dict | None, headers: dict | None = None
            ) -> None:
                data = b"" if payload is None else json.dumps(payload).encode()
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                if payload is not None:
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler


def error(code: str, status_message: str = "refused") -> dict:
    return {"code": code, "message": status_message, "details": {}}
