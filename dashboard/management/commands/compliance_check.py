"""manage.py compliance_check: the office's compliance self-check, for CI and monitoring.

Prints one line per check (and the rows that fail it, ids only) and exits non-zero when any
check fails.
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone, translation

from dashboard.selectors import ChainStatus, compliance_report
from privacy.chain import consent_log_verify


class Command(BaseCommand):
    help = "Run the compliance self-check; exit 1 if any check fails."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="Print the result as JSON.")

    def handle(self, *args, **opts):
        with translation.override("en"):
            report = compliance_report()
            if report.chain is None or not report.chain.live:
                # The page shows the last hourly check of a large log; here it is walked whole.
                report.chain = self._chain_verified()
            failed = report.failures()
            lines = self._lines(report, failed)
        if opts["json"]:
            self.stdout.write(json.dumps({"ok": report.ok, "failed": failed, "checks": lines}))
        else:
            for line in lines:
                mark = "ok  " if line["ok"] else "FAIL"
                self.stdout.write(f"{mark} {line['code']}: {line['summary']}")
                for row in line["rows"]:
                    self.stdout.write(f"       - {row}")
        if failed:
            raise CommandError(f"compliance check failed: {', '.join(failed)}")

    @staticmethod
    def _chain_verified() -> ChainStatus:
        found = consent_log_verify()
        return ChainStatus(
            ok=found.ok,
            checked=found.checked,
            at=timezone.now(),
            live=True,
            broken_seq=found.broken_seq,
            reason=found.reason,
            records_total=found.checked,
        )

    @staticmethod
    def _lines(report, failed: list[str]) -> list[dict]:
        lines = [
            {
                "code": "schema",
                "ok": "schema" not in failed,
                "summary": f"{len(report.forbidden_fields)} forbidden field(s)",
                "rows": [f"{f.model}.{f.field}: {f.category}" for f in report.forbidden_fields],
            },
            {
                "code": "chain",
                "ok": "chain" not in failed,
                "summary": (
                    "consent log not verified yet"
                    if report.chain is None
                    else f"{report.chain.checked} record(s) verified"
                    if report.chain.ok
                    else f"broken at record #{report.chain.broken_seq}"
                ),
                "rows": [],
            },
            {
                "code": "overdue",
                "ok": "overdue" not in failed,
                "summary": f"{len(report.overdue)} request(s) past their due date",
                "rows": [f"ticket #{t.pk} due {t.due_on.isoformat()}" for t in report.overdue],
            },
            {
                "code": "retention",
                "ok": "retention" not in failed,
                "summary": (
                    "never ran"
                    if report.retention is None
                    else f"last run {report.retention.started_at.isoformat()}"
                    + (" (stale)" if report.retention.stale else "")
                ),
                "rows": [],
            },
            {
                "code": "parity",
                "ok": "parity" not in failed,
                "summary": (
                    "parity check never ran"
                    if report.parity is None
                    else f"last run {report.parity.ran_at.isoformat()}, seed {report.parity.seed}"
                ),
                "rows": [report.parity.difference]
                if report.parity and report.parity.difference
                else [],
            },
        ]
        for check in report.checks:
            lines.append(
                {
                    "code": check.code,
                    "ok": check.ok,
                    "summary": check.summary,
                    "rows": [row.text for row in check.rows],
                }
            )
        return lines
