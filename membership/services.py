"""Every write of "my membership": signing in by a link, consents, the member's requests.

Consent goes through privacy's consent services (channel "web"), requests through its ticket
services; loyalty's purposes name what is consented to. The sign-in form, like the public
privacy form, never looks anyone up in the request that sends it (`sign_in_request`).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.errors import InvalidInput, LinkInvalid, RateLimited
from loyalty import selectors as loyalty_selectors
from loyalty.models import Member
from loyalty.privacy import member_subject_key
from loyalty.purposes import Purpose
from membership.models import MarketingOptIn, SignInLink
from privacy import services as privacy
from privacy.hashing import identifier_normalise, seal, token_hash, token_new, unseal
from privacy.models import Channel, PrivacyTicket, TicketKind, TicketSource, Verification
from privacy.outbox import task_put_sealed
from privacy.ratelimit import ratelimit_hit
from privacy.selectors import notice_current
from stores.models import CustomerLanguage

logger = logging.getLogger(__name__)

UNSUBSCRIBE_DOMAIN = "membership.unsubscribe"


def _language(language: str) -> str:
    return language if language in CustomerLanguage.values else CustomerLanguage.NL


# Signing in -------------------------------------------------------------------------------


def sign_in_request(*, email: str, language: str, client_ip: str) -> None:
    """Take the sign-in form: queue the look-up and the mail; tell nobody whether it is a member.

    Raises RateLimited (per client address and per address typed) before anything else.
    """
    normalised = identifier_normalise(email)
    if normalised is None or "@" not in normalised:
        raise InvalidInput(details={"email": ["Give an e-mail address."]})
    ip_ok = ratelimit_hit(
        scope="signin-ip", value=client_ip or "unknown", limit=settings.PRIVACY_RATE_LIMIT_PER_IP
    )
    email_ok = ratelimit_hit(
        scope="signin", value=normalised, limit=settings.PRIVACY_RATE_LIMIT_PER_IDENTIFIER
    )
    if not (ip_ok and email_ok):
        logger.warning("membership sign-in refused: rate limit")
        raise RateLimited()
    with transaction.atomic():
        task_put_sealed(
            task="membership.tasks.sign_in_link_send",
            payload={"email": normalised, "language": _language(language)},
        )


def sign_in_link_issue(*, email: str, language: str) -> tuple[Member, str] | None:
    """Create a sign-in link for the member with this address; None for anyone else."""
    member = loyalty_selectors.members_with_email(email).first()
    if member is None:
        return None
    token, hashed = token_new()
    now = timezone.now()
    SignInLink.objects.create(
        member=member,
        token_hash=hashed,
        language=_language(language),
        created_at=now,
        expires_at=now + timedelta(minutes=settings.MEMBERSHIP_LINK_MINUTES),
    )
    return member, token


def _link_by_token(model, token: str, *, lock: bool):
    if not isinstance(token, str) or not 20 <= len(token) <= 100 or not token.isascii():
        raise LinkInvalid()
    rows = model.objects.select_related("member")
    if lock:
        rows = rows.select_for_update()
    row = rows.filter(token_hash=token_hash(token)).first()
    if row is None or row.expires_at is None or row.expires_at <= timezone.now():
        raise LinkInvalid()
    return row


def sign_in_link_check(*, token: str) -> SignInLink:
    """Return the sign-in link without using it, or raise LinkInvalid."""
    return _link_by_token(SignInLink, token, lock=False)


@transaction.atomic
def sign_in_confirm(*, token: str) -> Member:
    """Use a sign-in link (once): return the member it signs in."""
    link = _link_by_token(SignInLink, token, lock=True)
    link.token_hash = None
    link.used_at = timezone.now()
    link.save(update_fields=["token_hash", "used_at"])
    logger.info("membership: member signed in by link %s", link.pk)
    return link.member


# Consents ---------------------------------------------------------------------------------


def eid_recognition_withdraw(*, member: Member, language: str) -> privacy.Withdrawal:
    """Stop recognising the member by their eID card; they keep number, points and rewards."""
    return privacy.consent_withdraw(
        subject_key=member_subject_key(member),
        purpose=Purpose.EID_RECOGNITION.value,
        channel=Channel.WEB,
        language=_language(language),
    )


@transaction.atomic
def marketing_opt_in_request(*, member: Member, language: str) -> MarketingOptIn:
    """Ask to receive offers by e-mail: a confirmation link goes to the member's address.

    Nothing is consented until that link is used (double opt-in). Raises InvalidInput for a
    member without an address.
    """
    if not member.email:
        raise InvalidInput(details={"email": ["No e-mail address on file."]})
    language = _language(language)
    opt_in = MarketingOptIn.objects.create(
        member=member,
        notice=notice_current(purpose=Purpose.MARKETING_EMAIL.value, language=language),
        language=language,
        created_at=timezone.now(),
    )
    task_put_sealed(task="membership.tasks.marketing_opt_in_send", payload={"opt_in": opt_in.pk})
    return opt_in


@transaction.atomic
def marketing_opt_in_issue(*, opt_in_id: int) -> tuple[MarketingOptIn, str] | None:
    """Give a pending opt-in a fresh link token; None if it is gone or already confirmed."""
    opt_in = (
        MarketingOptIn.objects.select_for_update()
        .select_related("member")
        .filter(pk=opt_in_id, confirmed_at__isnull=True)
        .first()
    )
    if opt_in is None or not opt_in.member.email:
        return None
    token, hashed = token_new()
    opt_in.token_hash = hashed
    opt_in.expires_at = timezone.now() + timedelta(hours=settings.PRIVACY_LINK_EXPIRY_HOURS)
    opt_in.save(update_fields=["token_hash", "expires_at"])
    return opt_in, token


def marketing_opt_in_check(*, token: str) -> MarketingOptIn:
    """Return the pending opt-in a link belongs to, or raise LinkInvalid."""
    return _link_by_token(MarketingOptIn, token, lock=False)


@transaction.atomic
def marketing_opt_in_confirm(*, token: str) -> MarketingOptIn:
    """Record the consent to offers by e-mail, against the notice shown when it was asked."""
    opt_in = _link_by_token(MarketingOptIn, token, lock=True)
    opt_in.token_hash = None
    opt_in.expires_at = None
    opt_in.confirmed_at = timezone.now()
    opt_in.save(update_fields=["token_hash", "expires_at", "confirmed_at"])
    privacy.consent_give(
        subject_key=member_subject_key(opt_in.member),
        purpose=Purpose.MARKETING_EMAIL.value,
        channel=Channel.WEB,
        language=opt_in.language,
        notice=opt_in.notice,
    )
    return opt_in


@transaction.atomic
def marketing_withdraw(*, member: Member, language: str) -> privacy.Withdrawal:
    """Stop offers by e-mail at once; pending opt-in links stop working too."""
    MarketingOptIn.objects.filter(member=member, confirmed_at__isnull=True).delete()
    return privacy.consent_withdraw(
        subject_key=member_subject_key(member),
        purpose=Purpose.MARKETING_EMAIL.value,
        channel=Channel.WEB,
        language=_language(language),
    )


def unsubscribe_token(*, member: Member) -> str:
    """Return an unsubscribe token for one marketing mail: opaque, valid as long as the member."""
    return seal(str(member.pk), domain=UNSUBSCRIBE_DOMAIN)


def unsubscribe_member(*, token: str) -> Member:
    """Return the member an unsubscribe token names, or raise LinkInvalid."""
    opened = unseal(token or "", domain=UNSUBSCRIBE_DOMAIN) if len(token or "") < 200 else None
    member = Member.objects.filter(pk=int(opened)).first() if opened and opened.isdigit() else None
    if member is None:
        raise LinkInvalid()
    return member


# Requests ---------------------------------------------------------------------------------


def erasure_request(*, member: Member, language: str) -> PrivacyTicket:
    """Open the signed-in member's erasure request, verified by the link they signed in with."""
    return privacy.ticket_open_for_subject(
        kind=TicketKind.ERASURE,
        subject_key=member_subject_key(member),
        source=TicketSource.SIGNED_IN,
        language=_language(language),
        verification=Verification.EMAIL_LINK,
    )
