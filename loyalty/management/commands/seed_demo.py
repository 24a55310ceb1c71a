"""Make a demo chain: Belgian stores, staff logins, rewards, members and their purchases.

`--members N` adds N members in batches, one transaction each (COPY on PostgreSQL,
bulk_create elsewhere), with a progress bar. The run's target is written down first
(`--progress-file`, under var/ by default, one per database): a run that is interrupted
leaves whole batches behind, and the next `seed_demo` on the same database continues to that
target instead of adding N more (a database made again under the same name starts afresh).
`--restart` forgets an unfinished run.
"""

from __future__ import annotations

import json
import random
import secrets
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone
from tqdm import tqdm

from loyalty.demo import DEMO_PASSWORD, DEMO_READER, STAFF
from loyalty.models import (
    EidCard,
    EntryKind,
    JoinChannel,
    LedgerEntry,
    Member,
    MemberStatus,
    Reward,
)
from loyalty.numbers import luhn_check_digit
from loyalty.purposes import Channel, Purpose
from loyalty.services import points_expiry_rewind
from privacy.services import ConsentGrant, consent_give_many, retention_open_tickets
from privacy.services.erasure import retention_cutoff
from stores.models import (
    Campaign,
    EarningRule,
    ReaderDevice,
    Rounding,
    StaffAssignment,
    StaffRole,
    Store,
)
from stores.services import reader_device_register, reader_token_hash, staff_assign

STORES = [
    ("GNT01", "Gent Korenmarkt", "Gent", "nl"),
    ("ANT01", "Antwerpen Meir", "Antwerpen", "nl"),
    ("LEU01", "Leuven Bondgenoten", "Leuven", "nl"),
    ("LIE01", "Liège Carré", "Liège", "fr"),
    ("NAM01", "Namur Ange", "Namur", "fr"),
    ("BXL01", "Bruxelles Flagey", "Bruxelles", "fr"),
]

REWARDS = [
    ("Koffie / Café", "A coffee at the bar", 50),
    ("Herbruikbare tas / Sac réutilisable", "Reusable shopping bag", 120),
    ("EUR 5 korting / réduction", "EUR 5 off the next purchase", 250),
    ("EUR 15 korting / réduction", "EUR 15 off the next purchase", 700),
]

GIVEN = [
    "Lotte",
    "Wout",
    "Fien",
    "Arne",
    "Nina",
    "Jef",
    "Elise",
    "Thibault",
    "Chloé",
    "Maxime",
    "Camille",
    "Hugo",
    "Léa",
    "Noah",
    "Manon",
    "Rayan",
    "Sofie",
    "Pieter",
    "Ines",
    "Amélie",
]
SURNAMES = [
    "Peeters",
    "Janssens",
    "Maes",
    "Jacobs",
    "Mertens",
    "Willems",
    "Claes",
    "Goossens",
    "Dubois",
    "Lambert",
    "Dupont",
    "Martin",
    "Leclercq",
    "Renard",
    "Lejeune",
    "Wauters",
    "Vermeulen",
    "De Smet",
    "Hermans",
    "Lefèvre",
]


