"""Recompute every dashboard figure from the ledger and the members table (repair).

The beat task keeps the figures current incrementally (`dashboard.tasks.stats_refresh`); this
rebuilds them from scratch, all of them or a range of days.
"""

from __future__ import annotations

import time
from datetime import date

from django.core.management.base import BaseCommand, CommandError

from dashboard.services import FiguresBusy, stats_rebuild, stats_recompute


class Command(BaseCommand):
    help = "Rebuild the dashboard's summary tables (all of them, or --start/--end days)."

    def add_arguments(self, parser):
        parser.add_argument("--start", type=date.fromisoformat, help="First day (YYYY-MM-DD).")
        parser.add_argument("--end", type=date.fromisoformat, help="Last day (YYYY-MM-DD).")

    def handle(self, *args, **opts):
        began = time.perf_counter()
        if opts["start"] or opts["end"]:
            if not (opts["start"] and opts["end"]):
                raise CommandError("Give both --start and --end, or neither.")
            rows = stats_recompute(start=opts["start"], end=opts["end"])
        else:

            def progress(month, written):
                if opts["verbosity"] > 1:
                    self.stdout.write(f"  {month:%Y-%m}: {written} store-day row(s)")

            try:
                rows = stats_rebuild(progress=progress)
            except FiguresBusy as busy:
                raise CommandError(f"Ledger writers still open, try again: {busy}.") from None
        seconds = time.perf_counter() - began
        self.stdout.write(
            self.style.SUCCESS(
                f"Dashboard figures rebuilt: {rows} store-day row(s) in {seconds:.1f} s."
            )
        )
