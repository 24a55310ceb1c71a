"""Writes of the eID channel: arm a scan after consent, take the agent's result, link cards.

Flow: staff record the customer's consent and arm a scan for a reader (`eid_scan_arm`); the
reader agent picks it up (`eid_scan_pick_up`), reads the card and posts a minimised result
(`eid_scan_complete`), or reports why it could not (`eid_scan_fail`).
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from core.errors import (
    EidCardLinkedElsewhere,
    ForbiddenPersonalField,
    InvalidInput,
    ScanExpired,
    ScanNotFound,
    StoreForbidden,
)
from loyalty.eid_rules import EID_TOKEN_RE, forbidden_result_fields
from loyalty.models import EidCard, EidScan, Member, ScanState
from loyalty.privacy import member_subject_key
from loyalty.purposes import Channel, Purpose
from loyalty.services import member_enroll_by_eid
from loyalty.services.members import _clean_name
from privacy import services as privacy_services
from privacy.models import NoticeVersion
from stores.models import ReaderDevice, Store

logger = logging.getLogger(__name__)

EID_PURPOSE = Purpose.EID_RECOGNITION
FAILURE_CODES = frozenset({"card_removed", "reader_unavailable", "card_unreadable", "no_card"})

# Allowed moves of a scan, in one place.
SCAN_TRANSITIONS: dict[str, frozenset[str]] = {
    ScanState.ARMED: frozenset({ScanState.COMPLETED, ScanState.FAILED, ScanState.EXPIRED}),
    ScanState.COMPLETED: frozenset(),
    ScanState.FAILED: frozenset(),
    ScanState.EXPIRED: frozenset(),
}


def _move(scan: EidScan, state: str, **fields) -> EidScan:
    if state not in SCAN_TRANSITIONS[scan.state]:
        raise ScanExpired()
    scan.state = state
    scan.finished_at = timezone.now()
    for name, value in fields.items():
        setattr(scan, name, value)
    scan.save(update_fields=["state", "finished_at", *fields])
    return scan


def _scan_ttl() -> timedelta:
    return timedelta(seconds=settings.EID_SCAN_TTL_SECONDS)


@transaction.atomic
def eid_scan_arm(
    *,
    store: Store,
    device: ReaderDevice,
    staff: AbstractBaseUser,
    notice_language: str,
    notice: NoticeVersion | None = None,
    link_member: Member | None = None,
) -> EidScan:
    """Record the customer's consent to reading their eID, then arm the reader for one card.

    Consent comes first (no consent, no read). It is recorded under a fresh pseudonymous
    subject, because the card may belong to nobody we know yet; `eid_scan_complete` ties it
    to the member once the card is read. Arming again replaces a scan still waiting.
    """
    if device.store_id != store.pk or device.revoked_at is not None:
        raise StoreForbidden("This reader does not belong to this store or has been revoked.")
    now = timezone.now()
    EidScan.objects.filter(device=device, state=ScanState.ARMED).update(
        state=ScanState.EXPIRED, finished_at=now
    )
    scan = EidScan(
        id=uuid.uuid4(),
        store=store,
        device=device,
        staff=staff,
        notice_language=notice_language,
        link_member=link_member,
        expires_at=now + _scan_ttl(),
    )
    scan.consent_subject = privacy_services.consent_subject_new()
    privacy_services.consent_give(
        subject_key=scan.consent_subject,
        purpose=EID_PURPOSE,
        language=notice_language,
        channel=Channel.COUNTER_EID,
        store=store,
        staff=staff,
        device=device,
        notice=notice,
    )
    scan.save(force_insert=True)
    return scan


def eid_scan_pick_up(*, device: ReaderDevice) -> EidScan | None:
    """Return the scan waiting for this reader, marking it picked up, or None."""
    now = timezone.now()
    scan = (
        EidScan.objects.filter(device=device, state=ScanState.ARMED, expires_at__gt=now)
        .order_by("created_at")
        .first()
    )
    if scan is not None and scan.picked_up_at is None:
        EidScan.objects.filter(pk=scan.pk, picked_up_at__isnull=True).update(picked_up_at=now)
    return scan


def _scan_for_device(scan_id, device: ReaderDevice) -> EidScan:
    try:
        return EidScan.objects.select_for_update().get(pk=uuid.UUID(str(scan_id)), device=device)
    except (EidScan.DoesNotExist, ValueError):
        raise ScanNotFound() from None


@transaction.atomic
def eid_scan_complete(*, scan_id, device: ReaderDevice, payload: object) -> EidScan:
    """Take the agent's minimised result: recognise the member, create one, or link a card.

    Refuses, storing nothing, a result with any key but the three allowed or a value that
    looks like a national register number or a date, and a result for a scan whose consent
    is not on record.
    """
    if not isinstance(payload, dict):
        raise InvalidInput("The scan result must be a JSON object.")
    forbidden = forbidden_result_fields(payload)
    if forbidden:
        # The incident is logged with the field names only, never their values.
        logger.warning(
            "eID result refused: forbidden personal field(s) %s from device %s (store %s)",
            ",".join(forbidden),
            device.pk,
            device.store_id,
        )
        raise ForbiddenPersonalField(details={"fields": forbidden})
    scan = _scan_for_device(scan_id, device)
    if scan.state != ScanState.ARMED or scan.expires_at <= timezone.now():
        if scan.state == ScanState.ARMED:
            _move(scan, ScanState.EXPIRED)
        raise ScanExpired()
    privacy_services.consent_require(subject_key=scan.consent_subject, purpose=EID_PURPOSE)
    token = payload.get("eid_token")
    if not isinstance(token, str) or not EID_TOKEN_RE.match(token):
        raise InvalidInput(details={"eid_token": ["Expected 64 lower-case hex characters."]})
    surname = _clean_name(
        payload.get("surname") if isinstance(payload.get("surname"), str) else "", "surname"
    )
    given_names = _clean_name(
        payload.get("given_names") if isinstance(payload.get("given_names"), str) else "",
        "given_names",
    )
    member, created = _match(scan=scan, token=token, surname=surname, given_names=given_names)
    privacy_services.consent_attach(
        from_key=scan.consent_subject, to_key=member_subject_key(member), purposes=[EID_PURPOSE]
    )
    return _move(scan, ScanState.COMPLETED, member=member, member_created=created)


def _match(*, scan: EidScan, token: str, surname: str, given_names: str) -> tuple[Member, bool]:
    card = EidCard.objects.select_related("member").filter(token=token).first()
    if scan.link_member_id is not None:
        if card is not None and card.member_id != scan.link_member_id:
            raise EidCardLinkedElsewhere()
        EidCard.objects.update_or_create(member_id=scan.link_member_id, defaults={"token": token})
        member = Member.objects.get(pk=scan.link_member_id)
        return member, False
    if card is not None:
        Member.objects.filter(pk=card.member_id).update(last_activity_at=timezone.now())
        return card.member, False
    # Only the first given name is kept: enough to greet and to find the member.
    given_name = given_names.split()[0] if given_names else given_names
    member = member_enroll_by_eid(
        store=scan.store, given_name=given_name, surname=surname, eid_token=token
    )
    return member, True


@transaction.atomic
def eid_scan_fail(*, scan_id, device: ReaderDevice, code: str) -> EidScan:
    """Record why the reader could not read the card, so the cashier's screen can say so."""
    scan = _scan_for_device(scan_id, device)
    if scan.state != ScanState.ARMED:
        return scan  # the agent may report twice after a retry; the first report stands
    code = code if code in FAILURE_CODES else "card_unreadable"
    return _move(scan, ScanState.FAILED, failure_code=code)


def eid_scans_expire() -> int:
    """Expire armed scans past their time; return how many."""
    return EidScan.objects.filter(state=ScanState.ARMED, expires_at__lte=timezone.now()).update(
        state=ScanState.EXPIRED, finished_at=timezone.now()
    )
