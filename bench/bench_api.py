"""Benchmark the counter API on PostgreSQL: earn and lookup against a bare endpoint.

Serves the API with gunicorn (sync workers, DEBUG off) and drives it with wrk from a second
process, scenario after scenario in one run: the bare ping (no auth, no database), member lookup
by number, earn on random members, and earn on a single member (row-lock contention).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/loyalty_bench \\
        .venv/bin/python bench/bench_api.py --members 1000000

The database is created, migrated and seeded on the first run (seed_demo --members) and reused
afterwards. Exits non-zero only when the setup fails; a missed target is reported, not fatal.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
LUA_DIR = Path(__file__).resolve().parent / "wrk"
RESULTS_DIR = Path(__file__).resolve().parent / "results"
PYTHON = sys.executable
CASHIER = ("kassa.gent", "demo-counter-2026")
STORE = "GNT01"
AMOUNT = "12.34"
SAMPLE_SIZE = 50_000
# Members the earn scenario spreads over, each looked up once first (as a till does).
REFERENCES = 2_000

# Throughput as a share of the bare endpoint's, and the earn's p99, measured in the same run.
TARGETS = {
    "lookup": {"ratio": 0.38},
    "earn": {"ratio": 0.22, "p99_ms": 20.0},
    # With --campaigns 5 (issue 14): earn and quote >= 0.20 x bare.
    "quote": {"ratio": 0.20},
}
# What --campaigns N puts in force (the first N), with three tiers: a realistic mix of what
# the earn evaluates, each a kind of condition or effect. The basket sent has a K1 line.
BENCH_CAMPAIGNS = [
    ("bench: double weekend", {"store": True, "multiplier": "2"}),
    ("bench: from EUR 10, +5", {"minimum_amount": "10", "bonus_points": 5, "combination": "add"}),
    (
        "bench: coffee, +3 a cup",
        {"product_codes": ["K1"], "points_per_product": 3, "combination": "add"},
    ),
    ("bench: gold x1.5", {"tiers": ["bench-gold"], "multiplier": "1.5"}),
    ("bench: 3 per member, +2", {"max_per_member": 3, "bonus_points": 2, "combination": "add"}),
]
BENCH_TIERS = [("bench-silver", "Silver", 100, "1.10"), ("bench-gold", "Gold", 500, "1.25")]
BENCH_LINES = '[{"product": "K1", "category": "drinks", "quantity": 1, "amount": "2.50"}]'


class SetupError(Exception):
    """The bench could not be set up (database, seed, server, wrk); nothing was measured."""


@dataclass
class Result:
    name: str
    requests_per_s: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    responses: int = 0
    non2xx: int = 0
    socket_errors: str = ""
    first_bad: str = ""
    extra: dict = field(default_factory=dict)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--duration", type=int, default=15, help="Seconds per scenario.")
    parser.add_argument("--warmup", type=int, default=3, help="Seconds of warm-up per scenario.")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers.")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections.")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads.")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--scenarios",
        default="bare,lookup,earn,earn_one_member",
        help="Comma-separated subset of bare,lookup,earn,earn_one_member,quote.",
    )
    parser.add_argument(
        "--campaigns",
        type=int,
        default=0,
        choices=range(len(BENCH_CAMPAIGNS) + 1),
        help="Campaigns in force (with tiers when > 0); 0 removes the bench's campaigns.",
    )
    parser.add_argument("--json", type=Path, help="Also write the results here.")
    return parser.parse_args()


def database_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql", "pgsql"):
        raise SetupError("Set DATABASE_URL to a PostgreSQL database, e.g. .../loyalty_bench.")
    name = parts.path.lstrip("/")
    if not name or name in ("test", "postgres") or name.startswith("test_"):
        raise SetupError(f"Use a dedicated database for the bench, not {name!r}.")
    return url


def conninfo(url: str, dbname: str | None = None) -> str:
    parts = urlsplit(url)
    info = {
        "host": parts.hostname or "127.0.0.1",
        "port": str(parts.port or 5432),
        "user": parts.username or "postgres",
        "dbname": dbname or parts.path.lstrip("/"),
    }
    if parts.password:
        info["password"] = parts.password
    return " ".join(f"{k}={v}" for k, v in info.items())


def django_env(url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=url,
        DJANGO_SETTINGS_MODULE="config.settings.local",
        DEBUG="False",
        LOG_LEVEL="WARNING",
        # One bench account makes thousands of calls a second: lift its per-account limits
        # (tests/api holds the throttles to their job).
        THROTTLE_MEMBER_FIND="off",
        THROTTLE_MEMBER_READ="off",
        PYTHONUNBUFFERED="1",
    )
    return env


def manage(url: str, *args: str) -> None:
    cmd = [PYTHON, str(ROOT / "manage.py"), *args]
    if subprocess.run(cmd, cwd=ROOT, env=django_env(url), check=False).returncode != 0:
        raise SetupError(f"manage.py {' '.join(args)} failed.")


def database_prepare(url: str, members: int) -> None:
    """Create, migrate and seed the bench database (once: later runs reuse the members)."""
    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(conninfo(url, "postgres"), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            print(f"Creating database {name}")
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    manage(url, "migrate", "--noinput", "-v0")
    with psycopg.connect(conninfo(url)) as conn:
        have = conn.execute("SELECT count(*) FROM loyalty_member").fetchone()[0]
    if have < members:
        print(f"Seeding {members - have} members ({have} present); done once, reused later")
        started = time.monotonic()
        manage(url, "seed_demo", "--members", str(members - have), "--quiet-logins")
        with psycopg.connect(conninfo(url), autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
        print(f"Seeded in {time.monotonic() - started:.0f} s")
    else:
        # Seed the chain and logins if the database predates them (no-op otherwise).
        manage(url, "seed_demo", "--members", "0", "--quiet-logins")
        print(f"Reusing {have} members")


def campaigns_prepare(url: str, count: int) -> None:
    """Put the first `count` bench campaigns in force at the bench store, and the tiers (none
    for 0); campaigns and tiers not the bench's are left alone."""
    now = time.time()
    with psycopg.connect(conninfo(url)) as conn:
        # Their uses and coupons first: the ORM's CASCADE and SET NULL are not in the schema.
        conn.execute(
            "DELETE FROM loyalty_campaignapplication WHERE campaign_id IN"
            " (SELECT id FROM stores_campaign WHERE name LIKE 'bench: %')"
        )
        conn.execute(
            "UPDATE loyalty_coupon SET campaign_id = NULL WHERE campaign_id IN"
            " (SELECT id FROM stores_campaign WHERE name LIKE 'bench: %')"
        )
        conn.execute("DELETE FROM stores_campaign WHERE name LIKE 'bench: %'")
        conn.execute("UPDATE loyalty_member SET tier = '' WHERE tier LIKE 'bench-%'")
        conn.execute("DELETE FROM stores_tier WHERE code LIKE 'bench-%'")
        if not count:
            return
        store_id = conn.execute("SELECT id FROM stores_store WHERE code = %s", [STORE]).fetchone()
        for code, name, threshold, multiplier in BENCH_TIERS:
            conn.execute(
                "INSERT INTO stores_tier (code, name, threshold, multiplier)"
                " VALUES (%s, %s, %s, %s)",
                [code, name, threshold, multiplier],
            )
        # Members as tiers left them: a share of them gold, so the tier campaign applies.
        conn.execute(
            "UPDATE loyalty_member SET tier = 'bench-gold', tier_points = 600 WHERE mod(id, 4) = 0"
        )
        for name, fields in BENCH_CAMPAIGNS[:count]:
            conn.execute(
                "INSERT INTO stores_campaign (store_id, name, trigger, combination, starts_at,"
                " ends_at, store_codes, days_of_week, minimum_amount, product_codes, categories,"
                " tiers, max_per_member, max_total, multiplier, bonus_points, points_per_product,"
                " coupon_value, coupon_product, coupon_valid_days)"
                " VALUES (%s, %s, 'purchase', %s, to_timestamp(%s), to_timestamp(%s), '[]', '',"
                " %s, %s, '[]', %s, %s, NULL, %s, %s, %s, NULL, '', 30)",
                [
                    store_id[0] if fields.get("store") else None,
                    name,
                    fields.get("combination", "best"),
                    now - 86400,
                    now + 86400,
                    fields.get("minimum_amount"),
                    json.dumps(fields.get("product_codes", [])),
                    json.dumps(fields.get("tiers", [])),
                    fields.get("max_per_member"),
                    fields.get("multiplier", "1"),
                    fields.get("bonus_points", 0),
                    fields.get("points_per_product", 0),
                ],
            )
    print(f"{count} campaigns in force at {STORE}" + (", with tiers" if count else ""))