class Command(BaseCommand):
    help = "Seed a demo chain (stores, staff, rewards, members with purchases). Idempotent."

    def add_arguments(self, parser):
        parser.add_argument(
            "--members",
            type=int,
            default=None,
            help="Add this many members with purchases (bulk inserts).",
        )
        parser.add_argument(
            "--entries-per-member",
            type=int,
            default=3,
            help="Average ledger entries per added member.",
        )
        parser.add_argument("--batch-size", type=int, default=5000)
        parser.add_argument("--seed", type=int, default=None, help="Random seed.")
        parser.add_argument(
            "--quiet-logins", action="store_true", help="Do not print the demo logins."
        )
        parser.add_argument(
            "--progress-file",
            default=None,
            help="Where an unfinished run's target is kept (default: var/seed_demo-<db>.json).",
        )
        parser.add_argument(
            "--restart", action="store_true", help="Forget an unfinished run; add --members."
        )
        parser.add_argument(
            "--reader-token-file",
            default=str(settings.BASE_DIR / "var" / "demo-reader.token"),
            help="Where to write the token of the demo eID reader of store GNT01.",
        )

    def handle(self, *args, **opts):
        if settings.SETTINGS_MODULE.endswith(".production"):
            raise CommandError("seed_demo makes demo logins; it does not run in production.")
        rng = random.Random(opts["seed"])
        created = self._chain()
        members = opts["members"]
        if members is None:
            members = 200 if created else 0
        if members < 0 or opts["entries_per_member"] < 0 or opts["batch_size"] < 1:
            raise CommandError("--members, --entries-per-member and --batch-size must be >= 0.")
        progress = Path(opts["progress_file"] or self._default_progress_file())
        per_member = opts["entries_per_member"]
        unfinished = self._unfinished(progress) if not opts["restart"] else None
        if unfinished:
            have = Member.objects.count()
            members, per_member = max(0, unfinished["target"] - have), unfinished["per_member"]
            self.stdout.write(
                f"Resuming an unfinished run: {have} of {unfinished['target']} members present."
            )
        elif members:
            target = Member.objects.count() + members
            progress.parent.mkdir(parents=True, exist_ok=True)
            progress.write_text(
                json.dumps(
                    {"target": target, "per_member": per_member, "database": self._database_id()}
                )
            )
        if members:
            self._members(members, per_member, opts["batch_size"], rng)
            # The entries carry past times: the next expiry run weighs the whole ledger again.
            points_expiry_rewind()
        progress.unlink(missing_ok=True)
        # The nightly retention job, run once: demo members are all active within the period,
        # so it erases nobody, and the compliance check sees that it ran.
        retention_open_tickets()
        self._demo_reader(Path(opts["reader_token_file"]))
        if not opts["quiet_logins"]:
            self._print_logins()

    @staticmethod
    def _default_progress_file() -> Path:
        db = connection.settings_dict
        name = Path(str(db["NAME"])).name
        return settings.BASE_DIR / "var" / f"seed_demo-{connection.vendor}-{name}.json"

    @staticmethod
    def _database_id() -> str:
        """Return what tells this database from one made again under the same name."""
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT oid FROM pg_database WHERE datname = current_database()")
                return f"postgresql:{cursor.fetchone()[0]}"
        try:
            inode = Path(str(connection.settings_dict["NAME"])).stat().st_ino
            return f"{connection.vendor}:{inode}"
        except OSError:
            return connection.vendor

    def _unfinished(self, progress: Path) -> dict | None:
        try:
            run = json.loads(progress.read_text())
        except (OSError, ValueError):
            return None
        if run.get("database", self._database_id()) != self._database_id():
            # The database was made again since (dropped, flushed by a new file): that run's
            # members are gone with it; this run starts afresh.
            self.stdout.write("An unfinished run of an earlier database is forgotten.")
            return None
        if run.get("target", 0) <= Member.objects.count():
            return None
        return {"target": int(run["target"]), "per_member": int(run.get("per_member", 3))}

    @transaction.atomic
    def _chain(self) -> bool:
        """Create stores, rules, a campaign, rewards and staff; return whether they were new."""
        if Store.objects.filter(code=STORES[0][0]).exists():
            return False
        stores = []
        for code, name, city, lang in STORES:
            store = Store.objects.create(code=code, name=name, city=city, language=lang)
            EarningRule.objects.create(
                store=store,
                points_per_euro=Decimal("1.00"),
                rounding=Rounding.DOWN,
                minimum_purchase=Decimal("1.00"),
            )
            stores.append(store)
        now = timezone.now()
        Campaign.objects.create(
            store=stores[0],
            name="Dubbele punten weekend",
            multiplier=Decimal("2.00"),
            starts_at=now - timedelta(days=1),
            ends_at=now + timedelta(days=30),
        )
        for name, description, cost in REWARDS:
            reward = Reward.objects.create(name=name, description=description, point_cost=cost)
            reward.stores.set(stores)
        User = get_user_model()
        for username, role, code in STAFF:
            user = User.objects.create_user(
                username=username,
                password=DEMO_PASSWORD,
                is_staff=role == StaffRole.HEAD_OFFICE,
                is_superuser=role == StaffRole.HEAD_OFFICE,
            )
            staff_assign(user=user, role=role, store=Store.objects.get(code=code) if code else None)
        return True

    def _demo_reader(self, token_file: Path) -> None:
        """Make sure the demo reader of GNT01 exists and its token is in `token_file`."""
        if token_file.exists():
            token = token_file.read_text().strip()
            if ReaderDevice.objects.filter(
                token_hash=reader_token_hash(token), revoked_at__isnull=True
            ).exists():
                return
        store = Store.objects.get(code=STORES[0][0])
        _, token = reader_device_register(store=store, name=DEMO_READER)
        token_file.parent.mkdir(parents=True, exist_ok=True)
        token_file.write_text(token + "\n")
        token_file.chmod(0o600)
        self.stdout.write(f"Demo eID reader of {store.code}: token written to {token_file}")

    def _members(self, count: int, per_member: int, batch_size: int, rng: random.Random) -> None:
        stores = list(Store.objects.order_by("code"))
        staff_by_store = {
            a.store_id: a.user_id for a in StaffAssignment.objects.filter(store__isnull=False)
        }
        rewards = list(Reward.objects.all())
        self._staff_users = get_user_model().objects.in_bulk(list(staff_by_store.values()))
        now = timezone.now()
        start = Member.objects.count()
        with tqdm(total=count, desc="members", unit="m", disable=count < 1000) as bar:
            done = 0
            while done < count:
                size = min(batch_size, count - done)
                self._batch(
                    start + done, size, per_member, stores, staff_by_store, rewards, now, rng
                )
                done += size
                bar.update(size)
        self.stdout.write(f"Added {count} members.")

    @transaction.atomic
    def _batch(self, offset, size, per_member, stores, staff_by_store, rewards, now, rng):
        """Add `size` members, their eID cards and purchases: rows planned first, then inserted.

        Balances are known before the members are written, so no member row is updated. On
        PostgreSQL the rows go in with COPY (a million members seed in minutes, not an hour).
        """
        numbers = self._fresh_numbers(size, rng)
        ids = self._member_ids(size)
        # Joined within the retention period: nobody is yet due for erasure as inactive.
        retention_days = (now - retention_cutoff(now=now)).days
        joined_days = max(1, min(900, retention_days - 2))
        members, cards, entries = [], [], []
        for i in range(size):
            n = ids[i]  # unique for good, also after members were erased
            given, surname = rng.choice(GIVEN), rng.choice(SURNAMES)
            eid = rng.random() < 0.4
            joined = now - timedelta(
                days=rng.randint(1, joined_days), seconds=rng.randint(0, 86399)
            )
            home = rng.choice(stores)
            balance, at = 0, joined
            k = rng.randint(0, 2 * per_member) if per_member else 0
            # Purchases spread over the membership, not piled up on the last day.
            span = (now - joined).total_seconds()
            moments = sorted(joined + timedelta(seconds=rng.random() * span) for _ in range(k))
            for at in moments:
                store = home if rng.random() < 0.8 else rng.choice(stores)
                reward = rng.choice(rewards) if rewards and rng.random() < 0.15 else None
                if reward is not None and balance >= reward.point_cost:
                    balance -= reward.point_cost
                    entries.append(
                        {
                            "member_id": ids[i],
                            "store_id": store.pk,
                            "staff_id": staff_by_store.get(store.pk),
                            "kind": EntryKind.REDEEM,
                            "points": -reward.point_cost,
                            "balance_after": balance,
                            "purchase_amount": None,
                            "reward_id": reward.pk,
                            "created_at": at,
                        }
                    )
                    continue
                amount = Decimal(rng.randint(150, 15000)) / 100
                points = int(amount)
                balance += points
                entries.append(
                    {
                        "member_id": ids[i],
                        "store_id": store.pk,
                        "staff_id": staff_by_store.get(store.pk),
                        "kind": EntryKind.EARN,
                        "points": points,
                        "balance_after": balance,
                        "purchase_amount": amount,
                        "reward_id": None,
                        "created_at": at,
                    }
                )
            members.append(
                {
                    "id": ids[i],
                    "number": numbers[i],
                    "given_name": given,
                    "surname": surname,
                    "email": None if eid else f"demo.{n}@example.invalid",
                    "phone": None if eid else f"+3247{n % 10_000_000:07d}",
                    "joined_via": JoinChannel.EID if eid else JoinChannel.FORM,
                    "home_store_id": home.pk,
                    "status": MemberStatus.ACTIVE,
                    "points_balance": balance,
                    "created_at": joined,
                    "updated_at": now,
                    "last_activity_at": at,
                    "tier": "",
                    "tier_points": 0,
                    "tier_kept_until": None,
                    "points_owed": 0,
                }
            )
            if eid:
                cards.append({"member_id": ids[i], "token": secrets.token_hex(32), "home": home})
        for entry in entries:
            reason = "purchase" if entry["kind"] == EntryKind.EARN else "redemption"
            entry.update(
                reverses_id=None,
                reference="",
                idempotency_key=None,
                detail=[{"reason": reason, "points": entry["points"]}],
            )
        self._insert(Member, members)
        # Consent first (rule 1): recorded with the notice shown, the store, the cashier and
        # the time, then the card is linked.
        consent_give_many(
            grants=[
                ConsentGrant(
                    subject_key=f"member:{card['member_id']}",
                    purpose=Purpose.EID_RECOGNITION.value,
                    channel=Channel.COUNTER_EID.value,
                    language=card["home"].language,
                    store=card["home"],
                    staff=self._staff_users.get(staff_by_store.get(card["home"].pk)),
                )
                for card in cards
            ]
        )
        linked_at = timezone.now()
        for card in cards:
            del card["home"]
            card["linked_at"] = linked_at
        self._insert(EidCard, cards)
        self._insert(LedgerEntry, entries)

    @staticmethod
    def _member_ids(size: int) -> list[int]:
        """Reserve `size` member ids, so ledger rows can point at members not yet written."""
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                    [Member._meta.db_table, size],
                )
                return [row[0] for row in cursor.fetchall()]
        # SQLite hands out max(id) + 1, so explicit ids past the current maximum are safe.
        first = (Member.objects.aggregate(m=Max("id"))["m"] or 0) + 1
        return list(range(first, first + size))

    @staticmethod
    def _insert(model, rows: list[dict]) -> None:
        """Insert rows given as column values: COPY on PostgreSQL, bulk_create elsewhere."""
        if not rows:
            return
        if connection.vendor != "postgresql":
            objs = model.objects.bulk_create([model(**row) for row in rows], batch_size=2000)
            # bulk_create stamps auto_now_add fields with now; put the planned times back.
            stamped = [
                f.name
                for f in model._meta.concrete_fields
                if getattr(f, "auto_now_add", False) and f.name in rows[0]
            ]
            if stamped:
                for obj, row in zip(objs, rows, strict=True):
                    for name in stamped:
                        setattr(obj, name, row[name])
                model.objects.bulk_update(objs, stamped, batch_size=2000)
            return
        columns = list(rows[0])
        table = connection.ops.quote_name(model._meta.db_table)
        sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
        with connection.cursor() as cursor, cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row(
                    [json.dumps(row[c]) if isinstance(row[c], list) else row[c] for c in columns]
                )

    @staticmethod
    def _fresh_numbers(size: int, rng: random.Random) -> list[str]:
        numbers: set[str] = set()
        while len(numbers) < size:
            while len(numbers) < size:
                payload = str(rng.randint(1, 9)) + f"{rng.randrange(10**10):010d}"
                numbers.add(payload + luhn_check_digit(payload))
            taken = set(Member.objects.filter(number__in=numbers).values_list("number", flat=True))
            numbers -= taken
        return list(numbers)

    def _print_logins(self) -> None:
        self.stdout.write(f"\nDemo logins (password for all: {DEMO_PASSWORD})")
        for username, role, code in STAFF:
            where = code or "all stores"
            self.stdout.write(f"  {username:<18} {role:<14} {where}")
        self.stdout.write("")
