"""Joining with the form: the same benefits as the eID, without reading the card."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from core.errors import ApplicationError
from loyalty import services
from loyalty.models import FoundBy
from portal.errors import error_message, field_errors
from portal.forms import JoinForm, form_focus
from portal.views.common import counter_view, store_context
from stores.models import Store


@counter_view
@require_http_methods(["GET", "POST"])
def join(request: HttpRequest, store: Store) -> HttpResponse:
    """Join with the form: given name, surname, e-mail, phone. The same benefits as the eID."""
    form = JoinForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        try:
            member = services.member_enroll_by_form(store=store, **form.cleaned_data)
        except ApplicationError as exc:
            fields = field_errors(exc)
            for field, message in fields.items():
                form.add_error(field, message)
            error = "" if fields else error_message(exc)
        else:
            messages.success(
                request,
                _("Welcome, %(name)s! Member number %(number)s.")
                % {"name": member.given_name, "number": member.number},
            )
            ref = services.member_references_issue(
                members=[member], staff=request.user, store=store, found_by=FoundBy.ENROLMENT
            )[member.pk]
            return redirect("portal:member", store_code=store.code, member_ref=ref)
    form_focus(form)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "portal/join.html",
        store_context(
            store, form=form, error=error, from_eid=request.GET.get("from") == "eid", nav="join"
        ),
        status=status,
    )