def samples_write(url: str, workdir: Path) -> tuple[Path, Path, Path, int]:
    """Write random active member numbers and ids for the wrk scripts to pick from."""
    with psycopg.connect(conninfo(url)) as conn:
        rows = conn.execute(
            "SELECT id, number FROM loyalty_member WHERE status = 'active'"
            " ORDER BY random() LIMIT %s",
            [SAMPLE_SIZE],
        ).fetchall()
        count = conn.execute("SELECT count(*) FROM loyalty_member").fetchone()[0]
    if not rows:
        raise SetupError("The bench database has no active members.")
    numbers, ids, one = workdir / "numbers.txt", workdir / "member_ids.txt", workdir / "one.txt"
    numbers.write_text("\n".join(r[1] for r in rows) + "\n")
    ids.write_text("\n".join(str(r[0]) for r in rows) + "\n")
    one.write_text(f"{rows[0][0]}\n")
    return numbers, ids, one, count


def http(method: str, url: str, body: dict | None = None, timeout: float = 5.0) -> dict:
    """Call the local server (always http://127.0.0.1)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(  # noqa: S310 - the URL is built here, http only
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
        return json.loads(response.read())


class Server:
    """gunicorn serving config.wsgi with production-like settings (DEBUG off)."""

    def __init__(self, url: str, port: int, workers: int, workdir: Path):
        self.base = f"http://127.0.0.1:{port}"
        self.dbname = urlsplit(url).path.lstrip("/")
        self.log = workdir / "gunicorn.log"
        cmd = [
            str(Path(PYTHON).with_name("gunicorn")),
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--worker-class",
            "sync",
            "--backlog",
            "2048",
            "--log-level",
            "warning",
        ]
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                cmd, cwd=ROOT, env=django_env(url), stdout=log, stderr=subprocess.STDOUT
            )

    def wait_ready(self, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SetupError(f"gunicorn exited; see {self.log}")
            try:
                if http("GET", self.base + "/api/v1/ping/", timeout=1).get("status") == "ok":
                    return
            except (OSError, ValueError):
                time.sleep(0.2)
        raise SetupError("gunicorn did not answer /api/v1/ping/ in time.")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def references_write(base: str, token: str, numbers: Path, workdir: Path) -> tuple[Path, Path]:
    """Look the sampled members up as a till would, and keep the references the server gave.

    The counter's other calls take these (bound to the bench cashier and store), not ids.
    """
    refs = []
    for number in numbers.read_text().split()[:REFERENCES]:
        request = urllib.request.Request(  # noqa: S310 - the URL is built here, http only
            base + "/api/v1/members/lookup/",
            data=json.dumps({"store": STORE, "query": number}).encode(),
            method="POST",
            headers={"Content-Type": "application/json", "Authorization": "Token " + token},
        )
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            results = json.loads(response.read())["results"]
        if results:
            refs.append(results[0]["reference"])
    if not refs:
        raise SetupError("No reference came back from the lookups.")
    many, one = workdir / "member_refs.txt", workdir / "one_ref.txt"
    many.write_text("\n".join(refs) + "\n")
    one.write_text(refs[0] + "\n")
    return many, one


def staff_token(base: str) -> str:
    try:
        answer = http(
            "POST",
            base + "/api/v1/auth/token/",
            {"username": CASHIER[0], "password": CASHIER[1]},
        )
    except urllib.error.HTTPError as exc:
        raise SetupError(f"Could not get a token for {CASHIER[0]}: HTTP {exc.code}") from None
    return answer["token"]


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(value) * _UNITS_MS[unit]


_TICK = os.sysconf("SC_CLK_TCK")


def _cpu_of(pid: int) -> float:
    """Return the CPU seconds a process has used (user + system), 0 if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def cpu_sample(server_pid: int, dbname: str) -> dict[str, float]:
    """Return CPU seconds used so far: the whole machine, gunicorn, and PostgreSQL.

    PostgreSQL counts the processes working for the bench database (its backends, autovacuum
    on it). The server-wide ones (WAL writer, checkpointer) serve every database on the
    machine, so they land in "other" with the rest of the machine's work.
    """
    busy = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    # user nice system idle iowait irq softirq steal: everything but idle and iowait is busy.
    ticks = [int(v) for v in busy[:8]]
    sample = {
        "machine": (sum(ticks) - ticks[3] - ticks[4]) / _TICK,
        "gunicorn": _cpu_of(server_pid) + sum(_cpu_of(c) for c in _children(server_pid)),
        "postgres": 0.0,
    }
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if cmdline.startswith("postgres:") and f" {dbname} " in cmdline:
            sample["postgres"] += _cpu_of(int(proc.name))
    return sample


