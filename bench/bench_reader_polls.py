"""Counter lookups while reader devices long-poll: does a waiting reader starve the cashiers?

Serves the app with gunicorn as deployed (deploy/gunicorn.conf.py, gthread) and measures the
member lookup's p50/p99 with wrk while N readers each hold a long-poll
(`GET /api/v1/device/scans/next/?wait=20`, asking again at once, or after Retry-After):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/loyalty_polls REDIS_URL=redis://.../3 \\
        .venv/bin/python bench/bench_reader_polls.py --readers 50 --members 20000

Scenarios (--scenarios, comma-separated):
  baseline   no reader waiting
  uncapped   the readers on the counter's pool, waits not capped (EID_DEVICE_POLL_SLOTS high:
             the server before issue 17's cap)
  capped     the readers on the counter's pool, EID_DEVICE_POLL_SLOTS as shipped (half the
             threads): the readers beyond it are told to come back after Retry-After
  own_pool   the readers on a pool of their own (docs/deploy.md: /api/v1/device/ routed to it)

A scenario may be named twice (baseline,capped,baseline): the busy machine's noise shows.
Exits non-zero only when the setup fails; a missed p99 is reported, not fatal.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_api import (
    LUA_DIR,
    PYTHON,
    RESULTS_DIR,
    ROOT,
    STORE,
    SetupError,
    database_prepare,
    database_url,
    django_env,
    http,
    samples_write,
    staff_token,
    wrk_parse,
)

GUNICORN = str(Path(PYTHON).with_name("gunicorn"))
# The counter's lookup p99 may grow this much over the baseline's and still "keep its p99".
KEEP_P99_FACTOR = 1.5


@dataclass
class Pool:
    """One gunicorn pool serving config.wsgi with deploy/gunicorn.conf.py."""

    name: str
    port: int
    workers: int
    threads: int
    env: dict[str, str]
    log: Path = field(init=False)
    process: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Pool:
        self.log = RESULTS_DIR / f"polls-{self.name}.log"
        env = dict(self.env, WEB_CONCURRENCY=str(self.workers), GUNICORN_THREADS=str(self.threads))
        cmd = [GUNICORN, "-c", "deploy/gunicorn.conf.py", "config.wsgi:application"]
        cmd += ["--bind", f"127.0.0.1:{self.port}", "--log-level", "warning"]
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SetupError(f"gunicorn {self.name} exited; see {self.log}")
            try:
                if http("GET", self.base + "/api/v1/ping/", timeout=1).get("status") == "ok":
                    return self
            except (OSError, ValueError):
                time.sleep(0.2)
        raise SetupError(f"gunicorn {self.name} did not answer /api/v1/ping/ in time.")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def devices_register(url: str, count: int) -> list[str]:
    """Register `count` bench readers for the store (once per run); return their tokens."""
    code = (
        "import json\n"
        "from stores.models import ReaderDevice, Store\n"
        "from stores.services import reader_device_register\n"
        f"store = Store.objects.get(code={STORE!r})\n"
        "ReaderDevice.objects.filter(store=store, name__startswith='bench-poll-').delete()\n"
        f"print(json.dumps([reader_device_register(store=store, name=f'bench-poll-{{i}}')[1]"
        f" for i in range({count})]))\n"
    )
    run = subprocess.run(
        [PYTHON, str(ROOT / "manage.py"), "shell", "-c", code],
        cwd=ROOT,
        env=django_env(url),
        capture_output=True,
        text=True,
        check=False,
    )
    if run.returncode != 0:
        raise SetupError(f"could not register the readers: {run.stderr[-500:]}")
    return json.loads(run.stdout.strip().splitlines()[-1])


@dataclass
class Readers:
    """Threads that each long-poll as the agent does, until stopped; counts what they got."""

    base: str
    tokens: list[str]
    wait: int = 20
    stop: threading.Event = field(default_factory=threading.Event)
    polls: int = 0
    busy: int = 0
    errors: int = 0
    holding: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> Readers:
        self.threads = [
            threading.Thread(target=self._poll, args=(t,), daemon=True) for t in self.tokens
        ]
        for thread in self.threads:
            thread.start()
        return self

    def _count(self, name: str, delta: int = 1) -> None:
        with self._lock:
            setattr(self, name, getattr(self, name) + delta)

    def _poll(self, token: str) -> None:
        url = f"{self.base}/api/v1/device/scans/next/?wait={self.wait}"
        while not self.stop.is_set():
            request = urllib.request.Request(  # noqa: S310 - built here, http only
                url, headers={"Authorization": f"Device {token}"}
            )
            self._count("holding")
            try:
                with urllib.request.urlopen(request, timeout=self.wait + 30) as response:  # noqa: S310
                    retry_after = response.headers.get("Retry-After")
                    response.read()
            except (urllib.error.URLError, OSError):
                self._count("errors")
                self.stop.wait(1)
                continue
            finally:
                self._count("holding", -1)
            self._count("polls")
            if retry_after and retry_after.isdigit():
                self._count("busy")
                self.stop.wait(int(retry_after))

    def finish(self) -> None:
        self.stop.set()


def lookups(base: str, env: dict[str, str], args: argparse.Namespace) -> dict:
    command = ["wrk", "-t", "1", "-c", str(args.connections), "--latency", "--timeout", "30s"]
    command += ["-s", str(LUA_DIR / "lookup.lua"), "-d", f"{args.duration}s", base]
    run = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if run.returncode != 0 or "Requests/sec" not in run.stdout:
        raise SetupError(f"wrk failed: {run.stderr.strip() or run.stdout[-500:]}")
    result = wrk_parse("lookup", run.stdout)
    return {
        "req_s": round(result.requests_per_s, 1),
        "p50_ms": result.p50_ms,
        "p99_ms": result.p99_ms,
        "non2xx": result.non2xx,
        "socket_errors": result.socket_errors,
    }


def scenario(name: str, url: str, tokens: list[str], args: argparse.Namespace) -> dict:
    env = django_env(url)
    slots = {"uncapped": str(args.readers + 100)}.get(name)
    counter_env = dict(env, **({"EID_DEVICE_POLL_SLOTS": slots} if slots else {}))
    pools = [Pool("counter", args.port, args.workers, args.threads, counter_env).start()]
    reader_base = pools[0].base
    if name == "own_pool":
        threads = args.readers + 10
        device_env = dict(env, EID_DEVICE_POLL_SLOTS=str(threads))
        pools.append(Pool("devices", args.port + 1, 1, threads, device_env).start())
        reader_base = pools[1].base
    readers = None
    try:
        token = staff_token(pools[0].base)
        wrk_env = dict(
            os.environ,
            BENCH_LUA_DIR=str(LUA_DIR),
            BENCH_TOKEN=token,
            BENCH_NUMBERS=str(RESULTS_DIR / "numbers.txt"),
            BENCH_STORE=STORE,
        )
        lookups(pools[0].base, wrk_env, argparse.Namespace(connections=2, duration=3))  # warm
        if name != "baseline":
            readers = Readers(reader_base, tokens[: args.readers]).start()
            time.sleep(args.settle)
        measured = lookups(pools[0].base, wrk_env, args)
        if readers is not None:
            measured.update(
                readers=args.readers,
                reader_polls=readers.polls,
                reader_busy_answers=readers.busy,
                reader_errors=readers.errors,
                readers_holding_at_end=readers.holding,
            )
        return measured
    finally:
        if readers is not None:
            readers.finish()
        for pool in pools:
            pool.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--readers", type=int, default=50)
    parser.add_argument("--members", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=2, help="counter pool's gunicorn workers")
    parser.add_argument("--threads", type=int, default=4, help="threads per counter worker")
    parser.add_argument("--connections", type=int, default=4, help="tills looking up at once")
    parser.add_argument("--duration", type=int, default=15, help="seconds of lookups")
    parser.add_argument("--settle", type=float, default=3.0, help="readers' head start (s)")
    parser.add_argument("--port", type=int, default=8771)
    parser.add_argument("--scenarios", default="baseline,uncapped,capped,own_pool")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    names = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    unknown = set(names) - {"baseline", "uncapped", "capped", "own_pool"}  # may repeat
    if unknown:
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    results = {}
    try:
        url = database_url()
        database_prepare(url, args.members)
        RESULTS_DIR.mkdir(exist_ok=True)
        samples_write(url, RESULTS_DIR)
        tokens = devices_register(url, args.readers)
        for number, name in enumerate(names):
            label = name if name not in results else f"{name}#{number + 1}"
            results[label] = scenario(name, url, tokens, args)
            print(f"{label:<10} {json.dumps(results[label])}", flush=True)
    except SetupError as exc:
        print(f"bench setup failed: {exc}", file=sys.stderr)
        return 2
    print(
        f"\ncounter pool: {args.workers} gthread workers x {args.threads} threads; "
        f"{args.connections} tills looking up for {args.duration} s; {args.readers} readers "
        f"waiting (wait=20); {os.cpu_count()} CPUs"
    )
    print(f"{'scenario':<10} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>9} {'non-2xx':>8}  readers")
    baselines = [r["p99_ms"] for n, r in results.items() if n.startswith("baseline")]
    base_p99 = max(baselines) if baselines else None
    for name, r in results.items():
        kept = ""
        if base_p99 and not name.startswith("baseline"):
            ok = (
                r["req_s"] > 0
                and r["p99_ms"] <= base_p99 * KEEP_P99_FACTOR
                and not r["socket_errors"]
            )
            kept = f"  p99 {'kept' if ok else 'NOT kept'} (<= {KEEP_P99_FACTOR} x baseline)"
        who = (
            f"{r['reader_polls']} polls, {r['reader_busy_answers']} told to come back"
            if "readers" in r
            else "-"
        )
        print(
            f"{name:<10} {r['req_s']:8.0f} {r['p50_ms']:8.2f} {r['p99_ms']:9.2f} "
            f"{r['non2xx']:>8}  {who}{kept}"
        )
        if not r["req_s"]:
            print(f"{'':<10} ! no lookup answered in {args.duration} s")
        if r["socket_errors"]:
            print(f"{'':<10} ! socket errors: {r['socket_errors']}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
