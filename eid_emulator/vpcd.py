"""Connect an emulated card to pcscd's vpcd driver, which listens on TCP (35963 for reader 0)."""

from __future__ import annotations

import contextlib
import socket
import threading
import time

from eid_emulator.card import CardWithdrawn, VirtualCard

DEFAULT_PORT = 35963
CTRL_POWER_OFF = 0
CTRL_POWER_ON = 1
CTRL_RESET = 2
CTRL_ATR = 4
# Linux value; the constant is missing from the socket module on some platforms.
TCP_QUICKACK = getattr(socket, "TCP_QUICKACK", 12)


class VpcdLink:
    """Serve one VirtualCard over one vpcd connection: the card is present while connected."""

    def __init__(
        self, card: VirtualCard, *, host: str = "127.0.0.1", port: int = DEFAULT_PORT
    ) -> None:
        self.card = card
        self.host = host
        self.port = port
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()

    @property
    def connected(self) -> bool:
        return self._sock is not None

    def connect(self, timeout: float = 30.0) -> None:
        """Connect to vpcd, retrying while pcscd is still starting; raise OSError at timeout."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                sock = socket.create_connection((self.host, self.port), timeout=2.0)
            except OSError:
                if time.monotonic() >= deadline:
                    raise
                time.sleep(0.1)
                continue
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.settimeout(None)
            with self._lock:
                self._sock = sock
            return

    def disconnect(self) -> None:
        """Close the connection: pcscd sees the card removed at its next poll."""
        with self._lock:
            sock, self._sock = self._sock, None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def serve(self) -> str:
        """Answer vpcd until the link ends; return why: 'closed' or 'withdrawn'."""
        sock = self._sock
        if sock is None:
            return "closed"
        try:
            while True:
                payload = self._receive(sock)
                if payload is None:
                    return "closed"
                reply = self._handle(payload)
                if reply is not None:
                    sock.sendall(len(reply).to_bytes(2, "big") + reply)
        except CardWithdrawn:
            return "withdrawn"
        except OSError:
            return "closed"
        finally:
            self.disconnect()

    def _receive(self, sock: socket.socket) -> bytes | None:
        header = self._receive_exactly(sock, 2)
        if header is None:
            return None
        return self._receive_exactly(sock, int.from_bytes(header, "big"))

    @staticmethod
    def _receive_exactly(sock: socket.socket, size: int) -> bytes | None:
        buffer = bytearray()
        while len(buffer) < size:
            # vpcd sends length and payload in two writes without TCP_NODELAY; acking at once
            # spares every APDU a ~40 ms delayed-ACK stall. The kernel clears the flag after
            # use, hence before every recv.
            sock.setsockopt(socket.IPPROTO_TCP, TCP_QUICKACK, 1)
            chunk = sock.recv(size - len(buffer))
            if not chunk:
                return None
            buffer += chunk
        return bytes(buffer)

    def _handle(self, payload: bytes) -> bytes | None:
        if len(payload) == 1:
            control = payload[0]
            if control == CTRL_ATR:
                return self.card.atr
            if control in (CTRL_POWER_OFF, CTRL_POWER_ON, CTRL_RESET):
                self.card.reset()
            return None
        return self.card.transmit(payload)
