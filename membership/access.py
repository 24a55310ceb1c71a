"""Who is signed in to "my membership": decided here, once per request, for every page.

A member is signed in by using a link mailed to their address (`services.sign_in_confirm`).
The session then holds their id and the time, never more; it lasts MEMBERSHIP_SESSION_MINUTES
from the sign-in, and ends when they sign out or are erased.
"""

from __future__ import annotations

from functools import wraps

from django.conf import settings
from django.http import HttpRequest
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.cache import never_cache

from loyalty.models import Member

SESSION_KEY = "membership"


def member_sign_in(request: HttpRequest, member: Member) -> None:
    """Start a signed-in visit for the member (a new session key: no fixation)."""
    request.session.cycle_key()
    request.session[SESSION_KEY] = {"member": member.pk, "at": timezone.now().timestamp()}
    request.session.set_expiry(settings.MEMBERSHIP_SESSION_MINUTES * 60)


def member_sign_out(request: HttpRequest) -> None:
    request.session.pop(SESSION_KEY, None)
    request.session.cycle_key()


def member_signed_in(request: HttpRequest) -> Member | None:
    """Return the signed-in member, or None (never signed in, visit over, or erased)."""
    visit = request.session.get(SESSION_KEY)
    if not isinstance(visit, dict):
        return None
    started = visit.get("at")
    max_age = settings.MEMBERSHIP_SESSION_MINUTES * 60
    if not isinstance(started, float | int) or timezone.now().timestamp() - started > max_age:
        request.session.pop(SESSION_KEY, None)
        return None
    member = (
        Member.objects.select_related("home_store", "eid_card")
        .filter(pk=visit.get("member"))
        .first()
    )
    if member is None:
        request.session.pop(SESSION_KEY, None)
    return member


def member_page(view):
    """Let in a signed-in member (as `request.member`); others go to the sign-in form."""

    @wraps(view)
    @never_cache
    def wrapped(request, *args, **kwargs):
        member = member_signed_in(request)
        if member is None:
            return redirect("membership:sign-in")
        request.member = member
        return view(request, *args, **kwargs)

    return wrapped
