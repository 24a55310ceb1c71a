"""After sign-in: go to the counter of the user's store, or pick one."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from core.errors import ApplicationError
from portal.errors import error_message
from portal.views.common import SESSION_STORE, problem_page
from stores.access import Action, staff_access_for_request


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """Go to the counter of the user's store; ask which one when they work in several."""
    stores = list(
        staff_access_for_request(request)
        .stores(Action.MEMBER_FIND)
        .filter(is_active=True)
        .order_by("code")
    )
    if not stores:
        return problem_page(request, _("You are not assigned to any store. Ask your manager."), 403)
    remembered = request.session.get(SESSION_STORE)
    for store in stores:
        if store.code == remembered or len(stores) == 1:
            return redirect("portal:counter", store_code=store.code)
    return render(request, "portal/store_pick.html", {"stores": stores})


@login_required
@require_POST
def store_pick(request: HttpRequest) -> HttpResponse:
    """Remember the store the user picked, if they work there."""
    try:
        store = staff_access_for_request(request).store(
            request.POST.get("store", ""), Action.MEMBER_FIND
        )
    except ApplicationError as error:
        return problem_page(request, error_message(error), error.status)
    request.session[SESSION_STORE] = store.code
    return redirect("portal:counter", store_code=store.code)


@login_required
@require_GET
def store_change(request: HttpRequest) -> HttpResponse:
    """Forget the remembered store and show the list again."""
    request.session.pop(SESSION_STORE, None)
    stores = list(
        staff_access_for_request(request)
        .stores(Action.MEMBER_FIND)
        .filter(is_active=True)
        .order_by("code")
    )
    return render(request, "portal/store_pick.html", {"stores": stores})
