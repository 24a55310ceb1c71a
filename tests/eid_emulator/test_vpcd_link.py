"""The emulator against a stand-in for vpcd: a TCP listener speaking vpcd's framing."""

import socket
import threading

from eid_emulator import CARDS, CardModes, VirtualCard
from eid_emulator.vpcd import VpcdLink


class FakeVpcd:
    def __init__(self):
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.conn = None

    def accept(self):
        self.conn, _ = self.listener.accept()
        self.conn.settimeout(5)

    def send(self, payload: bytes, *, split: bool = False):
        header = len(payload).to_bytes(2, "big")
        if split:  # vpcd writes length and payload separately
            self.conn.sendall(header)
            self.conn.sendall(payload)
        else:
            self.conn.sendall(header + payload)

    def receive(self) -> bytes | None:
        header = self._exactly(2)
        if header is None:
            return None
        return self._exactly(int.from_bytes(header, "big"))

    def _exactly(self, size):
        data = b""
        while len(data) < size:
            chunk = self.conn.recv(size - len(data))
            if not chunk:
                return None
            data += chunk
        return data

    def close(self):
        if self.conn:
            self.conn.close()
        self.listener.close()


def serve_in_thread(link):
    outcome = {}
    thread = threading.Thread(target=lambda: outcome.setdefault("reason", link.serve()))
    thread.start()
    return thread, outcome


def test_answers_atr_requests_controls_and_apdus():
    vpcd = FakeVpcd()
    card = VirtualCard("chloe")
    link = VpcdLink(card, port=vpcd.port)
    link.connect(timeout=5)
    vpcd.accept()
    thread, outcome = serve_in_thread(link)
    try:
        vpcd.send(b"\x04")
        assert vpcd.receive() == CARDS["chloe"].atr
        vpcd.send(b"\x01")  # power on: no answer expected
        vpcd.send(bytes.fromhex("00A4080C04DF014031"), split=True)
        assert vpcd.receive() == b"\x90\x00"
        vpcd.send(bytes.fromhex("00B0000004"), split=True)
        assert vpcd.receive() == CARDS["chloe"].identity_file()[:4] + b"\x90\x00"
    finally:
        vpcd.conn.close()
        thread.join(5)
        vpcd.close()
    assert outcome["reason"] == "closed"


def test_withdrawn_card_closes_the_connection():
    vpcd = FakeVpcd()
    link = VpcdLink(VirtualCard("alice", modes=CardModes(remove_after=2)), port=vpcd.port)
    link.connect(timeout=5)
    vpcd.accept()
    thread, outcome = serve_in_thread(link)
    try:
        vpcd.send(bytes.fromhex("00A4080C04DF014031"))
        assert vpcd.receive() == b"\x90\x00"
        vpcd.send(bytes.fromhex("00B0000000"))
        assert vpcd.receive() is None
    finally:
        thread.join(5)
        vpcd.close()
    assert outcome["reason"] == "withdrawn"
    assert not link.connected
