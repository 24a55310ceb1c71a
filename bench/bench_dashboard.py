"""Benchmark the head-office dashboard on PostgreSQL with a million members.

Seed once (20M ledger rows: about 19 minutes on two cores), then run:

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/loyalty_bench_dash
    .venv/bin/python manage.py migrate
    .venv/bin/python manage.py seed_demo --members 1000000 --entries-per-member 20
    .venv/bin/python bench/bench_dashboard.py --rebuild [--repeat 30]

It reports the summary rebuild time (`--rebuild`), the beat task's refresh of the last two
days, and each dashboard page's server time (p50/p95, the whole Django request in-process:
middleware, session, queries, templates) and number of queries. Target: under 300 ms.

Pages that need privacy data get a small fixed amount on the first run (300 tickets, 3,000
consent records), so the queue and consent log have something to show. Above 1,000 records
the pages show the chain check the hourly task keeps (timed here too) instead of walking it.

seed_demo clamps purchases that would fall in the future to "now", so the seed day holds far
more rows than a real day (3.2M of 20M): the 2-day refresh figure is a worst case.
Figures: bench/bench_dashboard.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("DEBUG", "false")
os.environ.pop("REDIS_URL", None)

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from dashboard.services import chain_check_run, stats_rebuild, stats_refresh  # noqa: E402
from loyalty.models import LedgerEntry, Member  # noqa: E402
from loyalty.purposes import Channel, Purpose  # noqa: E402
from privacy import services as privacy_services  # noqa: E402
from privacy.models import ConsentRecord, PrivacyTicket  # noqa: E402
from stores.models import Store  # noqa: E402

TARGET_MS = 300
TICKETS = 300
CONSENTS = 3000


def _privacy_data() -> None:
    """Give the queue and the consent log a fixed amount of data (first run only)."""
    now = timezone.now()
    have = PrivacyTicket.objects.filter(subject_key__startswith="bench:").count()
    if have < TICKETS:
        from privacy.models import TicketTransition

        tickets = PrivacyTicket.objects.bulk_create(
            PrivacyTicket(
                kind="erasure" if n % 3 else "access",
                state=("received", "awaiting_verification", "verified", "completed")[n % 4],
                source="public_form",
                subject_key=f"bench:{n}",
                language="nl",
                received_at=now - timedelta(days=n % 40),
                due_on=timezone.localdate() + timedelta(days=30 - n % 40),
            )
            for n in range(have, TICKETS)
        )
        TicketTransition.objects.bulk_create(
            TicketTransition(ticket=t, from_state="", to_state=t.state, at=t.received_at)
            for t in tickets
        )
    store = Store.objects.order_by("code").first()
    for n in range(ConsentRecord.objects.count(), CONSENTS):
        privacy_services.consent_give(
            subject_key=f"bench:{n}",
            purpose=Purpose.LOYALTY_MEMBERSHIP,
            channel=Channel.COUNTER_FORM,
            language="nl",
            store=store,
        )


def _measure(client: Client, url: str, params: dict, repeat: int) -> tuple[float, float, int]:
    client.get(url, params)  # warm caches and connections
    times = []
    queries = 0
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as captured:
            began = time.perf_counter()
            response = client.get(url, params)
            if hasattr(response, "streaming_content"):
                b"".join(response.streaming_content)
            times.append((time.perf_counter() - began) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"{url}: HTTP {response.status_code}")
        queries = len(captured)
    times.sort()
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    return statistics.median(times), p95, queries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rebuild", action="store_true", help="Time a full summary rebuild.")
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("Run against PostgreSQL: set DATABASE_URL (see the docstring).")

    members = Member.objects.count()
    entries = LedgerEntry.objects.order_by().count()
    print(f"Data: {members:,} members, {entries:,} ledger entries, {Store.objects.count()} stores")

    if args.rebuild:
        began = time.perf_counter()
        rows = stats_rebuild()
        print(
            f"Summary rebuild (dashboard_rebuild): {rows:,} store-day rows in "
            f"{time.perf_counter() - began:.1f} s"
        )
    began = time.perf_counter()
    stats_refresh()
    print(f"Beat refresh, nothing new (stats_refresh): {time.perf_counter() - began:.2f} s")

    _privacy_data()
    began = time.perf_counter()
    check = chain_check_run()
    print(
        f"Consent chain check (hourly task): {check.records_checked:,} records in "
        f"{time.perf_counter() - began:.2f} s, intact: {check.ok}"
    )
    User = get_user_model()
    head = Client()
    head.force_login(User.objects.get(username="headoffice"))
    manager = Client()
    manager.force_login(User.objects.get(username="manager.gent"))
    ticket = PrivacyTicket.objects.filter(subject_key__startswith="bench:").first()
    store = Store.objects.order_by("code").first()
    today = timezone.localdate()
    year = {"start": str(today - timedelta(days=364)), "end": str(today)}
    three = {"start": str(today - timedelta(days=3 * 365)), "end": str(today)}

    pages = [
        ("figures, 12 weeks (head office)", head, reverse("dashboard:figures"), {}),
        ("figures, 1 year (head office)", head, reverse("dashboard:figures"), year),
        ("figures, 3 years (head office)", head, reverse("dashboard:figures"), three),
        ("figures, 1 year (store manager)", manager, reverse("dashboard:figures"), year),
        (
            "figures CSV weeks, 3 years",
            head,
            reverse("dashboard:figures_csv", args=["weeks"]),
            three,
        ),
        ("privacy queue", head, reverse("dashboard:tickets"), {}),
        ("privacy ticket", head, reverse("dashboard:ticket", args=[ticket.pk]), {}),
        ("consent log (3,000 records)", head, reverse("dashboard:consent"), {}),
        ("stores", head, reverse("dashboard:stores"), {}),
        ("store detail", head, reverse("dashboard:store", args=[store.code]), {}),
        ("rewards", head, reverse("dashboard:rewards"), {}),
        ("staff", head, reverse("dashboard:staff"), {}),
        ("notices", head, reverse("dashboard:notices"), {}),
        ("compliance self-check", head, reverse("dashboard:compliance"), {}),
    ]
    print(f"\n{'page':<48} {'p50 ms':>8} {'p95 ms':>8} {'queries':>8}")
    slow = []
    for name, client, url, params in pages:
        p50, p95, queries = _measure(client, url, params, args.repeat)
        print(f"{name:<48} {p50:>8.1f} {p95:>8.1f} {queries:>8}")
        if p95 > TARGET_MS:
            slow.append(name)
    print(
        f"\nTarget: p95 under {TARGET_MS} ms. "
        + (f"Over: {', '.join(slow)}" if slow else "All under.")
    )


if __name__ == "__main__":
    main()
