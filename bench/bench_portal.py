"""Benchmark the counter portal's server time on PostgreSQL with a million members.

Each page is requested in-process through Django's test Client (middleware, session, ORM,
templates; no network, no WSGI server), signed in as a cashier of GNT01, DEBUG off. Per page:
p50, p95 and max of the wall time of the request, and the number of SQL queries.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/loyalty_bench_portal \\
        .venv/bin/python bench/bench_portal.py --requests 200

The database must hold a seeded chain (`manage.py seed_demo --members 1000000`) and be
migrated (the trigram indexes of loyalty 0003, the portal's page-view table). The benchmark
adds one staff user (`bench.portal`) and, through the member page, page-view rows.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ["DEBUG"] = "false"

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from loyalty.models import Member  # noqa: E402
from stores.models import StaffRole, Store  # noqa: E402
from stores.services import staff_assign  # noqa: E402

STORE = "GNT01"
TARGET_MS = 100
NAMES = ["peeters", "lotte peeters", "de smet", "smet", "mertens w", "lefèvre", "pe", "chloé d"]
LIVE = {"HX-Request": "true", "HX-Trigger": "id_query"}


def _cashier_client() -> Client:
    from django.contrib.auth import get_user_model

    user, _ = get_user_model().objects.get_or_create(username="bench.portal")
    staff_assign(user=user, role=StaffRole.CASHIER, store=Store.objects.get(code=STORE))
    client = Client()
    client.force_login(user)
    client.cookies["django_language"] = "nl"
    return client


def _sample(count: int, rng: random.Random) -> list[Member]:
    """Pick members spread over the table by id (not only the first rows)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT min(id), max(id) FROM loyalty_member")
        low, high = cursor.fetchone()
    picked: list[Member] = []
    while len(picked) < count:
        start = rng.randint(low, high)
        member = Member.objects.filter(pk__gte=start, email__isnull=False).order_by("pk").first()
        if member is not None:
            picked.append(member)
    return picked


def _run(name: str, calls, expect: int) -> dict:
    timings, queries = [], []
    for call in calls:
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = call()
            timings.append((time.perf_counter() - started) * 1000)
        if response.status_code != expect:
            raise SystemExit(f"{name}: HTTP {response.status_code}, expected {expect}")
        queries.append(len(captured.captured_queries))
    timings.sort()
    return {
        "page": name,
        "requests": len(timings),
        "p50_ms": round(statistics.median(timings), 1),
        "p95_ms": round(timings[int(len(timings) * 0.95) - 1], 1),
        "max_ms": round(timings[-1], 1),
        "queries": max(queries),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=200, help="Requests per page.")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--json", type=Path, help="Also write the results to this file.")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("Run against PostgreSQL: set DATABASE_URL=postgres://...")
    total = Member.objects.count()
    print(f"database {settings.DATABASES['default']['NAME']}: {total:,} members")
    rng = random.Random(args.seed)
    client = _cashier_client()
    members = _sample(args.requests, rng)
    base = f"/counter/{STORE}/"

    def search(query: str, live: bool):
        headers = LIVE if live else {}
        return lambda: client.post(base + "search/", {"query": query}, headers=headers)

    def member_page(member: Member):
        return lambda: client.get(f"{base}members/{member.pk}/")

    # warm up connections, templates, translations
    for member in members[:20]:
        client.get(base)
        member_page(member)()
        search(member.number, live=True)()
    n = args.requests
    results = [
        _run("counter (search box)", [lambda: client.get(base)] * n, 200),
        _run(
            "search: member number, as typed",
            [search(m.number, live=True) for m in members],
            200,
        ),
        _run(
            "search: member number, Enter (scanner)",
            [search(m.number, live=False) for m in members],
            302,
        ),
        _run("search: e-mail", [search(m.email.upper(), live=True) for m in members], 200),
        _run("search: phone", [search(m.phone, live=True) for m in members], 200),
        _run(
            "search: name",
            [search(NAMES[i % len(NAMES)], live=True) for i in range(n)],
            200,
        ),
        _run("member page", [member_page(m) for m in members], 200),
    ]
    width = max(len(r["page"]) for r in results)
    print(f"{'page':<{width}}  {'p50 ms':>7}  {'p95 ms':>7}  {'max ms':>7}  {'queries':>7}")
    for r in results:
        print(
            f"{r['page']:<{width}}  {r['p50_ms']:>7}  {r['p95_ms']:>7}  {r['max_ms']:>7}"
            f"  {r['queries']:>7}"
        )
    slow = [r["page"] for r in results if r["p95_ms"] > TARGET_MS]
    print(f"target p95 <= {TARGET_MS} ms: " + ("met" if not slow else "MISSED: " + ", ".join(slow)))
    if args.json:
        args.json.write_text(json.dumps({"members": total, "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
