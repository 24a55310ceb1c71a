"""Run a real PC/SC stack for tests: pcscd with the vpcd driver, and an emulated eID card.

`pcsc_stack()` starts `pcscd --foreground` (unless one already runs) and
`python -m eid_emulator` as child processes, waits until the card shows in the reader and
stops both at the end. Stopping the emulator pulls the card; `insert()` puts one back.
"""

from __future__ import annotations

import fcntl
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
# As eid_emulator.card writes it; repeated here so this module needs nothing imported.
SENT_TAGS_PREFIX = "sent tags"
PCSCD_SOCKET = Path("/run/pcscd/pcscd.comm")
VPCD_CONFIG = Path("/etc/reader.conf.d/vpcd")
VPCD_PORT = 35963
# pcscd's socket and vpcd's port are machine-wide: concurrent test runs take turns.
LOCK_FILE = Path(tempfile.gettempdir()) / "pcsc-stack.lock"
READER = "Virtual PCD 00 00"
INSTALL_HINT = (
    "needs a PC/SC stack: apt-get install pcscd vsmartcard-vpcd libpcsclite-dev "
    "and pip install pyscard"
)


def pcscd_binary() -> str | None:
    return shutil.which("pcscd") or next(
        (p for p in ("/usr/sbin/pcscd", "/sbin/pcscd") if os.access(p, os.X_OK)), None
    )


def missing_requirements() -> str | None:
    """Return why a PC/SC test cannot run here, or None when it can."""
    if pcscd_binary() is None:
        return f"pcscd not found; {INSTALL_HINT}"
    if not VPCD_CONFIG.exists():
        return f"{VPCD_CONFIG} missing (vpcd driver not installed); {INSTALL_HINT}"
    if importlib.util.find_spec("smartcard") is None:
        return f"pyscard not installed; {INSTALL_HINT}"
    return None


def pcscd_running() -> bool:
    """Return True when something answers on pcscd's socket."""
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.settimeout(1.0)
        probe.connect(str(PCSCD_SOCKET))
    except OSError:
        return False
    finally:
        probe.close()
    return True


def card_present(reader: str = READER) -> bool | None:
    """Return whether the reader holds a card, or None if pcscd or the reader is not there."""
    from smartcard import scard

    hresult, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    if hresult != scard.SCARD_S_SUCCESS:
        return None
    try:
        hresult, states = scard.SCardGetStatusChange(
            context, 0, [(reader, scard.SCARD_STATE_UNAWARE)]
        )
        if hresult != scard.SCARD_S_SUCCESS:
            return None
        state = states[0][1]
        if state & (scard.SCARD_STATE_UNKNOWN | scard.SCARD_STATE_UNAVAILABLE):
            return None
        return bool(state & scard.SCARD_STATE_PRESENT)
    finally:
        # A context left open would keep pcscd from stopping cleanly.
        scard.SCardReleaseContext(context)


def _wait_until(check, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() >= deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _stop(process: subprocess.Popen | None, timeout: float = 5.0) -> None:
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout)


