"""Load test of the production stack with a chain-sized database, driven by wrk.

    .venv/bin/python bench/bench_load.py                 # database loyalty_load, seeded once

- Seeds `loyalty_load` (never `test` or another bench's database) once with
  `seed_demo --members 1000000 --entries-per-member 20`: a million members, about twenty
  million ledger entries (takes a while; later runs reuse it).
- Starts the production stack with deploy/prod.py (gunicorn with whitenoise, Celery worker and
  beat on Redis, production settings), registers readers for the eID flow and signs head office
  in for the dashboard.
- Members are reached as a till reaches them: the bench cashier looks sampled member numbers up
  (`--references` of them) and keeps the member references the server hands back (bound to
  that cashier and store, valid `MEMBER_REFERENCE_SECONDS`, 30 minutes: taken again before a
  step once 20 minutes old); earns, redemptions and member views use those, and the ones the
  mix's own lookups hand back. Sampled eID cards are given agent tokens whose keyed hash (under
  the stack's key) is stored, so most scans recognise a known card. The lookup and read
  throttles are off: one cashier account drives the whole mix.
- Drives it from a second process, wrk with bench/wrk/mix.lua, at rising concurrency (4, 8,
  16, ...) until p99 passes `--p99-limit-ms` (500): a counter's mix of lookups, earns,
  redemptions, eID scans (armed by the cashier, answered by the reader) and dashboard views.
  Prints, per step, throughput, p50/p99, non-2xx and 5xx answers, and the Celery worker's RSS;
  and p50/p99 per kind of request (lookup, earn, redeem, eID scan arm and reader answer,
  member view, dashboard), from gunicorn's access log (the time in the app server, `%(D)s`;
  wrk's figures include the wait for a free worker): the counter's calls are held to
  p99 <= 50 ms at 32 connections (reported, not enforced).
- Then a burst of 200 concurrent earn/redeem calls on one member, and checks that its balance
  equals the sum of its ledger entries and that no entry left it negative.

Exit status: 0 when the burst kept the books right and no step had a server error; 1 when one
of those failed; 2 when the setup failed.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import http.cookies
import json
import os
import random
import re
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import requests

ROOT = Path(__file__).resolve().parent.parent
LUA_DIR = Path(__file__).resolve().parent / "wrk"
RESULTS = Path(__file__).resolve().parent / "results" / "load"
PASSWORD = "demo-counter-2026"
STORE = "GNT01"
FORBIDDEN_DATABASES = {"test", "loyalty_bench", "loyalty_bench_dash", "loyalty_prod"}


def log(message: str) -> None:
    print(message, flush=True)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="loyalty_load")
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--entries-per-member", type=int, default=20)
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument(
        "--redis-url", default="redis://127.0.0.1:6379/2", help="broker and cache of the stack"
    )
    parser.add_argument("--web-workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker")
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--duration", type=int, default=20, help="seconds per step")
    parser.add_argument("--steps", default="4,8,16,32,64,128,256,512")
    parser.add_argument("--p99-limit-ms", type=float, default=500.0)
    parser.add_argument("--readers", type=int, default=300)
    parser.add_argument("--burst", type=int, default=200)
    parser.add_argument("--counter-p99-ms", type=float, default=50.0)
    parser.add_argument(
        "--references", type=int, default=5000, help="members looked up for earns and views"
    )
    parser.add_argument("--json", help="Also write the figures to this file.")
    return parser.parse_args()


# Database ----------------------------------------------------------------------------------


def database_url(name: str) -> str:
    return f"postgres://postgres@127.0.0.1:5432/{name}"


def counts(url: str) -> tuple[int, int]:
    with psycopg.connect(url) as conn:
        # Estimates are enough to decide whether to seed; exact counts take a minute at 20M.
        members = conn.execute("SELECT count(*) FROM loyalty_member").fetchone()[0]
        entries = conn.execute(
            "SELECT reltuples::bigint FROM pg_class WHERE relname = 'loyalty_ledgerentry'"
        ).fetchone()[0]
    return members, entries


def seed(args: argparse.Namespace, url: str) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DEBUG": "false",
    }
    env.pop("REDIS_URL", None)
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    members, _ = counts(url)
    missing = args.members - members
    if missing > 1000:
        log(f"seeding {missing} members with ~{args.entries_per_member} entries each ...")
        started = time.monotonic()
        subprocess.run(
            [
                *manage,
                "seed_demo",
                "--members",
                str(missing),
                "--entries-per-member",
                str(args.entries_per_member),
                "--quiet-logins",
                "--reader-token-file",
                str(RESULTS / "demo-reader.token"),
            ],
            cwd=ROOT,
            env=env,
            check=True,
        )
        log(f"seeded in {time.monotonic() - started:.0f} s")
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")


def samples(url: str, references: int) -> dict[str, Path]:
    """Write the member numbers and eID cards the mix picks from (numbers, not ids: a till
    only has what the customer presents, and the lookup turns it into a reference)."""
    files = {}
    with psycopg.connect(url) as conn:
        queries = {
            "numbers": (
                "SELECT number FROM loyalty_member TABLESAMPLE SYSTEM (2) "
                "WHERE status = 'active' LIMIT 20000",
                [],
            ),
            "earn_numbers": (
                "SELECT number FROM loyalty_member TABLESAMPLE SYSTEM (2) "
                "WHERE status = 'active' LIMIT %s",
                [references],
            ),
            "redeem_numbers": (
                "SELECT number FROM loyalty_member TABLESAMPLE SYSTEM (5) "
                "WHERE status = 'active' AND points_balance >= 400 LIMIT %s",
                [max(1, references // 3)],
            ),
            "card_ids": ("SELECT id FROM loyalty_eidcard TABLESAMPLE SYSTEM (5) LIMIT 2000", []),
        }
        for name, (query, params) in queries.items():
            rows = [str(row[0]) for row in conn.execute(query, params)]
            if not rows:  # a small table: the sample may hold no page at all
                whole = re.sub(r"TABLESAMPLE \S+ \(\d+\) ", "", query)
                rows = [str(r[0]) for r in conn.execute(whole, params)]
            if not rows:
                raise SystemExit(f"no sample rows for {name}: is the database seeded?")
            path = RESULTS / f"{name}.txt"
            path.write_text("\n".join(rows) + "\n")
            files[name] = path
    return files


def card_tokens(url: str, card_ids: Path, env_file: Path) -> Path:
    """Give the sampled eID cards agent tokens the stack will recognise; write the tokens.

    The database holds only the keyed hash of a card's token (HMAC under EID_TOKEN_HASH_KEY,
    derived from the stack's PRIVACY_HASH_KEY), so seeded cards cannot be presented as they
    are: store, for each sampled card, the hash of a fresh token under the stack's key.
    """
    stored = {}
    for line in env_file.read_text().splitlines():
        key, _, value = line.partition("=")
        stored[key.strip()] = value.strip()
    hash_key = (
        os.environ.get("EID_TOKEN_HASH_KEY")
        or hashlib.sha256(("eid-token-hash-key:" + stored["PRIVACY_HASH_KEY"]).encode()).hexdigest()
    )
    tokens, rows = [], []
    for card_id in card_ids.read_text().split():
        token = secrets.token_hex(32)
        digest = hmac.new(hash_key.encode(), b"eid-token\x00" + token.encode(), hashlib.sha256)
        tokens.append(token)
        rows.append((digest.hexdigest(), int(card_id)))
    with psycopg.connect(url) as conn, conn.cursor() as cursor:
        cursor.executemany("UPDATE loyalty_eidcard SET token = %s WHERE id = %s", rows)
    path = RESULTS / "card_tokens.txt"
    path.write_text("\n".join(tokens) + "\n")
    return path


def references(base: str, staff_token: str, numbers: Path, name: str) -> Path:
    """Look these member numbers up as the bench cashier; write the references handed back."""
    headers = {"Authorization": "Token " + staff_token}

    def lookup(number: str) -> str | None:
        response = requests.post(
            base + "/api/v1/members/lookup/",
            json={"store": STORE, "query": number},
            headers=headers,
            timeout=30,
        )
        response.raise_for_status()
        results = response.json()["results"]
        return results[0]["reference"] if results else None

    with ThreadPoolExecutor(max_workers=8) as pool:
        refs = [r for r in pool.map(lookup, numbers.read_text().split()) if r]
    if not refs:
        raise SystemExit(f"no member reference came back for {name}")
    path = RESULTS / f"{name}.txt"
    path.write_text("\n".join(refs) + "\n")
    return path


# The stack ---------------------------------------------------------------------------------


class Stack:
    def __init__(self, args: argparse.Namespace, url: str):
        self.base = f"http://127.0.0.1:{args.port}"
        self.log_path = RESULTS / "stack.log"
        env = {**os.environ, "DATABASE_URL": url, "REDIS_URL": args.redis_url}
        # One cashier account drives the whole mix: its per-account lookup and read limits
        # would turn most of it into 429s.
        env["THROTTLE_MEMBER_FIND"] = "off"
        env["THROTTLE_MEMBER_READ"] = "off"
        self.env_file = RESULTS / "prod.env"
        # Per kind of request: method, path, status, microseconds in the app (no query strings,
        # and the mix never calls a confirmation link).
        self.access_log = RESULTS / "access.log"
        self.access_log.unlink(missing_ok=True)
        env["GUNICORN_ACCESS_LOG"] = str(self.access_log)
        env["GUNICORN_ACCESS_LOG_FORMAT"] = "%(m)s %(U)s %(s)s %(D)s"
        for key in ("SECRET_KEY", "PRIVACY_HASH_KEY", "DJANGO_SETTINGS_MODULE"):
            env.pop(key, None)
        self.queue = "load-bench"  # its own queue: no other worker on this Redis takes its tasks
        with open(self.log_path, "wb") as out:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    str(ROOT / "deploy" / "prod.py"),
                    "--port",
                    str(args.port),
                    "--env-file",
                    str(self.env_file),
                    "--queue",
                    self.queue,
                    "--workers",
                    str(args.web_workers),
                    "--threads",
                    str(args.threads),
                    "--worker-concurrency",
                    "2",
                    # One worker for every queue: the bench measures the web nodes, and the
                    # machine's two cores are not shared with four idle workers.
                    "--one-worker",
                ],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 300
        while True:
            if self.proc.poll() is not None:
                raise SystemExit("the stack exited:\n" + self.log_path.read_text()[-3000:])
            try:
                if requests.get(self.base + "/healthz", timeout=5).status_code == 200:
                    return
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("the stack did not become healthy")
            time.sleep(1)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    def worker_rss_mb(self) -> float:
        """Return the resident memory of the Celery worker: its main process and children."""
        total = 0
        for pid in _descendants(self.proc.pid):
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
                if b"celery" not in cmdline or b" worker" not in cmdline:
                    continue
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            except OSError:
                continue
        return total / 1024


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int(Path(entry, "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def token(base: str, username: str) -> str:
    response = requests.post(
        base + "/api/v1/auth/token/", json={"username": username, "password": PASSWORD}, timeout=30
    )
    response.raise_for_status()
    return response.json()["token"]


def readers(base: str, count: int) -> Path:
    """Register `count` readers for the store (as its manager); write "id token" lines."""
    headers = {"Authorization": "Token " + token(base, "manager.gent")}
    lines = []
    for i in range(count):
        response = requests.post(
            f"{base}/api/v1/stores/{STORE}/devices/",
            json={"name": f"Load reader {uuid.uuid4().hex[:6]}-{i}"},
            headers=headers,
            timeout=30,
        )
        response.raise_for_status()
        lines.append(f"{response.json()['id']} {response.json()['token']}")
    path = RESULTS / "devices.txt"
    path.write_text("\n".join(lines) + "\n")
    return path


def office_cookie(base: str) -> str:
    """Sign head office in through the login form; return the Cookie header for its session.

    The cookies are Secure (production settings), so an HTTP client would not send them back
    over plain HTTP on its own: read them from Set-Cookie and send them by hand.
    """
    jar: dict[str, str] = {}

    def keep(response):
        for header in response.raw.headers.getlist("Set-Cookie"):
            cookie = http.cookies.SimpleCookie(header)
            for key, morsel in cookie.items():
                jar[key] = morsel.value

    def cookie_header() -> str:
        return "; ".join(f"{k}={v}" for k, v in jar.items())

    login = base + "/counter/login/"
    page = requests.get(login, timeout=30)
    keep(page)
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    answer = requests.post(
        login,
        data={"username": "headoffice", "password": PASSWORD, "csrfmiddlewaretoken": csrf},
        headers={"Cookie": cookie_header()},
        allow_redirects=False,
        timeout=30,
    )
    keep(answer)
    if "sessionid" not in jar:
        raise SystemExit(f"head office could not sign in ({answer.status_code})")
    return f"sessionid={jar['sessionid']}"


# Load steps --------------------------------------------------------------------------------

_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(number) * _UNITS[unit]


KINDS = [
    ("lookup", re.compile(r"POST /api/v1/members/lookup/$")),
    ("earn", re.compile(r"POST /api/v1/members/mr_[^/]+/earn/$")),
    ("redeem", re.compile(r"POST /api/v1/members/mr_[^/]+/redeem/$")),
    ("eid_arm", re.compile(r"POST /api/v1/eid/scans/$")),
    ("eid_answer", re.compile(r"POST /api/v1/device/scans/[^/]+/result/$")),
    ("member", re.compile(r"GET /api/v1/members/mr_[^/]+/$")),
    ("dashboard", re.compile(r"GET /office/$")),
]
COUNTER_KINDS = ("lookup", "earn", "redeem", "eid_arm", "eid_answer")


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else 0.0


def per_kind(lines: list[str]) -> dict[str, dict[str, float]]:
    """p50/p99 (ms) and count per kind of request, from access-log lines of one step."""
    times: dict[str, list[float]] = {name: [] for name, _ in KINDS}
    times["counter"] = []
    for line in lines:
        parts = line.split()
        if len(parts) != 4:
            continue
        method, path, _, micros = parts
        for name, pattern in KINDS:
            if pattern.match(f"{method} {path}"):
                ms = int(micros) / 1000
                times[name].append(ms)
                if name in COUNTER_KINDS:
                    times["counter"].append(ms)
                break
    return {
        name: {"n": len(v), "p50_ms": _pct(v, 0.50), "p99_ms": _pct(v, 0.99)}
        for name, v in times.items()
        if v
    }


def wrk_step(args, stack: Stack, env: dict, connections: int) -> dict:
    threads = min(args.wrk_threads, connections)
    step_env = {**env, "BENCH_THREADS": str(threads), "BENCH_RUN": uuid.uuid4().hex[:8]}
    peak_rss = [stack.worker_rss_mb()]
    stop = threading.Event()

    def sample_rss():
        while not stop.wait(1.0):
            peak_rss.append(stack.worker_rss_mb())

    sampler = threading.Thread(target=sample_rss, daemon=True)
    sampler.start()
    logged = stack.access_log.stat().st_size if stack.access_log.exists() else 0
    result = subprocess.run(
        [
            "wrk",
            "-t",
            str(threads),
            "-c",
            str(connections),
            "-d",
            f"{args.duration}s",
            "--timeout",
            "10s",
            "--latency",
            "-s",
            str(LUA_DIR / "mix.lua"),
            stack.base,
        ],
        env=step_env,
        capture_output=True,
        text=True,
        check=False,
    )
    stop.set()
    sampler.join()
    out = result.stdout
    (RESULTS / f"wrk-c{connections}.txt").write_text(out + result.stderr)
    if result.returncode != 0 or "Requests/sec" not in out:
        raise SystemExit(f"wrk failed at -c {connections}:\n{out}\n{result.stderr}")
    summary = dict(re.findall(r"BENCH (\w+)=(\S+)", out))
    time.sleep(1)  # the access log is written as requests finish
    with open(stack.access_log, encoding="utf-8", errors="replace") as log_file:
        log_file.seek(logged)
        kinds = per_kind(log_file.read().splitlines())
    return {
        "connections": connections,
        "requests_per_s": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50_ms": _ms(re.search(r"\s50%\s+(\S+)", out).group(1)),
        "p99_ms": _ms(re.search(r"\s99%\s+(\S+)", out).group(1)),
        "responses": int(summary.get("responses", 0)),
        "non2xx": int(summary.get("non2xx", 0)),
        "server_errors": int(summary.get("server_errors", 0)),
        "socket_errors": (re.search(r"Socket errors: (.*)", out) or [None, ""])[1],
        "worker_rss_mb": round(max(peak_rss), 1),
        "kinds": kinds,
    }


# The burst ---------------------------------------------------------------------------------


def burst(base: str, url: str, calls: int) -> dict:
    """Send `calls` concurrent earn/redeem calls on one fresh member; check the books."""
    headers = {"Authorization": "Token " + token(base, "kassa.gent")}
    suffix = uuid.uuid4().hex[:8]
    member = requests.post(
        base + "/api/v1/members/",
        json={
            "store": STORE,
            "given_name": "Burst",
            "surname": "Member",
            "email": f"burst.{suffix}@example.invalid",
            "phone": f"+32479{random.randint(0, 999999):06d}",
        },
        headers=headers,
        timeout=30,
    )
    member.raise_for_status()
    reference = member.json()["reference"]
    start = threading.Barrier(calls)

    def call(i: int) -> int:
        kind = "earn" if i % 2 == 0 else "redeem"
        body = (
            {"store": STORE, "amount": "10.00"}
            if kind == "earn"
            else {"store": STORE, "points": 15}
        )
        start.wait()
        response = requests.post(
            f"{base}/api/v1/members/{reference}/{kind}/",
            json=body,
            headers={**headers, "Idempotency-Key": f"burst-{suffix}-{i}"},
            timeout=120,
        )
        return response.status_code

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=calls) as pool:
        statuses = list(pool.map(call, range(calls)))
    elapsed = time.monotonic() - started
    with psycopg.connect(url) as conn:
        member_id, balance = conn.execute(
            "SELECT id, points_balance FROM loyalty_member WHERE number = %s",
            [member.json()["number"]],
        ).fetchone()
        total, lowest, entries = conn.execute(
            "SELECT coalesce(sum(points), 0), min(balance_after), count(*) "
            "FROM loyalty_ledgerentry WHERE member_id = %s",
            [member_id],
        ).fetchone()
    by_status: dict[int, int] = {}
    for status in statuses:
        by_status[status] = by_status.get(status, 0) + 1
    return {
        "calls": calls,
        "seconds": round(elapsed, 2),
        "statuses": by_status,
        "balance": balance,
        "ledger_sum": total,
        "lowest_balance_after": lowest,
        "entries": entries,
        "ok": balance == total
        and (lowest is None or lowest >= 0)
        and balance >= 0
        and not any(s >= 500 for s in statuses),
    }


def main() -> int:
    args = parse_args()
    if args.database in FORBIDDEN_DATABASES:
        log(f"refusing to load-test database {args.database!r}: others use it")
        return 2
    if not shutil.which("wrk"):
        log("wrk is not installed (apt-get install wrk)")
        return 2
    RESULTS.mkdir(parents=True, exist_ok=True)
    url = database_url(args.database)
    with psycopg.connect(database_url("postgres"), autocommit=True) as conn:
        if not conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [args.database]
        ).fetchone():
            conn.execute(f'CREATE DATABASE "{args.database}"')
    seed(args, url)
    members, entries = counts(url)
    log(f"database {args.database}: {members} members, ~{entries} ledger entries")
    files = samples(url, args.references)
    stack = Stack(args, url)
    figures: dict = {"members": members, "ledger_entries_estimate": entries, "steps": []}
    try:
        log(f"stack up on {stack.base} (gunicorn {args.web_workers}x{args.threads} threads)")
        cashier = token(stack.base, "kassa.gent")

        def take_references() -> None:
            began = time.monotonic()
            env["BENCH_MEMBER_REFS"] = str(
                references(stack.base, cashier, files["earn_numbers"], "member_refs")
            )
            env["BENCH_REDEEM_REFS"] = str(
                references(stack.base, cashier, files["redeem_numbers"], "redeem_refs")
            )
            taken_at[0] = time.monotonic()
            log(f"member references taken by lookup in {taken_at[0] - began:.1f} s")

        taken_at = [0.0]
        env = {
            **os.environ,
            "BENCH_LUA_DIR": str(LUA_DIR),
            "BENCH_TOKEN": cashier,
            "BENCH_NUMBERS": str(files["numbers"]),
            "BENCH_CARD_TOKENS": str(card_tokens(url, files["card_ids"], stack.env_file)),
            "BENCH_DEVICES": str(readers(stack.base, args.readers)),
            "BENCH_OFFICE_COOKIE": office_cookie(stack.base),
            "BENCH_STORE": STORE,
        }
        take_references()
        log(f"worker RSS at rest: {stack.worker_rss_mb():.0f} MB")
        log(
            f"{'conns':>6} {'req/s':>9} {'p50 ms':>9} {'p99 ms':>9} {'non-2xx':>8} "
            f"{'5xx':>5} {'worker MB':>10}"
        )
        for connections in (int(c) for c in args.steps.split(",")):
            if time.monotonic() - taken_at[0] > 20 * 60:  # references live 30 minutes
                take_references()
            step = wrk_step(args, stack, env, connections)
            figures["steps"].append(step)
            log(
                f"{step['connections']:>6} {step['requests_per_s']:>9.1f} {step['p50_ms']:>9.1f} "
                f"{step['p99_ms']:>9.1f} {step['non2xx']:>8} {step['server_errors']:>5} "
                f"{step['worker_rss_mb']:>10.1f}"
                + (f"  socket errors: {step['socket_errors']}" if step["socket_errors"] else "")
            )
            log(
                "       "
                + "  ".join(
                    f"{name} {k['p50_ms']:.0f}/{k['p99_ms']:.0f}"
                    for name, k in step["kinds"].items()
                )
                + "  (p50/p99 ms in the app)"
            )
            counter = step["kinds"].get("counter")
            if connections == 32 and counter:
                met = counter["p99_ms"] <= args.counter_p99_ms
                log(
                    f"       counter calls at 32 connections: p99 {counter['p99_ms']:.1f} ms "
                    f"(target <= {args.counter_p99_ms:.0f} ms: {'met' if met else 'NOT met'})"
                )
            if step["p99_ms"] > args.p99_limit_ms:
                log(f"p99 passed {args.p99_limit_ms:.0f} ms at {connections} connections: stop")
                break
        result = burst(stack.base, url, args.burst)
        figures["burst"] = result
        log(
            f"burst: {result['calls']} concurrent earn/redeem on one member in "
            f"{result['seconds']} s, statuses {result['statuses']}; balance {result['balance']} "
            f"== ledger sum {result['ledger_sum']} over {result['entries']} entries, lowest "
            f"balance_after {result['lowest_balance_after']}: {'OK' if result['ok'] else 'FAIL'}"
        )
        figures["worker_rss_mb_end"] = round(stack.worker_rss_mb(), 1)
        log(f"worker RSS at the end: {figures['worker_rss_mb_end']} MB")
    finally:
        stack.stop()
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))
    errors = sum(step["server_errors"] for step in figures["steps"])
    return 0 if figures["burst"]["ok"] and errors == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
