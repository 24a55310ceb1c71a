"""Joining: by the form (name, e-mail, phone) or with the eID card; unlinking the card."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from django.utils import timezone

from core.errors import InvalidInput, MemberExists
from core.inputs import text_clean
from loyalty.contact import email_normalize, phone_normalize
from loyalty.models import EID_SURNAME_MAX_BYTES, EidCard, JoinChannel, Member
from loyalty.numbers import member_number_generate
from loyalty.services import webhooks
from stores.models import CampaignTrigger, Store

NAME_MAX = 100


def _clean_name(value: str, field: str, max_length: int = NAME_MAX) -> str:
    # NFC, so "é" typed two ways is one name; control and format characters (NUL, zero-width
    # joiners, right-to-left overrides) refuse the name instead of making it invisible.
    value = text_clean(value or "")
    if (
        not value
        or len(value) > max_length
        or any(ch.isdigit() for ch in value)
        or not any(ch.isalpha() for ch in value)
    ):
        raise InvalidInput(details={field: ["Enter a name (letters only, up to 100)."]})
    return value


def _create_member(**fields) -> Member:
    """Insert a member with a fresh number; retry on the rare number collision."""
    for _ in range(5):
        try:
            with transaction.atomic():
                return Member.objects.create(number=member_number_generate(), **fields)
        except IntegrityError:
            if (
                "email" in fields
                and fields["email"]
                and Member.objects.annotate(email_ci=Lower("email"))
                .filter(email_ci=fields["email"].lower())
                .exists()
            ):
                raise MemberExists() from None
    raise IntegrityError("Could not allocate a unique member number.")


def member_enroll_by_form(
    *,
    store: Store,
    given_name: str,
    surname: str,
    email: str,
    phone: str,
) -> Member:
    """Enrol a customer who joins with the form: given name, surname, e-mail and phone only."""
    given_name = _clean_name(given_name, "given_name")
    surname = _clean_name(surname, "surname")
    email = email_normalize(email)
    phone = phone_normalize(phone)
    if Member.objects.annotate(email_ci=Lower("email")).filter(email_ci=email.lower()).exists():
        raise MemberExists()
    with transaction.atomic():
        member = _create_member(
            given_name=given_name,
            surname=surname,
            email=email,
            phone=phone,
            joined_via=JoinChannel.FORM,
            home_store=store,
            last_activity_at=timezone.now(),
        )
        _joined(member, store)
    _receipt_mail(member)
    return member


def _joined(member: Member, store: Store) -> None:
    """Give a new member what joining campaigns give: called alike by every way of joining."""
    from loyalty.services.events import member_event_reward

    webhooks.member_joined(member=member, store=store)
    member_event_reward(member=member, trigger=CampaignTrigger.JOIN, store=store)


def _receipt_mail(member: Member) -> None:
    """Send the member the receipt of what they agreed to (once this commits; by the outbox)."""
    from loyalty.privacy import member_subject_key  # loyalty.privacy imports these services
    from privacy.receipts import consent_receipt_mail_put

    if member.email:
        consent_receipt_mail_put(subject_key=member_subject_key(member))


@transaction.atomic
def member_enroll_by_eid(*, store: Store, given_name: str, surname: str, eid_token: str) -> Member:
    """Enrol a customer from their eID card: the name and a keyed hash of the card number.

    `eid_token` is what the server stores (already hashed under its key), never the agent's.
    """
    member = _create_member(
        given_name=_clean_name(given_name, "given_name"),
        surname=_clean_name(surname, "surname", EID_SURNAME_MAX_BYTES),
        joined_via=JoinChannel.EID,
        home_store=store,
        last_activity_at=timezone.now(),
    )
    EidCard.objects.create(member=member, token=eid_token)
    _joined(member, store)
    return member


@transaction.atomic
def member_enroll_anonymous_by_eid(*, store: Store, eid_token: str) -> Member:
    """Enrol a customer known only by the keyed hash of their card number: no name at all."""
    member = _create_member(
        given_name="",
        surname="",
        joined_via=JoinChannel.EID_ANONYMOUS,
        home_store=store,
        last_activity_at=timezone.now(),
    )
    EidCard.objects.create(member=member, token=eid_token)
    _joined(member, store)
    return member


@transaction.atomic
def member_eid_unlink(*, member: Member) -> bool:
    """Remove the member's eID card link; they keep their number, points and rewards.

    Returns whether there was a link. Withdrawing eID consent calls this (see loyalty.privacy).
    """
    deleted, _ = EidCard.objects.filter(member=member).delete()
    member._state.fields_cache.pop("eid_card", None)
    if deleted:
        Member.objects.filter(pk=member.pk).update(updated_at=timezone.now())
    return bool(deleted)


@transaction.atomic
def member_email_add(*, member: Member, email: str, store: Store, staff, language: str) -> Member:
    """Give a member without one (an eID member) an e-mail address, with their consent recorded.

    Optional: joining never asks for it. With it the member can sign in to "my membership"
    and make privacy requests online. The consent is to the membership notice, which names the
    e-mail address, recorded at the counter's store by the staff member.
    """
    from loyalty.privacy import member_subject_key
    from loyalty.purposes import Channel, Purpose
    from privacy.services import consent_give

    if member.email:
        raise InvalidInput(details={"email": ["This member already has an e-mail address."]})
    email = email_normalize(email)
    if Member.objects.annotate(email_ci=Lower("email")).filter(email_ci=email.lower()).exists():
        raise MemberExists()
    try:
        with transaction.atomic():
            Member.objects.filter(pk=member.pk).update(email=email, updated_at=timezone.now())
    except IntegrityError as exc:  # the same address added at another counter meanwhile
        raise MemberExists() from exc
    consent_give(
        subject_key=member_subject_key(member),
        purpose=Purpose.LOYALTY_MEMBERSHIP.value,
        channel=Channel.COUNTER_FORM.value,
        language=language,
        store=store,
        staff=staff,
    )
    member.email = email
    return member