class PcscStack:
    """Handle on a running pcscd + emulator pair; see `pcsc_stack`."""

    def __init__(self, *, apdu_log: Path, workdir: Path, port: int, reader: str) -> None:
        self.apdu_log = apdu_log
        self.workdir = workdir
        self.port = port
        self.reader = reader
        self.pcscd: subprocess.Popen | None = None
        self.emulator: subprocess.Popen | None = None
        self.card: str | None = None

    # -- pcscd -------------------------------------------------------------------------------

    @property
    def owns_pcscd(self) -> bool:
        return self.pcscd is not None

    def start_pcscd(self, timeout: float = 10.0) -> None:
        """Start pcscd in the foreground unless one already serves the socket."""
        if pcscd_running():
            return
        log = (self.workdir / "pcscd.log").open("ab")
        self.pcscd = subprocess.Popen(
            [pcscd_binary(), "--foreground"], stdout=log, stderr=subprocess.STDOUT
        )
        log.close()
        _wait_until(
            lambda: pcscd_running() or self.pcscd.poll() is not None, timeout, "pcscd's socket"
        )
        if self.pcscd.poll() is not None:
            raise RuntimeError(f"pcscd exited at start; see {self.workdir / 'pcscd.log'}")

    def stop_pcscd(self) -> None:
        _stop(self.pcscd)
        self.pcscd = None

    def restart_pcscd(self) -> None:
        """Stop and start pcscd (only one this stack started); the emulator reconnects."""
        if not self.owns_pcscd:
            raise RuntimeError("pcscd was already running and is not ours to restart")
        self.stop_pcscd()
        self.start_pcscd()

    # -- the emulated card ------------------------------------------------------------------

    def insert(
        self, card: str = "alice", *extra_args: str, wait: bool = True, timeout: float = 10.0
    ) -> None:
        """Start an emulator holding `card` (extra_args e.g. '--get-response') and wait for it."""
        self.remove()
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
        log = (self.workdir / "emulator.log").open("ab")
        self.emulator = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "eid_emulator",
                "--card",
                card,
                "--port",
                str(self.port),
                "--apdu-log",
                str(self.apdu_log),
                *extra_args,
            ],
            cwd=REPO_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        self.card = card
        if wait:
            self.wait_for_card(present=True, timeout=timeout)

    def remove(self, *, wait: bool = True, timeout: float = 5.0) -> None:
        """Stop the emulator: the card leaves the reader."""
        if self.emulator is None:
            return
        _stop(self.emulator)
        self.emulator = None
        self.card = None
        if wait:
            self.wait_for_card(present=False, timeout=timeout)

    def kill_emulator(self) -> None:
        """Kill the emulator at once (SIGKILL), as a card yanked out would vanish."""
        if self.emulator is not None:
            self.emulator.kill()
            self.emulator.wait()
            self.emulator = None
            self.card = None

    def wait_for_card(self, *, present: bool = True, timeout: float = 10.0) -> None:
        def settled() -> bool:
            if present and self.emulator is not None and self.emulator.poll() is not None:
                raise RuntimeError(f"the emulator exited; see {self.workdir / 'emulator.log'}")
            return card_present(self.reader) is present

        _wait_until(settled, timeout, "the card to appear" if present else "the card to go")

    def _log_lines(self) -> list[str]:
        if not self.apdu_log.exists():
            return []
        return self.apdu_log.read_text(encoding="ascii").splitlines()

    def apdu_lines(self) -> list[str]:
        """Return the emulator's APDU log: one hex command header (and path) per line."""
        return [line for line in self._log_lines() if not line.startswith(SENT_TAGS_PREFIX)]

    def sent_tags(self) -> list[int]:
        """Return every identity file tag the card's answers carried, in order."""
        tags: list[int] = []
        for line in self._log_lines():
            if line.startswith(SENT_TAGS_PREFIX):
                tags += [int(tag, 16) for tag in line[len(SENT_TAGS_PREFIX) :].split()]
        return tags

    def clear_apdu_log(self) -> None:
        self.apdu_log.write_text("", encoding="ascii")

    def close(self) -> None:
        self.remove(wait=False)
        self.stop_pcscd()


@contextmanager
def _machine_lock(timeout: float = 300.0) -> Iterator[None]:
    """Hold an exclusive lock on the PC/SC stack of this machine for the block."""
    with LOCK_FILE.open("a") as handle:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise TimeoutError("another test run kept the PC/SC stack busy") from None
                time.sleep(0.1)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def pcsc_stack(
    card: str | None = "alice",
    apdu_log: str | Path | None = None,
    *,
    emulator_args: tuple[str, ...] = (),
    port: int = VPCD_PORT,
    reader: str = READER,
) -> Iterator[PcscStack]:
    """Yield a running pcscd with the vpcd reader holding `card` (None: an empty reader).

    Release every pyscard context you opened before leaving the block: pcscd is stopped at
    the end when this helper started it.
    """
    reason = missing_requirements()
    if reason is not None:
        raise RuntimeError(reason)
    with _machine_lock(), tempfile.TemporaryDirectory(prefix="pcsc-stack-") as tmp:
        workdir = Path(tmp)
        log_path = Path(apdu_log) if apdu_log is not None else workdir / "apdu.log"
        stack = PcscStack(apdu_log=log_path, workdir=workdir, port=port, reader=reader)
        try:
            stack.start_pcscd()
            if card is not None:
                stack.insert(card, *emulator_args)
            yield stack
        finally:
            stack.close()


def agent_key_file(folder: Path) -> Path:
    """Write a fresh eID token key with the agent's own command; return its path."""
    key_file = Path(folder) / "eid.key"
    subprocess.run(
        [sys.executable, "-m", "reader_agent", "--generate-key", "--key-file", str(key_file)],
        check=True,
        capture_output=True,
        timeout=30,
    )
    return key_file


def agent_start_once(
    *, server: str, token_file: Path, key_file: Path, reader: str, verbose: bool = False
) -> subprocess.Popen:
    """Start `python -m reader_agent` for one armed scan against `server`; output is piped."""
    command = [
        sys.executable, "-m", "reader_agent", "--server", server,
        "--token-file", str(token_file), "--key-file", str(key_file),
        "--reader", reader, "--once", "--poll-wait", "2",
    ]  # fmt: skip
    if verbose:
        command.append("--verbose")
    return subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env={**os.environ}
    )
