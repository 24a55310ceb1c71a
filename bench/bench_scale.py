"""How the counter, the dashboard and the nightly jobs grow with the chain's size (issue 16).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/h16_bench_scale \\
        .venv/bin/python bench/bench_scale.py --sizes 50000,100000,200000 --entries-per-member 20

One database (never `test`), grown size after size with `seed_demo` (COPY, resumable: an
interrupted bench continues where the seeding stopped). At each size it prints and keeps:

- counter lookup and earn: p50/p99 of `--requests` API calls through the whole Django stack
  in-process (token auth, middleware, DRF), one after the other: the cost per call, not a
  throughput under load (bench_api.py and bench_load.py measure that);
- every dashboard page's p95 (in-process, head office signed in);
- the nightly refresh (`stats_refresh`) after one day of `--day-entries` new ledger entries,
  and a full rebuild (`stats_rebuild`);
- expiry: the nightly run (`points_expire_due`) after the cutoff moved by one day (it reads
  that day's credits by the index on `created_at`, then those members' own entries), per credit
  read; and, for comparison, the whole-ledger scan it replaced (`members_with_expirable_points`
  without `among`);
- retention: `--retention` members made inactive, erased by the retention job (tickets and
  erasures in-process, as bench_erasure.py does), per member.

Writes bench/results/scale/figures.json and a plot of each figure against the size,
bench/results/scale/scale.png (matplotlib). Targets (bench/README.md): counter and dashboard
flat with size (within 20 %), the nightly refresh proportional to the day's entries, retention
at 3 ms or less per member. A missed target is reported, not fatal.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("DEBUG", "false")
os.environ.pop("REDIS_URL", None)  # tasks in-process: measure the work, not the broker
# One cashier makes every call: its per-account lookup limit would refuse most of them.
os.environ.setdefault("THROTTLE_MEMBER_FIND", "off")
os.environ.setdefault("THROTTLE_MEMBER_READ", "off")

REFUSED = {"test", "loyalty_bench", "loyalty_bench_dash", "loyalty_load", "loyalty_prod"}

import django  # noqa: E402

django.setup()

from dateutil.relativedelta import relativedelta  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from dashboard.services import stats_rebuild, stats_refresh  # noqa: E402
from loyalty.models import ExpiryWatermark, LedgerEntry, Member  # noqa: E402
from loyalty.selectors import members_with_expirable_points  # noqa: E402
from loyalty.services import points_expire_due  # noqa: E402
from privacy import services as privacy_services  # noqa: E402
from privacy.models import PrivacyTicket, TicketState  # noqa: E402

PASSWORD = "demo-counter-2026"  # seed_demo's demo login (never in production)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def grow(size: int, per_member: int, out: Path) -> None:
    have = Member.objects.count()
    if have < size:
        print(f"seeding {size - have:,} members ({have:,} present)", flush=True)
        began = time.perf_counter()
        call_command(
            "seed_demo",
            "--members",
            str(size - have),
            "--entries-per-member",
            str(per_member),
            "--quiet-logins",
            "--reader-token-file",
            str(out / "reader.token"),
        )
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        print(f"seeded in {time.perf_counter() - began:.0f} s", flush=True)
    else:
        call_command(
            "seed_demo",
            "--members",
            "0",
            "--quiet-logins",
            "--reader-token-file",
            str(out / "reader.token"),
        )


def counter(requests: int, rng: random.Random) -> dict[str, float]:
    api = Client()
    token = api.post(
        "/api/v1/auth/token/",
        {"username": "kassa.gent", "password": PASSWORD},
        content_type="application/json",
    ).json()["token"]
    auth = {"HTTP_AUTHORIZATION": f"Token {token}"}
    top = Member.objects.order_by("-pk").values_list("pk", flat=True).first()
    sample = list(
        Member.objects.filter(status="active", pk__gte=max(1, top - 200_000))
        .order_by("?")
        .values_list("pk", "number")[: requests * 2]
    )
    lookup, earn = [], []
    refs: list[str] = []  # what the lookups handed back: the counter's other calls take them
    for n in range(requests + 20):
        _, number = sample[n % len(sample)]
        began = time.perf_counter()
        found = api.post(
            "/api/v1/members/lookup/",
            {"store": "GNT01", "query": number},
            content_type="application/json",
            **auth,
        )
        elapsed = (time.perf_counter() - began) * 1000
        assert found.status_code == 200, found.content[:200]
        refs.append(found.json()["results"][0]["reference"])
        if n >= 20:
            lookup.append(elapsed)
        reference = refs[rng.randrange(len(refs))]
        began = time.perf_counter()
        earned = api.post(
            f"/api/v1/members/{reference}/earn/",
            {"store": "GNT01", "amount": "12.34"},
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex,
            **auth,
        )
        elapsed = (time.perf_counter() - began) * 1000
        assert earned.status_code == 201, earned.content[:200]
        if n >= 20:
            earn.append(elapsed)
    return {
        "lookup_p50_ms": statistics.median(lookup),
        "lookup_p99_ms": pct(lookup, 0.99),
        "earn_p50_ms": statistics.median(earn),
        "earn_p99_ms": pct(earn, 0.99),
    }


def dashboard(repeat: int) -> dict[str, float]:
    head = Client()
    head.force_login(get_user_model().objects.get(username="headoffice"))
    today = timezone.localdate()
    year = {"start": str(today - timedelta(days=364)), "end": str(today)}
    pages = {
        "figures_12w": (reverse("dashboard:figures"), {}),
        "figures_1y": (reverse("dashboard:figures"), year),
        "figures_csv_weeks_1y": (reverse("dashboard:figures_csv", args=["weeks"]), year),
        "stores": (reverse("dashboard:stores"), {}),
        "rewards": (reverse("dashboard:rewards"), {}),
        "privacy_queue": (reverse("dashboard:tickets"), {}),
        "compliance": (reverse("dashboard:compliance"), {}),
    }
    out = {}
    for name, (url, params) in pages.items():
        head.get(url, params)
        times = []
        for _ in range(repeat):
            began = time.perf_counter()
            response = head.get(url, params)
            if hasattr(response, "streaming_content"):
                b"".join(response.streaming_content)
            times.append((time.perf_counter() - began) * 1000)
            assert response.status_code == 200, (name, response.status_code)
        out[f"page_{name}_p95_ms"] = pct(times, 0.95)
    return out


def one_day(entries: int) -> None:
    """Write one day's worth of purchases today (books kept: balances move with them)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH picked AS (
                SELECT id, points_balance FROM loyalty_member
                WHERE status = 'active' ORDER BY random() LIMIT %s
            ), store AS (SELECT id FROM stores_store WHERE code = 'GNT01'),
            added AS (
                INSERT INTO loyalty_ledgerentry (member_id, store_id, staff_id, kind, points,
                    balance_after, purchase_amount, reward_id, reverses_id, reference,
                    idempotency_key, created_at, detail)
                SELECT picked.id, store.id, NULL, 'earn', 12, picked.points_balance + 12,
                    12.34, NULL, NULL, '', NULL, now() - random() * interval '6 hours', '{}'
                FROM picked, store
                RETURNING member_id
            )
            UPDATE loyalty_member m SET points_balance = m.points_balance + 12,
                last_activity_at = now()
            FROM added WHERE m.id = added.member_id
            """,
            [entries],
        )


def nightly(day_entries: int) -> dict[str, float]:
    stats_refresh()  # current first (the first time: a full rebuild)
    one_day(day_entries)
    began = time.perf_counter()
    read = stats_refresh()
    refresh = time.perf_counter() - began
    began = time.perf_counter()
    stats_rebuild()
    rebuild = time.perf_counter() - began
    return {"refresh_s": refresh, "refresh_rows_read": read, "rebuild_s": rebuild}


def expiry() -> dict[str, float]:
    """The nightly expiry after the cutoff moved by one day, and the whole-ledger scan it
    replaced (for comparison: it is no longer run)."""
    now = timezone.now()
    cutoff = now - relativedelta(months=settings.LOYALTY_POINTS_EXPIRY_MONTHS)
    began = time.perf_counter()
    whole = members_with_expirable_points(cutoff=cutoff).count()
    scan = time.perf_counter() - began
    yesterday = cutoff - timedelta(days=1)
    credits = LedgerEntry.objects.filter(
        points__gt=0, created_at__gte=yesterday, created_at__lt=cutoff
    ).count()
    ExpiryWatermark.objects.update_or_create(
        pk=1, defaults={"credits_before": yesterday, "ran_at": now}
    )
    began = time.perf_counter()
    expired = points_expire_due(cutoff=cutoff, at=now)
    nightly = time.perf_counter() - began
    return {
        "expiry_whole_scan_s": scan,
        "expiry_whole_scan_due": whole,
        "expiry_nightly_s": nightly,
        "expiry_nightly_credits_read": credits,
        "expiry_nightly_expired": expired,
        "expiry_nightly_per_credit_ms": nightly * 1000 / credits if credits else 0.0,
    }


def retention(count: int) -> dict[str, float]:
    # Everyone active but `count` members, who last came 11 years ago (retention: 10 years).
    settings.PRIVACY_RETENTION_MONTHS = 120
    cutoff = timezone.now() - relativedelta(months=120)
    assert not Member.objects.filter(last_activity_at__lt=cutoff).exists()
    picked = list(Member.objects.order_by("?").values_list("pk", flat=True)[:count])
    Member.objects.filter(pk__in=picked).update(
        last_activity_at=timezone.now() - relativedelta(years=11)
    )
    before = PrivacyTicket.objects.filter(state=TicketState.COMPLETED).count()
    began = time.perf_counter()
    opened = privacy_services.retention_open_tickets()
    elapsed = time.perf_counter() - began
    done = PrivacyTicket.objects.filter(state=TicketState.COMPLETED).count() - before
    assert len(opened) == count == done, (len(opened), count, done)
    return {"retention_s": elapsed, "retention_per_member_ms": elapsed * 1000 / count}


def plot(results: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = [r["members"] for r in results]
    panels = [
        ("Counter (ms)", ["lookup_p99_ms", "earn_p99_ms", "lookup_p50_ms", "earn_p50_ms"]),
        ("Dashboard pages p95 (ms)", [k for k in results[0] if k.startswith("page_")]),
        ("Nightly jobs (s)", ["refresh_s", "rebuild_s", "expiry_nightly_s", "expiry_whole_scan_s"]),
        ("Per member / credit (ms)", ["retention_per_member_ms", "expiry_nightly_per_credit_ms"]),
    ]
    fig, axes = plt.subplots(2, 2, figsize=(13, 9))
    for ax, (title, keys) in zip(axes.flat, panels, strict=True):
        for key in keys:
            ax.plot(sizes, [r[key] for r in results], marker="o", label=key)
        ax.set_title(title)
        ax.set_xlabel("members")
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle("bench_scale.py: cost against the chain's size")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="50000,100000,200000")
    parser.add_argument("--entries-per-member", type=int, default=20)
    parser.add_argument("--day-entries", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--repeat", type=int, default=20, help="Dashboard page repeats.")
    parser.add_argument("--retention", type=int, default=1000)
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "scale"))
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("Run against PostgreSQL: set DATABASE_URL (see the docstring).")
    if connection.settings_dict["NAME"] in REFUSED:
        raise SystemExit(f"Refusing database {connection.settings_dict['NAME']!r}: use your own.")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    call_command("migrate", "--noinput", verbosity=0)
    rng = random.Random(16)
    results = []
    for size in sorted(int(s) for s in args.sizes.split(",")):
        grow(size, args.entries_per_member, out)
        row = {
            "members": Member.objects.count(),
            "entries": LedgerEntry.objects.order_by().count(),
        }
        print(f"== {row['members']:,} members, {row['entries']:,} ledger entries", flush=True)
        for step in (
            lambda: counter(args.requests, rng),
            lambda: dashboard(args.repeat),
            lambda: nightly(args.day_entries),
            lambda: expiry(),
            lambda: retention(args.retention),
        ):
            measured = step()
            row.update(measured)
            print("   " + ", ".join(f"{k} {v:,.2f}" for k, v in measured.items()), flush=True)
        results.append(row)
        (out / "figures.json").write_text(json.dumps(results, indent=2))
    plot(results, out / "scale.png")
    print(f"\n{'figure':<32}" + "".join(f"{r['members']:>12,}" for r in results))
    for key in results[0]:
        if key in ("members",):
            continue
        print(f"{key:<32}" + "".join(f"{r[key]:>12,.2f}" for r in results))
    first, last = results[0], results[-1]

    def flat(key: str) -> str:
        growth = last[key] / first[key] - 1 if first[key] else 0.0
        return f"{key}: {growth:+.0%} ({'flat' if abs(growth) <= 0.20 else 'NOT flat'})"

    print("\nTargets (first size -> last size):")
    for key in ("lookup_p99_ms", "earn_p99_ms", *(k for k in first if k.startswith("page_"))):
        print("  " + flat(key))
    refresh = " / ".join(f"{r['refresh_s']:.2f} s" for r in results)
    rebuild = " / ".join(f"{r['rebuild_s']:.1f} s" for r in results)
    print(f"  nightly refresh of {args.day_entries:,} entries: {refresh} (full rebuild {rebuild})")
    print(
        "  nightly expiry per credit read: "
        + " / ".join(f"{r['expiry_nightly_per_credit_ms']:.2f} ms" for r in results)
        + " (whole-ledger scan "
        + " / ".join(f"{r['expiry_whole_scan_s']:.1f} s" for r in results)
        + ")"
    )
    print(
        "  retention per member: "
        + " / ".join(f"{r['retention_per_member_ms']:.1f} ms" for r in results)
        + " (target <= 3 ms)"
    )
    print(f"\nPlot: {out / 'scale.png'}  figures: {out / 'figures.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
