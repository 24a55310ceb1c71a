"""The counter screen: find members by number, e-mail address, phone or name."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from core.errors import InvalidInput
from loyalty import services
from loyalty.contact import email_masked, phone_masked
from loyalty.models import ReadKind
from portal import selectors
from portal.errors import error_message
from portal.forms import SearchForm
from portal.views.common import SESSION_STORE, counter_view, store_context
from stores.models import Store


@counter_view
@require_GET
def counter(request: HttpRequest, store: Store) -> HttpResponse:
    request.session[SESSION_STORE] = store.code
    return render(
        request, "portal/counter.html", store_context(store, form=SearchForm(), nav="counter")
    )


@counter_view
@require_POST
def search(request: HttpRequest, store: Store) -> HttpResponse:
    """Find members as the cashier types (htmx), or on Enter (a scanner ends with Enter)."""
    form = SearchForm(request.POST)
    live = bool(request.htmx) and request.htmx.trigger != "search-form"
    rows, error = [], ""
    if form.is_valid():
        try:
            found = selectors.member_search(query=form.cleaned_data["query"])
        except InvalidInput as exc:
            error = (
                error_message(exc)
                if exc.code != "invalid_input"
                else _("Type a member number, an e-mail address, a phone number or a name.")
            )
        else:
            services.member_reads_record(
                members=found.members,
                staff=request.user,
                store=store,
                found_by=found.found_by,
                kind=ReadKind.LOOKUP,
            )
            refs = services.member_references_issue(
                members=found.members, staff=request.user, store=store, found_by=found.found_by
            )
            rows = [
                (m, refs[m.pk], email_masked(m.email) or phone_masked(m.phone))
                for m in found.members
            ]
    elif not live:
        error = _("Type a member number, an e-mail address, a phone number or a name.")
    if not live and not error and len(rows) == 1:
        url = reverse("portal:member", args=[store.code, rows[0][1]])
        if request.htmx:
            response = HttpResponse(status=204)
            response["HX-Redirect"] = url
            return response
        return redirect(url)
    context = store_context(
        store, form=form, members=rows, error=error, searched=form.is_valid(), nav="counter"
    )
    if request.htmx:
        return render(request, "portal/_search_results.html", context)
    return render(request, "portal/counter.html", context, status=400 if error else 200)
