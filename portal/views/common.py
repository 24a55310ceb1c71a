"""What every counter page shares: the store from the URL, the problem page."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from core.errors import MemberNotFound, ScanNotFound, StoreForbidden, StoreInactive, StoreNotFound
from portal.errors import error_message
from stores.models import Store
from stores.selectors import store_for_staff

SESSION_STORE = "portal_store"


def problem_page(request: HttpRequest, message: str, status: int) -> HttpResponse:
    return render(request, "portal/problem.html", {"message": message}, status=status)


def counter_view(view):
    """Sign-in required; resolve `store_code` to a store the user works for, else 403/404."""

    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, store_code: str, **kwargs) -> HttpResponse:
        try:
            store = store_for_staff(request.user, store_code)
        except (StoreForbidden, StoreNotFound) as error:
            return problem_page(request, error_message(error), error.status)
        except StoreInactive as error:
            return problem_page(request, error_message(error), error.status)
        try:
            return view(request, store, **kwargs)
        except (MemberNotFound, ScanNotFound) as error:
            return problem_page(request, error_message(error), 404)

    return wrapped


def store_context(store: Store, **extra) -> dict:
    return {"store": store, **extra}