def wrk_parse(name: str, output: str) -> Result:
    """Read requests/s, p50 and p99 from wrk --latency, and the status counts our Lua prints."""
    result = Result(name)
    if m := re.search(r"Requests/sec:\s+([\d.]+)", output):
        result.requests_per_s = float(m.group(1))
    if m := re.search(r"^\s+50%\s+(\S+)", output, re.M):
        result.p50_ms = _ms(m.group(1))
    if m := re.search(r"^\s+99%\s+(\S+)", output, re.M):
        result.p99_ms = _ms(m.group(1))
    if m := re.search(r"BENCH responses=(\d+) non2xx=(\d+) first_bad_status=(\d+)", output):
        result.responses, result.non2xx = int(m.group(1)), int(m.group(2))
        if int(m.group(3)):
            body = re.search(r"BENCH first_bad_body=(.*)", output)
            result.first_bad = f"HTTP {m.group(3)} {body.group(1)[:120] if body else ''}"
    if m := re.search(r"Socket errors: (.*)", output):
        result.socket_errors = m.group(1).strip()
    return result


def wrk_run(
    name: str, script: str, server: Server, env: dict[str, str], args: argparse.Namespace
) -> Result:
    """Warm up, then measure one scenario with wrk in its own process."""
    command = ["wrk", "-t", str(args.threads), "-c", str(args.connections), "--latency"]
    command += ["-s", str(LUA_DIR / script)]
    base = server.base
    if args.warmup:
        subprocess.run(
            [*command, "-d", f"{args.warmup}s", base],
            env=dict(env, BENCH_RUN=env.get("BENCH_RUN", "") + "-warmup"),
            capture_output=True,
            check=False,
        )
    before = cpu_sample(server.process.pid, server.dbname)
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    run = subprocess.run(
        [*command, "-d", f"{args.duration}s", base],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    after = cpu_sample(server.process.pid, server.dbname)
    children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if run.returncode != 0 or "Requests/sec" not in run.stdout:
        raise SetupError(f"wrk failed for {name}: {run.stderr.strip() or run.stdout[-500:]}")
    result = wrk_parse(name, run.stdout)
    # CPU milliseconds per request, by who spent them; "other" is the rest of the machine
    # (other people's tests, ...), which the two cores share with the bench.
    done = max(result.responses, 1)
    used = {k: after[k] - before[k] for k in after}
    used["wrk"] = (children_after.ru_utime + children_after.ru_stime) - (
        children_before.ru_utime + children_before.ru_stime
    )
    used["other"] = max(0.0, used["machine"] - used["gunicorn"] - used["postgres"] - used["wrk"])
    result.extra["cpu_ms_per_request"] = {
        k: round(v * 1000 / done, 3) for k, v in used.items() if k != "machine"
    }
    result.extra["machine_busy"] = round(used["machine"] / (args.duration * os.cpu_count()), 2)
    print(
        f"  {name:<16} {result.requests_per_s:8.0f} req/s  p50 {result.p50_ms:6.2f} ms"
        f"  p99 {result.p99_ms:7.2f} ms  non-2xx {result.non2xx}  CPU ms/request "
        + " ".join(f"{k} {v:.2f}" for k, v in result.extra["cpu_ms_per_request"].items())
    )
    return result


def _own_cpu_ms(r: Result) -> float:
    """Return the CPU ms one request cost the bench's own processes (server, database, wrk)."""
    cpu = r.extra.get("cpu_ms_per_request", {})
    return cpu.get("gunicorn", 0) + cpu.get("postgres", 0) + cpu.get("wrk", 0)


def report(results: dict[str, Result], args: argparse.Namespace, members: int) -> None:
    bare = results.get("bare")
    print()
    print(
        f"gunicorn {args.workers} sync workers, wrk -t{args.threads} -c{args.connections}, "
        f"{args.duration} s per scenario after {args.warmup} s warm-up, "
        f"{members:,} members, {os.cpu_count()} CPUs"
    )
    header = (
        f"{'scenario':<16} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'x bare':>7} {'non-2xx':>8}"
        f" {'CPU ms':>7} {'x bare':>7} {'other':>6}"
    )
    print(header + "  target (on measured req/s)")
    print("-" * (len(header) + 40))
    for name, r in results.items():
        ratio = r.requests_per_s / bare.requests_per_s if bare and bare.requests_per_s else None
        own = _own_cpu_ms(r)
        cpu_ratio = _own_cpu_ms(bare) / own if bare and own else None
        other = r.extra.get("cpu_ms_per_request", {}).get("other", 0) / own if own else 0
        verdict = ""
        target = TARGETS.get(name)
        if target and ratio is not None:
            ok = ratio >= target["ratio"] and r.non2xx == 0
            wanted = f">= {target['ratio']:.2f} x bare"
            if "p99_ms" in target:
                ok = ok and r.p99_ms < target["p99_ms"]
                wanted += f", p99 < {target['p99_ms']:.0f} ms"
            verdict = f"{'PASS' if ok else 'FAIL'} ({wanted})"
        elif name == "earn_one_member":
            verdict = "(no target: all requests queue on one row lock)"
        print(
            f"{name:<16} {r.requests_per_s:8.0f} {r.p50_ms:8.2f} {r.p99_ms:8.2f} "
            f"{(f'{ratio:.2f}' if ratio is not None else '-'):>7} {r.non2xx:>8}"
            f" {own:7.2f} {(f'{cpu_ratio:.2f}' if cpu_ratio else '-'):>7} {other:6.0%}  {verdict}"
        )
        for problem in (r.first_bad, r.socket_errors and f"socket errors: {r.socket_errors}"):
            if problem:
                print(f"{'':<16} ! {problem}")
    print(
        "\nCPU ms: CPU per request spent by gunicorn + PostgreSQL + wrk; its 'x bare' is the"
        " throughput ratio\nthe run would show with the machine to itself. other: CPU other"
        " processes took during the\nscenario, as a share of the bench's own; above ~10 % the"
        " measured req/s are disturbed."
    )


def main() -> int:
    args = parse_args()
    scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    server = None
    try:
        if shutil.which("wrk") is None:
            raise SetupError("wrk is not installed (apt-get install wrk).")
        url = database_url()
        database_prepare(url, args.members)
        campaigns_prepare(url, args.campaigns)
        RESULTS_DIR.mkdir(exist_ok=True)
        numbers, _ids, _one, members = samples_write(url, RESULTS_DIR)
        server = Server(url, args.port, args.workers, RESULTS_DIR)
        server.wait_ready()
        token = staff_token(server.base)
        refs, one_ref = references_write(server.base, token, numbers, RESULTS_DIR)
        env = dict(
            os.environ,
            BENCH_LUA_DIR=str(LUA_DIR),
            BENCH_TOKEN=token,
            BENCH_NUMBERS=str(numbers),
            BENCH_STORE=STORE,
            BENCH_AMOUNT=AMOUNT,
            BENCH_LINES=BENCH_LINES,
            BENCH_RUN=f"{int(time.time())}-{os.getpid()}",
        )
        plan = {
            "bare": ("ping.lua", {}),
            "lookup": ("lookup.lua", {}),
            "earn": ("earn.lua", {"BENCH_MEMBER_REFS": str(refs)}),
            "earn_one_member": ("earn.lua", {"BENCH_MEMBER_REFS": str(one_ref)}),
            "quote": ("earn.lua", {"BENCH_MEMBER_REFS": str(refs), "BENCH_ACTION": "quote"}),
        }
        unknown = set(scenarios) - set(plan)
        if unknown:
            raise SetupError(f"Unknown scenarios: {', '.join(sorted(unknown))}")
        print(f"Measuring on {server.base}")
        results = {}
        for name in scenarios:
            script, extra = plan[name]
            run_env = dict(env, **extra, BENCH_RUN=f"{env['BENCH_RUN']}-{name}")
            results[name] = wrk_run(name, script, server, run_env, args)
    except SetupError as exc:
        print(f"bench setup failed: {exc}", file=sys.stderr)
        return 2
    finally:
        if server is not None:
            server.stop()
    report(results, args, members)
    if args.json:
        args.json.write_text(json.dumps({k: vars(v) for k, v in results.items()}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
