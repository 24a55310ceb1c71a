"""Does the public form's answer time tell a member from a stranger? (issue 15)

Serves the project with gunicorn (one sync worker, `config.settings.local`, DEBUG off) and, with
REDIS_URL set, a Celery worker on a queue of its own, as production runs. Then it posts 40
members' e-mail addresses and 40 strangers', shuffled together, `--rounds` times each, to the
public erasure form and to the "my membership" sign-in form, over HTTP, and times each answer
from the client (connect, request, answer read).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/h15a_bench REDIS_URL=redis://127.0.0.1:6379/5 \\
        .venv/bin/python bench/bench_public_forms.py --rounds 5

Prints, per form: each group's p10 / median / p90 / mean in ms, the Mann-Whitney U test's
two-sided p-value (normal approximation with tie correction) and the Kolmogorov-Smirnov
statistic D with its asymptotic p-value, and whether every answer was the same (status and
Location). A p-value well above 0.05 means the two distributions cannot be told apart; the
issue measured 7.8 ms for a member and 3.9 ms for a stranger before (one request guessed
membership right 94 % of the time). Without REDIS_URL tasks run in-process, after the answer
(privacy.outbox), in the one gunicorn worker.

The database is migrated; the bench adds one store (BENCH) and 40 members (bench.member.N@).
Rate limits are lifted for the run (PRIVACY_RATE_LIMIT_*), mail goes nowhere (dummymail://).
"""

from __future__ import annotations

import argparse
import math
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
MEMBERS = 40
FORMS = {"privacy erasure form": "/en/privacy/erasure/", "membership sign-in": "/en/membership/"}
FIELD = {"/en/privacy/erasure/": "identifier", "/en/membership/": "email"}


