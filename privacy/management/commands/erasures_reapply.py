"""`manage.py erasures_reapply --input <export>`: after restoring a backup, erase again.

Reads an erasure log export (`manage.py erasure_log_export`) taken after the backup, merges it
into the restored database's log, and erases every subject it names that the restored data
still holds. Run it before the restored system serves again; running it twice is harmless.
"""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError

from privacy.services import erasures_reapply


class Command(BaseCommand):
    help = "Re-apply every erasure in an erasure log export to this (restored) database."

    def add_arguments(self, parser):
        parser.add_argument("--input", required=True, help="The export file, or - for stdin.")

    def handle(self, *args, **opts):
        try:
            if opts["input"] == "-":
                counts = erasures_reapply(lines=sys.stdin)
            else:
                with open(opts["input"]) as lines:
                    counts = erasures_reapply(lines=lines)
        except (OSError, ValueError) as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"{counts['log_entries']} erasure(s) in the log; "
            f"{counts['subjects_erased_again']} subject(s) erased again."
        )
