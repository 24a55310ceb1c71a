"""`manage.py retention_run`: erase every subject inactive past the retention period, now.

What the nightly task does (`privacy.tasks.retention_run`), but in this process and with a
progress bar: the erasures open in batches of `--batch-size` (PRIVACY_RETENTION_BATCH), each
batch erased in one transaction with every eraser given the whole batch, each member still
getting a ticket with its proof and an erasure-log line. `--preview` counts who would go and
erases nothing. Prints counts only, never who.
"""

from __future__ import annotations

import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from tqdm import tqdm

from privacy.services import retention_open_tickets, retention_subjects


class Command(BaseCommand):
    help = "Erase the subjects inactive past the retention period, in batches, with progress."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=settings.PRIVACY_RETENTION_BATCH)
        parser.add_argument("--preview", action="store_true", help="Count only; erase nothing.")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args, **opts):
        if opts["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1.")
        now = timezone.now()
        # Looked up once: the progress bar's size and the run's subjects are the same list.
        due = retention_subjects(now=now)
        if opts["preview"]:
            self.stdout.write(
                f"{len(due)} subject(s) inactive past {settings.PRIVACY_RETENTION_MONTHS} months "
                "would be erased."
            )
            return
        with tqdm(
            total=len(due),
            unit="member",
            desc="erasing",
            disable=opts["no_progress"],
            file=sys.stderr,
        ) as bar:
            opened = retention_open_tickets(
                now=now,
                batch_size=opts["batch_size"],
                erase_here=True,
                progress=bar.update,
                subject_keys=due,
            )
        self.stdout.write(f"{len(opened)} subject(s) erased, one ticket each.")