def _queue_names(base: str) -> list[str]:
    """Every queue of a stack (config/queues.py, read by its path: no Celery loaded here)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("config_queues", ROOT / "config" / "queues.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.queue_names(base)


def env_for(args) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DEBUG": "false",
        "EMAIL_URL": "dummymail://",
        "PRIVACY_RATE_LIMIT_PER_IP": "1000000",
        "PRIVACY_RATE_LIMIT_PER_IDENTIFIER": "1000000",
        "CELERY_QUEUE": args.queue,
        "ALLOWED_HOSTS": "127.0.0.1",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }
    if not env.get("DATABASE_URL"):
        env["DATABASE_URL"] = (
            f"sqlite:///{Path(tempfile.gettempdir()) / 'bench_public_forms.sqlite3'}"
        )
    return env


def prepare(env: dict[str, str]) -> list[str]:
    """Migrate, add the store and the members; return the members' addresses."""
    subprocess.run([PYTHON, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    script = (
        "from django.utils import timezone\n"
        "from loyalty.models import Member\n"
        "from loyalty.numbers import member_number_generate\n"
        "from stores.models import Store\n"
        "store, _ = Store.objects.get_or_create(code='BENCH', defaults={'name': 'Bench', "
        "'city': 'Gent', 'language': 'nl'})\n"
        f"for n in range({MEMBERS}):\n"
        "    email = f'bench.member.{n}@example.be'\n"
        "    if not Member.objects.filter(email=email).exists():\n"
        "        Member.objects.create(number=member_number_generate(), given_name='Bench',\n"
        "            surname=f'Member {n}', email=email, joined_via='form', home_store=store,\n"
        "            last_activity_at=timezone.now())\n"
    )
    subprocess.run([PYTHON, "manage.py", "shell", "-c", script], cwd=ROOT, env=env, check=True)
    return [f"bench.member.{n}@example.be" for n in range(MEMBERS)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(env: dict[str, str], port: int, workdir: Path) -> list[subprocess.Popen]:
    procs = [
        subprocess.Popen(
            [
                str(Path(PYTHON).with_name("gunicorn")),
                "config.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "1",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
            stdout=open(workdir / "gunicorn.log", "w"),  # noqa: SIM115 (open while it runs)
            stderr=subprocess.STDOUT,
        )
    ]
    if env.get("REDIS_URL"):
        procs.append(
            subprocess.Popen(
                [
                    str(Path(PYTHON).with_name("celery")),
                    "-A",
                    "config",
                    "worker",
                    "-Q",
                    ",".join(_queue_names(env["CELERY_QUEUE"])),
                    "--concurrency",
                    "1",
                    "--loglevel",
                    "WARNING",
                    "--without-heartbeat",
                    "--without-mingle",
                    "--without-gossip",
                ],
                cwd=ROOT,
                env=env,
                stdout=open(workdir / "worker.log", "w"),  # noqa: SIM115
                stderr=subprocess.STDOUT,
            )
        )
    return procs


def wait_ready(base: str, timeout: float = 60) -> None:
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(base + "/healthz", timeout=2).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise SystemExit("gunicorn did not answer in time")


def measure(base: str, path: str, identifiers: list[tuple[str, str]]) -> dict:
    """Post every identifier once, in the given order; return times (ms) and answers per group."""
    import requests

    session = requests.Session()
    page = session.get(base + path, timeout=5).text
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    times = {"member": [], "stranger": []}
    answers = set()
    for group, value in identifiers:
        data = {"csrfmiddlewaretoken": token, FIELD[path]: value}
        started = time.perf_counter()
        response = session.post(
            base + path,
            data=data,
            allow_redirects=False,
            timeout=10,
            headers={"Referer": base + path, "Connection": "close"},
        )
        elapsed = (time.perf_counter() - started) * 1000
        times[group].append(elapsed)
        answers.add((response.status_code, response.headers.get("Location"), len(response.content)))
    return {"times": times, "answers": answers}


def mann_whitney(a: list[float], b: list[float]) -> tuple[float, float]:
    """Return U (for a) and the two-sided p-value, normal approximation with tie correction."""
    ranked = sorted([(v, 0) for v in a] + [(v, 1) for v in b])
    ranks = [0.0] * len(ranked)
    i, ties = 0, 0.0
    while i < len(ranked):
        j = i
        while j + 1 < len(ranked) and ranked[j + 1][0] == ranked[i][0]:
            j += 1
        for k in range(i, j + 1):
            ranks[k] = (i + j) / 2 + 1
        t = j - i + 1
        ties += t**3 - t
        i = j + 1
    n1, n2 = len(a), len(b)
    r1 = sum(r for r, (_, g) in zip(ranks, ranked, strict=True) if g == 0)
    u1 = r1 - n1 * (n1 + 1) / 2
    n = n1 + n2
    sigma = math.sqrt(n1 * n2 / 12 * ((n + 1) - ties / (n * (n - 1))))
    z = (u1 - n1 * n2 / 2) / sigma if sigma else 0.0
    return u1, math.erfc(abs(z) / math.sqrt(2))


def kolmogorov_smirnov(a: list[float], b: list[float]) -> tuple[float, float]:
    """Return the two-sample KS statistic D and its asymptotic p-value."""
    a, b = sorted(a), sorted(b)
    d, i, j = 0.0, 0, 0
    while i < len(a) and j < len(b):
        x = min(a[i], b[j])
        while i < len(a) and a[i] <= x:
            i += 1
        while j < len(b) and b[j] <= x:
            j += 1
        d = max(d, abs(i / len(a) - j / len(b)))
    en = math.sqrt(len(a) * len(b) / (len(a) + len(b)))
    lam = (en + 0.12 + 0.11 / en) * d
    p = 2 * sum((-1) ** (k - 1) * math.exp(-2 * k * k * lam * lam) for k in range(1, 101))
    return d, min(max(p, 0.0), 1.0)


def describe(values: list[float]) -> str:
    q = statistics.quantiles(values, n=10)
    return (
        f"p10 {q[0]:6.2f}  median {statistics.median(values):6.2f}  p90 {q[-1]:6.2f}  "
        f"mean {statistics.fmean(values):6.2f} ms  (n={len(values)})"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="posts per identifier")
    parser.add_argument("--queue", default=f"bench-{uuid.uuid4().hex[:8]}")
    parser.add_argument("--seed", type=int, default=15)
    args = parser.parse_args()
    env = env_for(args)
    members = prepare(env)
    strangers = [f"bench.stranger.{n}@example.be" for n in range(MEMBERS)]
    workdir = Path(tempfile.mkdtemp(prefix="bench_public_forms_"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    procs = start(env, port, workdir)
    rng = random.Random(args.seed)
    tasks = f"Celery worker on {args.queue}" if env.get("REDIS_URL") else "tasks in-process"
    print(
        f"database {env['DATABASE_URL'].split('@')[-1]}, {tasks}, {MEMBERS} members + "
        f"{MEMBERS} strangers x {args.rounds} rounds per form; logs in {workdir}"
    )
    try:
        wait_ready(base)
        for name, path in FORMS.items():
            # a warm-up round, not counted
            measure(base, path, [("stranger", "warm.up@example.be")] * 5)
            identifiers = [("member", m) for m in members] + [("stranger", s) for s in strangers]
            order = [
                item
                for _ in range(args.rounds)
                for item in rng.sample(identifiers, len(identifiers))
            ]
            result = measure(base, path, order)
            member, stranger = result["times"]["member"], result["times"]["stranger"]
            u, p_u = mann_whitney(member, stranger)
            d, p_ks = kolmogorov_smirnov(member, stranger)
            print(f"\n{name} ({path})")
            print(f"  member    {describe(member)}")
            print(f"  stranger  {describe(stranger)}")
            print(
                f"  Mann-Whitney U {u:.0f}, p = {p_u:.3f};  "
                f"Kolmogorov-Smirnov D {d:.3f}, p = {p_ks:.3f}"
            )
            same = "yes" if len(result["answers"]) == 1 else f"NO: {sorted(result['answers'])}"
            print(f"  every answer identical (status, Location, length): {same}")
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
