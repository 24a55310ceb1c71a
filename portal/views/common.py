"""What every counter page shares: the store from the URL, the problem page."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from core.errors import (
    MemberNotFound,
    MemberReferenceExpired,
    MemberReferenceInvalid,
    ScanNotFound,
    StoreForbidden,
    StoreInactive,
    StoreNotFound,
)
from portal.errors import error_message
from stores.access import Action, staff_access_for_request
from stores.models import Store

SESSION_STORE = "portal_store"


def problem_page(request: HttpRequest, message: str, status: int) -> HttpResponse:
    return render(request, "portal/problem.html", {"message": message}, status=status)


def counter_view(view):
    """Sign-in required; resolve `store_code` to a store where the user works at the counter
    (decided once, by `stores.access`), else 403/404; a member reference that is not this
    cashier's, or has expired, sends them back to the search."""

    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, store_code: str, **kwargs) -> HttpResponse:
        try:
            store = staff_access_for_request(request).store(store_code, Action.MEMBER_FIND)
        except (StoreForbidden, StoreNotFound) as error:
            return problem_page(request, error_message(error), error.status)
        except StoreInactive as error:
            return problem_page(request, error_message(error), error.status)
        try:
            return view(request, store, **kwargs)
        except (MemberNotFound, ScanNotFound) as error:
            return problem_page(request, error_message(error), 404)
        except (MemberReferenceInvalid, MemberReferenceExpired) as error:
            return problem_page(request, error_message(error), 400)

    return wrapped


def store_context(store: Store, **extra) -> dict:
    return {"store": store, **extra}
