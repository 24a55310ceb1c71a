"""`manage.py erasure_log_export`: write the erasure log (keyed hashes only) as JSON lines.

Keep the export apart from the database backups, and newer than the newest of them: after a
restore, `manage.py erasures_reapply --input <export>` erases again everyone it names.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.core.management.base import BaseCommand
from django.utils.dateparse import parse_datetime

from privacy.services import erasure_log_lines


class Command(BaseCommand):
    help = "Write the erasure log (no personal data) as JSON lines, to a file or stdout."

    def add_arguments(self, parser):
        parser.add_argument("--output", help="File to write (replaced atomically); default stdout.")
        parser.add_argument("--since", help="Only erasures from this ISO date-time on.")

    def handle(self, *args, **opts):
        since = parse_datetime(opts["since"]) if opts["since"] else None
        lines = erasure_log_lines(since=since)
        if not opts["output"]:
            for line in lines:
                self.stdout.write(line)
            return
        target = Path(opts["output"])
        partial = target.with_name(target.name + ".partial")
        count = 0
        with partial.open("w") as out:
            for line in lines:
                out.write(line + "\n")
                count += 1
            out.flush()
            os.fsync(out.fileno())
        partial.replace(target)
        self.stderr.write(f"{count} erasure(s) written to {target}")
