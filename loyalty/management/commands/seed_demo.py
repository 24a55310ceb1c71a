"""Make a demo chain: Belgian stores, staff logins, rewards, members and their purchases."""

from __future__ import annotations

import random
import secrets
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from tqdm import tqdm

from loyalty.models import EidCard, EntryKind, JoinChannel, LedgerEntry, Member, Reward
from loyalty.numbers import luhn_check_digit
from stores.models import Campaign, EarningRule, Rounding, StaffAssignment, StaffRole, Store
from stores.services import staff_assign

DEMO_PASSWORD = "demo-counter-2026"  # noqa: S105 - printed demo login, refused in production

STORES = [
    ("GNT01", "Gent Korenmarkt", "Gent", "nl"),
    ("ANT01", "Antwerpen Meir", "Antwerpen", "nl"),
    ("LEU01", "Leuven Bondgenoten", "Leuven", "nl"),
    ("LIE01", "Liège Carré", "Liège", "fr"),
    ("NAM01", "Namur Ange", "Namur", "fr"),
    ("BXL01", "Bruxelles Flagey", "Bruxelles", "fr"),
]

STAFF = [
    ("headoffice", StaffRole.HEAD_OFFICE, None),
    ("manager.gent", StaffRole.STORE_MANAGER, "GNT01"),
    ("kassa.gent", StaffRole.CASHIER, "GNT01"),
    ("kassa.antwerpen", StaffRole.CASHIER, "ANT01"),
    ("caisse.liege", StaffRole.CASHIER, "LIE01"),
    ("gerant.liege", StaffRole.STORE_MANAGER, "LIE01"),
    ("caisse.bruxelles", StaffRole.CASHIER, "BXL01"),
]

REWARDS = [
    ("Koffie / Café", "A coffee at the bar", 50),
    ("Herbruikbare tas / Sac réutilisable", "Reusable shopping bag", 120),
    ("EUR 5 korting / réduction", "EUR 5 off the next purchase", 250),
    ("EUR 15 korting / réduction", "EUR 15 off the next purchase", 700),
]

GIVEN = ["Lotte", "Wout", "Fien", "Arne", "Nina", "Jef", "Elise", "Thibault", "Chloé", "Maxime",
         "Camille", "Hugo", "Léa", "Noah", "Manon", "Rayan", "Sofie", "Pieter", "Ines", "Amélie"]
SURNAMES = ["Peeters", "Janssens", "Maes", "Jacobs", "Mertens", "Willems", "Claes", "Goossens",
            "Dubois", "Lambert", "Dupont", "Martin", "Leclercq", "Renard", "Lejeune", "Wauters",
            "Vermeulen", "De Smet", "Hermans", "Lefèvre"]


