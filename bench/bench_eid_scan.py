"""Measure an eID scan through pcscd and the emulator: latency, APDU count, agent memory.

    .venv/bin/python bench/bench_eid_scan.py [--rounds 30] [--card alice]
    .venv/bin/python bench/bench_eid_scan.py --server http://127.0.0.1:8000 --token T
        [--staff-token S --store GNT01 --device 1]   # the bench arms each scan itself

Without --server a local stand-in of the device API arms every scan itself. With --server the
bench waits for staff to arm each scan for this device on the real server. Starts pcscd
(unless one runs) and the emulator; needs pcscd, vsmartcard-vpcd and pyscard.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from reader_agent.eid_card import read_scan_result  # noqa: E402
from reader_agent.eid_token import EidTokeniser, generate_key_file  # noqa: E402
from reader_agent.pcsc import PyscardTransport  # noqa: E402
from reader_agent.server_api import DeviceApi  # noqa: E402
from tests.pcsc_support import missing_requirements, pcsc_stack  # noqa: E402
from tests.reader_agent.fake_device_server import FakeDeviceServer  # noqa: E402

TARGET_APDUS = 6
TARGET_RSS_MB = 40


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def summary(label: str, values: list[float]) -> None:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    print(
        f"{label:<46} median {ms(statistics.median(values))}, p95 {ms(p95)}, max {ms(ordered[-1])}"
    )


def time_card_arrival(stack, card: str, transport: PyscardTransport, rounds: int) -> list[float]:
    """Return seconds from starting the emulator (Python start, vpcd poll) to the card seen."""
    arrivals = []
    for _ in range(rounds):
        stack.remove()
        stack.insert(card, wait=False)
        started = time.monotonic()
        assert transport.wait_for_card(15)
        arrivals.append(time.monotonic() - started)
    return arrivals


def agent_peak_rss_mb(stack, server: FakeDeviceServer, key_file: Path) -> float:
    """Run `python -m reader_agent --once` through pcscd for one scan; return its peak RSS."""
    server.arm_scan()
    env = {k: v for k, v in os.environ.items() if not k.startswith("READER_AGENT_")}
    env["PYTHONPATH"] = str(REPO_ROOT)
    agent = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "reader_agent",
            "--once",
            "--poll-wait",
            "1",
            "--server",
            server.url,
            "--token",
            server.token,
            "--key-file",
            str(key_file),
            "--reader",
            stack.reader,
        ],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _, status, usage = os.wait4(agent.pid, 0)
    agent.returncode = os.waitstatus_to_exitcode(status)
    stderr = agent.stderr.read().decode(errors="replace")
    agent.stderr.close()
    if agent.returncode != 0 or server.results.empty():
        raise RuntimeError(f"the agent run failed ({agent.returncode}): {stderr}")
    return usage.ru_maxrss / 1024  # kilobytes on Linux


def arm_as_staff(server: str, staff_token: str, store: str, device: int) -> None:
    """Arm a scan the way the counter portal does: consent recorded, then the reader armed."""
    import requests

    response = requests.post(
        server.rstrip("/") + "/api/v1/eid/scans/",
        json={"store": store, "device": device, "notice_language": "nl", "consent_given": True},
        headers={"Authorization": f"Token {staff_token}"},
        timeout=10,
    )
    response.raise_for_status()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--card", default="alice")
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--arrival-rounds", type=int, default=3)
    parser.add_argument("--emulator-args", default="", help="e.g. '--get-response'")
    parser.add_argument("--server", help="a real server's base URL (staff arm each scan)")
    parser.add_argument("--token", help="device token for --server")
    parser.add_argument(
        "--staff-token",
        help="a staff API token: the bench arms each scan itself (needs --store and --device)",
    )
    parser.add_argument("--store", help="store code of the device, with --staff-token")
    parser.add_argument("--device", type=int, help="the device's id, with --staff-token")
    args = parser.parse_args()
    reason = missing_requirements()
    if reason:
        print(f"cannot run: {reason}", file=sys.stderr)
        return 2
    if args.server and not args.token:
        parser.error("--server needs --token")
    if args.staff_token and not (args.server and args.store and args.device):
        parser.error("--staff-token needs --server, --store and --device")

    with tempfile.TemporaryDirectory() as tmp, pcsc_stack(card=None) as stack:
        key_file = generate_key_file(Path(tmp) / "eid.key")
        tokeniser = EidTokeniser.from_key_file(key_file)
        fake = FakeDeviceServer().start()
        api = DeviceApi(args.server or fake.url, args.token or fake.token)
        transport = PyscardTransport(stack.reader)
        try:
            arrivals = time_card_arrival(stack, args.card, transport, args.arrival_rounds)
            stack.remove()
            stack.insert(args.card, *args.emulator_args.split())
            reads, answers, apdus = [], [], []
            for round_number in range(args.rounds):
                if args.server and args.staff_token:
                    arm_as_staff(args.server, args.staff_token, args.store, args.device)
                    scan = api.next_scan(wait=5)
                elif args.server:
                    print(f"round {round_number + 1}: arm a scan for this device now")
                    scan = None
                    while scan is None:
                        scan = api.next_scan(wait=20)
                else:
                    fake.arm_scan()
                    scan = api.next_scan(wait=1)
                stack.clear_apdu_log()
                # The card is already present: time from "present" to the minimised result.
                started = time.monotonic()
                assert transport.wait_for_card(5)
                transport.connect()
                result = read_scan_result(transport, tokeniser)
                transport.disconnect()
                parsed = time.monotonic()
                api.post_result(scan.scan_id, result)
                answered = time.monotonic()
                reads.append(parsed - started)
                answers.append(answered - started)
                apdus.append(len(stack.apdu_lines()))
            transport.close()  # release the context before measuring the agent alone
            fake.results = type(fake.results)()
            rss = agent_peak_rss_mb(stack, fake, key_file)
        finally:
            transport.close()
            api.close()
            fake.stop()

    print(f"card {args.card!r}, {args.rounds} rounds, emulator args {args.emulator_args!r}")
    summary("emulator started -> agent sees the card", arrivals)
    summary("card present -> parsed, minimised result", reads)
    server_label = "real server" if args.server else "local stand-in server"
    summary(f"card present -> {server_label} answered", answers)
    print(f"{'APDUs per scan':<46} {max(apdus)} (target <= {TARGET_APDUS})")
    print(f"{'agent process peak RSS':<46} {rss:.1f} MB (target {TARGET_RSS_MB} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
