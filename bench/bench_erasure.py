"""Benchmark erasure on PostgreSQL: one member with 1,000 ledger entries, then 10,000 members
(`--members`; the target is 100,000 in under 5 minutes) through retention. Target: 1 s for one
member; both figures are reported.

One member's erasure runs as in production, through the ticket's state machine and the Celery
task (executed in-process here, so the figure is the work itself, not broker latency).
Retention runs as `manage.py retention_run` does (batches of PRIVACY_RETENTION_BATCH members,
one transaction each, every eraser given the batch, a ticket and a proof per member), progress
bar on stderr.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/privacy_bench \\
        .venv/bin/python bench/bench_erasure.py [--entries 1000] [--members 10000] [--repeat 5]

Use a database of its own: it is migrated on the first run, and the bench refuses to run where
members other than its own exist (the retention job would erase them).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ.setdefault("LOG_LEVEL", "WARNING")
# As in production: DEBUG keeps (and formats) every statement, a third of a batch's time.
os.environ.setdefault("DEBUG", "false")
os.environ.pop("REDIS_URL", None)  # tasks in-process: measure the erasure, not the broker

import django  # noqa: E402

django.setup()

from dateutil.relativedelta import relativedelta  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from loyalty.models import EidCard, EntryKind, JoinChannel, LedgerEntry, Member  # noqa: E402
from loyalty.numbers import luhn_check_digit  # noqa: E402
from loyalty.privacy import member_subject_key  # noqa: E402
from loyalty.purposes import Channel, Purpose  # noqa: E402
from privacy import services  # noqa: E402
from privacy.chain import consent_log_verify  # noqa: E402
from privacy.models import PrivacyTicket, TicketState  # noqa: E402
from stores.models import Store  # noqa: E402

STORE_CODE = "BENCH-ERASE"
TARGET_ONE_S = 1.0


def _number(n: int) -> str:
    payload = f"9{n:010d}"
    return payload + luhn_check_digit(payload)


def _members(store: Store, start: int, count: int, *, last_activity) -> list[Member]:
    return Member.objects.bulk_create(
        Member(
            number=_number(start + i),
            given_name="Bench",
            surname=f"Member{start + i}",
            email=f"bench{start + i}@example.invalid",
            phone=f"+3247{(start + i) % 10_000_000:07d}",
            joined_via=JoinChannel.FORM,
            home_store=store,
            points_balance=0,
            last_activity_at=last_activity,
        )
        for i in range(count)
    )


def _ledger(members: list[Member], store: Store, per_member: int, *, at) -> None:
    rows = []
    for member in members:
        balance = 0
        for k in range(per_member):
            balance += 10
            rows.append(
                LedgerEntry(
                    member=member,
                    store=store,
                    kind=EntryKind.EARN,
                    points=10,
                    balance_after=balance,
                    purchase_amount=Decimal("10.00"),
                    reference=f"r{k}",
                    idempotency_key=f"b{member.pk}-{k}",
                    created_at=at,
                )
            )
        member.points_balance = balance
    LedgerEntry.objects.bulk_create(rows, batch_size=5000)
    Member.objects.bulk_update(members, ["points_balance"], batch_size=5000)
    EidCard.objects.bulk_create(
        [EidCard(member=m, token=f"{m.pk:064x}") for m in members[::2]], batch_size=5000
    )


def _prepare() -> Store:
    if connection.vendor != "postgresql":
        raise SystemExit("Set DATABASE_URL to a PostgreSQL database of its own.")
    call_command("migrate", verbosity=0)
    store, _ = Store.objects.get_or_create(
        code=STORE_CODE, defaults={"name": "Bench", "city": "Gent"}
    )
    if Member.objects.exclude(home_store=store).exists():
        raise SystemExit("This database holds other members; use a database of its own.")
    # In SQL, not through Django's deletion collector: a previous run leaves its erased
    # members' ledger rows behind (unlinked), more than one statement's parameters.
    rows = LedgerEntry.objects.filter(store=store)
    rows.filter(reverses__isnull=False).update(reverses=None)
    rows._raw_delete(rows.db)
    Member.objects.filter(home_store=store).delete()
    return store


def _bench_staff(store: Store):
    """Return the bench's cashier of `store` (who opens the counter requests)."""
    from django.contrib.auth import get_user_model

    from stores.services import staff_assign

    user, _ = get_user_model().objects.get_or_create(username="bench.erasure")
    staff_assign(user=user, role="cashier", store=store)
    return user


def bench_one(store: Store, entries: int, repeat: int) -> list[float]:
    """Time the counter erasure of one member with `entries` ledger rows, `repeat` times.

    The member confirms it by the card just scanned, so the erasure runs at once.
    """
    timings = []
    now = timezone.now()
    staff = _bench_staff(store)
    for run in range(repeat):
        [member] = _members(store, 1_000_000 + run, 1, last_activity=now)
        _ledger([member], store, entries, at=now)
        key = member_subject_key(member)
        for purpose in Purpose.values:
            services.consent_give(
                subject_key=key,
                purpose=purpose,
                channel=Channel.COUNTER_FORM,
                language="nl",
                store=store,
            )
        started = time.perf_counter()
        ticket = services.ticket_open_at_counter(
            kind="erasure", subject_key=key, store=store, by=staff, presented="card"
        )
        timings.append(time.perf_counter() - started)
        ticket.refresh_from_db()
        assert ticket.state == TicketState.COMPLETED, ticket.state
        assert ticket.result_counts["loyalty.ledger_entries_unlinked"] == entries
    return timings


def bench_retention(store: Store, members: int, per_member: int) -> float:
    """Time retention erasing `members` inactive members, each with its own ticket."""
    old = timezone.now() - relativedelta(months=30)
    batch = 2000
    for start in range(0, members, batch):
        created = _members(store, start, min(batch, members - start), last_activity=old)
        _ledger(created, store, per_member, at=old)
    before = PrivacyTicket.objects.filter(state=TicketState.COMPLETED).count()
    started = time.perf_counter()
    call_command("retention_run")
    elapsed = time.perf_counter() - started
    done = PrivacyTicket.objects.filter(state=TicketState.COMPLETED).count() - before
    assert members == done, (members, done)
    assert not Member.objects.filter(home_store=store).exists()
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=1000)
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--ledger-per-member", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    store = _prepare()
    print(f"PostgreSQL {connection.pg_version}, database {connection.settings_dict['NAME']}")

    one = bench_one(store, args.entries, args.repeat)
    median = statistics.median(one)
    verdict = "OK" if median <= TARGET_ONE_S else "MISSED"
    print(
        f"erase one member with {args.entries} ledger entries: median {median * 1000:.0f} ms, "
        f"max {max(one) * 1000:.0f} ms over {len(one)} runs "
        f"(target {TARGET_ONE_S:.0f} s: {verdict})"
    )

    total = bench_retention(store, args.members, args.ledger_per_member)
    print(
        f"retention job, {args.members} inactive members with {args.ledger_per_member} ledger "
        f"entries each: {total:.1f} s ({total / args.members * 1000:.1f} ms per member)"
    )

    report = consent_log_verify()
    print(f"consent log after erasures: {'intact' if report.ok else report.reason}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
