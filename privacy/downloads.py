"""The file a data subject receives: their export as JSON, or as a zip of CSV files."""

from __future__ import annotations

import io
import zipfile

from django.http import HttpResponse

from privacy.models import PrivacyTicket
from privacy.services import access_export_csv, access_export_json
from privacy.services.access import Export


def export_response(*, ticket: PrivacyTicket, export: Export, fmt: str) -> HttpResponse:
    """Return the export as a download (`fmt` "json" or "csv"), never cached on the way."""
    if fmt == "json":
        response = HttpResponse(access_export_json(export), content_type="application/json")
        name = f"data-export-{ticket.pk}.json"
    else:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for filename, text in access_export_csv(export).items():
                archive.writestr(filename, text)
        response = HttpResponse(buffer.getvalue(), content_type="application/zip")
        name = f"data-export-{ticket.pk}.zip"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response
