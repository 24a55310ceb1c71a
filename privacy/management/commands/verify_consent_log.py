"""Check the consent log's hash chain; say where it breaks. Exit status 1 if it does."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from privacy.chain import consent_log_verify


class Command(BaseCommand):
    help = "Verify the consent log's hash chain and report the first record where it breaks."

    def handle(self, *args, **options):
        report = consent_log_verify()
        if not report.ok:
            where = f"record #{report.broken_seq}"
            if report.broken_id is not None:
                where += f" (id {report.broken_id})"
            raise CommandError(
                f"Consent log broken at {where}: {report.reason}. "
                f"{report.checked} record(s) before it verified."
            )
        self.stdout.write(self.style.SUCCESS(f"Consent log intact: {report.checked} record(s)."))
