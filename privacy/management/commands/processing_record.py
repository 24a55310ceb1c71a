"""Print the record of processing activities (GDPR Art. 30) from what the code declares."""

from __future__ import annotations

import json

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import translation

from privacy.selectors import processing_record


class Command(BaseCommand):
    help = "Print the record of processing (Art. 30): purposes, data, recipients, retention."

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=["text", "json"], default="text")
        # The headings are English; the declarations' words follow --language.
        parser.add_argument(
            "--language", choices=[code for code, _name in settings.LANGUAGES], default="en"
        )

    def handle(self, *args, **options):
        with translation.override(options["language"]):
            record = processing_record()
        if options["format"] == "json":
            self.stdout.write(json.dumps(record, indent=2, ensure_ascii=False))
            return
        out = self.stdout.write
        out("Record of processing activities (GDPR Art. 30)")
        out(f"Controller: {record['controller']}")
        out(f"Generated: {record['generated_at']}, from the code's declarations")
        for n, activity in enumerate(record["activities"], start=1):
            out("")
            out(f"{n}. {activity['title']} [{activity['code']}]")
            out(f"   Declared by: {activity['declared_by']}")
            out(f"   Legal basis: {activity['legal_basis']}")
            out("   Data categories:")
            for category in activity["data_categories"]:
                out(f"     - {category}")
            for label, fields in activity["stored_in"].items():
                out(f"   Stored in {label}: {', '.join(fields)}")
            out(f"   Recipients: {'; '.join(activity['recipients'])}")
            out(f"   Retention: {activity['retention']}")
        out("")
        out(f"Erasure runs, in order: {', '.join(record['erasure'])}")
        out(f"Access exports come from: {', '.join(record['access_export'])}")
