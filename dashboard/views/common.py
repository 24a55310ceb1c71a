"""What every dashboard page shares: access, messages, CSV answers."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from core.errors import ApplicationError, Forbidden
from core.inputs import csv_row
from dashboard import selectors
from dashboard.selectors import Table


def office_page(*, head_office: bool = False):
    """Let in signed-in staff the dashboard admits (head office only, if asked); 403 otherwise."""

    def decorate(view):
        @wraps(view)
        @login_required
        @never_cache
        def wrapped(request, *args, **kwargs):
            try:
                access = selectors.office_access(request.user)
                if head_office:
                    selectors.office_head_required(access)
            except Forbidden as error:
                return render(
                    request, "dashboard/forbidden.html", {"message": error.message}, status=403
                )
            request.office = access
            return view(request, *args, **kwargs)

        return wrapped

    return decorate


def fail(request, error: ApplicationError) -> None:
    details = "; ".join(
        str(m) for msgs in error.details.values() if isinstance(msgs, list) for m in msgs
    )
    messages.error(request, f"{error.message} {details}".strip())


def form_errors(request, form) -> None:
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        for error in errors:
            messages.error(request, f"{label}: {error}" if label else error)


def csv_response(filename: str, headers: Iterable[str], rows: Iterable[Iterable]) -> HttpResponse:
    """Stream rows as a CSV download (UTF-8 with BOM, so spreadsheet programs read accents).

    Every cell goes through `core.inputs.csv_cell`: a store manager's device name or a reward
    title starting with `=` reaches head office's spreadsheet as text, never as a formula.
    """

    class Echo:
        def write(self, value):
            return value

    writer = csv.writer(Echo())

    def lines():
        yield "\ufeff" + writer.writerow(csv_row(str(h) for h in headers))
        for row in rows:
            yield writer.writerow(csv_row("" if v is None else v for v in row))

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def table_csv(table: Table, suffix: str = "") -> HttpResponse:
    return csv_response(f"{table.key}{suffix}.csv", table.headers, table.rows)
