"""manage.py parity_check: run the equal-benefits parity check now and keep its result.

The beat task runs it every night; this is for head office's "now", for CI and monitoring.
Exits non-zero when a form member and an eID member ended differently.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from loyalty.services.parity import PARITY_CASES, parity_check_run


class Command(BaseCommand):
    help = "Run the equal-benefits parity check now; exit 1 if the channels ended differently."

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, help="Replay the cases of an earlier run.")
        parser.add_argument("--cases", type=int, default=PARITY_CASES)

    def handle(self, *args, **opts):
        run = parity_check_run(seed=opts["seed"], cases=opts["cases"])
        if not run.passed:
            raise CommandError(f"parity check failed: {run.difference} (seed {run.seed})")
        self.stdout.write(f"parity check passed: {run.cases} case(s), seed {run.seed}")
