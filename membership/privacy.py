"""Membership's part in the privacy rules: its sign-in records and opt-ins go with the member.

Registered from `MembershipConfig.ready()`.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from loyalty.privacy import member_from_subject_key, member_ids_from_subject_keys
from loyalty.purposes import Purpose
from membership.models import MarketingOptIn, SignInLink
from membership.services import unsubscribe_token
from privacy.mail import site_url
from privacy.registry import ProcessingDeclaration, registry


def erase_member_pages(subject_keys: list[str]) -> dict[str, dict[str, int]]:
    """Delete the members' sign-in links and opt-in requests, two statements whatever the
    number; counts per subject (0 for a member already erased: idempotent)."""
    key_of = {pk: key for key, pk in member_ids_from_subject_keys(subject_keys).items()}
    result = {key: {"sign_in_links": 0, "marketing_opt_ins": 0} for key in subject_keys}
    for model, kind in ((SignInLink, "sign_in_links"), (MarketingOptIn, "marketing_opt_ins")):
        rows = model.objects.filter(member_id__in=list(key_of))
        counts = rows.values("member_id").annotate(n=Count("pk")).values_list("member_id", "n")
        for member_id, n in counts:
            result[key_of[member_id]][kind] = n
        rows.delete()
    return result


def export_member_pages(subject_key: str) -> dict[str, list[dict[str, Any]]]:
    """Return when the member asked for sign-in links and used them (their own access)."""
    member = member_from_subject_key(subject_key)
    if member is None:
        return {}
    links = SignInLink.objects.filter(member=member).order_by("created_at", "pk")
    return {
        "sign_ins": [
            {
                "link_sent_at": link.created_at.isoformat(),
                "signed_in_at": link.used_at.isoformat() if link.used_at else None,
            }
            for link in links
        ]
    }


def withdrawal_route(purpose: str):
    """Return the receipt's route for `purpose`: "my membership" (and, for offers by e-mail,
    the member's unsubscribe link), for a member with an e-mail address to sign in with."""

    def route(subject_key: str, language: str) -> tuple[str, str] | None:
        member = member_from_subject_key(subject_key)
        if member is None or not member.email:
            return None  # no sign-in without an address: privacy's forms and the counter
        me = site_url("membership:sign-in", language=language)
        if purpose == Purpose.MARKETING_EMAIL:
            url = site_url(
                "membership:unsubscribe", language=language, token=unsubscribe_token(member=member)
            )
            return url, _(
                "Stop them at once with the unsubscribe link in every offer mail, or here: "
                "%(url)s. Or in My membership (%(me)s), or at any counter."
            ) % {"url": url, "me": me}
        if purpose == Purpose.LOYALTY_MEMBERSHIP:
            return me, _(
                'End it online in My membership at %(url)s ("Ask us to erase your data"), or '
                "at any counter: your data are then erased, within one month at the latest."
            ) % {"url": me}
        return me, _(
            "Withdraw online in My membership at %(url)s (sign in with your e-mail address), "
            "or at any counter (one action). You keep your member number, points and rewards."
        ) % {"url": me}

    return route


DECLARATION = ProcessingDeclaration(
    code="member_self_service",
    title=_("My membership online: signing in by a link sent to the member's e-mail address"),
    legal_basis=_("the membership agreement (GDPR Art. 6(1)(b)); security (Art. 32)"),
    data_categories=(
        _("when a sign-in link was sent and used (the link itself only as a hash)"),
        _("requests for offers by e-mail waiting for confirmation"),
    ),
    recipients=(_("outgoing e-mail provider (EMAIL_URL)"),),
    retention=_("as long as the member exists; erased with the member"),
    app="membership",
    stored_in=("membership.SignInLink", "membership.MarketingOptIn"),
)


def register() -> None:
    """Plug membership into privacy's registry (called once, from MembershipConfig.ready)."""
    # Before loyalty's eraser, which deletes the member these rows belong to.
    registry.register_eraser(
        "membership",
        erase_many=erase_member_pages,
        order=40,
        covers=("membership.SignInLink", "membership.MarketingOptIn"),
    )
    registry.register_exporter("membership", export_member_pages)
    registry.declare(DECLARATION)
    for purpose in Purpose:
        registry.register_withdrawal_route(purpose.value, withdrawal_route(purpose.value))