class Command(BaseCommand):
    help = "Seed a demo chain (stores, staff, rewards, members with purchases). Idempotent."

    def add_arguments(self, parser):
        parser.add_argument("--members", type=int, default=None,
                            help="Add this many members with purchases (bulk inserts).")
        parser.add_argument("--entries-per-member", type=int, default=3,
                            help="Average ledger entries per added member.")
        parser.add_argument("--batch-size", type=int, default=5000)
        parser.add_argument("--seed", type=int, default=None, help="Random seed.")
        parser.add_argument("--quiet-logins", action="store_true",
                            help="Do not print the demo logins.")

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
        if members:
            self._members(members, opts["entries_per_member"], opts["batch_size"], rng)
        if not opts["quiet_logins"]:
            self._print_logins()

    @transaction.atomic
    def _chain(self) -> bool:
        """Create stores, rules, a campaign, rewards and staff; return whether they were new."""
        if Store.objects.filter(code=STORES[0][0]).exists():
            return False
        stores = []
        for code, name, city, lang in STORES:
            store = Store.objects.create(code=code, name=name, city=city, language=lang)
            EarningRule.objects.create(
                store=store, points_per_euro=Decimal("1.00"), rounding=Rounding.DOWN,
                minimum_purchase=Decimal("1.00"),
            )
            stores.append(store)
        now = timezone.now()
        Campaign.objects.create(store=stores[0], name="Dubbele punten weekend",
                                multiplier=Decimal("2.00"), starts_at=now - timedelta(days=1),
                                ends_at=now + timedelta(days=30))
        for name, description, cost in REWARDS:
            reward = Reward.objects.create(name=name, description=description, point_cost=cost)
            reward.stores.set(stores)
        User = get_user_model()
        for username, role, code in STAFF:
            user = User.objects.create_user(username=username, password=DEMO_PASSWORD,
                                            is_staff=role == StaffRole.HEAD_OFFICE,
                                            is_superuser=role == StaffRole.HEAD_OFFICE)
            staff_assign(user=user, role=role,
                         store=Store.objects.get(code=code) if code else None)
        return True

    def _members(self, count: int, per_member: int, batch_size: int, rng: random.Random) -> None:
        stores = list(Store.objects.order_by("code"))
        staff_by_store = {
            a.store_id: a.user_id for a in StaffAssignment.objects.filter(store__isnull=False)
        }
        rewards = list(Reward.objects.all())
        now = timezone.now()
        start = Member.objects.count()
        with tqdm(total=count, desc="members", unit="m", disable=count < 1000) as bar:
            done = 0
            while done < count:
                size = min(batch_size, count - done)
                self._batch(start + done, size, per_member, stores, staff_by_store, rewards,
                            now, rng)
                done += size
                bar.update(size)
        self.stdout.write(f"Added {count} members.")

    @transaction.atomic
    def _batch(self, offset, size, per_member, stores, staff_by_store, rewards, now, rng):
        numbers = self._fresh_numbers(size, rng)
        members = []
        for i in range(size):
            n = offset + i
            given, surname = rng.choice(GIVEN), rng.choice(SURNAMES)
            eid = rng.random() < 0.4
            joined = now - timedelta(days=rng.randint(1, 900), seconds=rng.randint(0, 86399))
            members.append(Member(
                number=numbers[i], given_name=given, surname=surname,
                email=None if eid else f"demo.{n}@example.invalid",
                phone=None if eid else f"+3247{n % 10_000_000:07d}",
                joined_via=JoinChannel.EID if eid else JoinChannel.FORM,
                home_store=rng.choice(stores), last_activity_at=joined,
            ))
        Member.objects.bulk_create(members, batch_size=2000)
        EidCard.objects.bulk_create(
            [EidCard(member=m, token=secrets.token_hex(32)) for m in members
             if m.joined_via == JoinChannel.EID],
            batch_size=2000,
        )
        entries = []
        for m in members:
            balance = 0
            k = rng.randint(0, 2 * per_member) if per_member else 0
            at = m.last_activity_at
            for _ in range(k):
                at = min(now, at + timedelta(days=rng.randint(0, 20), minutes=rng.randint(1, 600)))
                store = m.home_store if rng.random() < 0.8 else rng.choice(stores)
                reward = rng.choice(rewards) if rewards and rng.random() < 0.15 else None
                if reward is not None and balance >= reward.point_cost:
                    balance -= reward.point_cost
                    entries.append(LedgerEntry(
                        member=m, store=store, staff_id=staff_by_store.get(store.pk),
                        kind=EntryKind.REDEEM, points=-reward.point_cost, balance_after=balance,
                        reward=reward, created_at=at,
                    ))
                    continue
                amount = Decimal(rng.randint(150, 15000)) / 100
                points = int(amount)
                balance += points
                entries.append(LedgerEntry(
                    member=m, store=store, staff_id=staff_by_store.get(store.pk),
                    kind=EntryKind.EARN, points=points, balance_after=balance,
                    purchase_amount=amount, created_at=at,
                ))
            m.points_balance = balance
            m.last_activity_at = at
        LedgerEntry.objects.bulk_create(entries, batch_size=5000)
        Member.objects.bulk_update(members, ["points_balance", "last_activity_at"],
                                   batch_size=2000)

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
        self.stdout.write("\nDemo logins (password for all: %s)" % DEMO_PASSWORD)
        for username, role, code in STAFF:
            where = code or "all stores"
            self.stdout.write(f"  {username:<18} {role:<14} {where}")
        self.stdout.write("")
