"""Writes of the eID channel: arm a scan after consent, take the agent's result, link cards.

Flow: staff record the customer's consent and arm a scan for a reader (`eid_scan_arm`); the
reader agent picks it up once (`eid_scan_pick_up`), asks right before touching the card whether
it may read now (`eid_scan_read_claim`), reads the card and posts a minimised result
(`eid_scan_complete`), or reports why it could not (`eid_scan_fail`). A consent arms exactly
one read: a scan is handed out once and claimed once; a refused result ends it (failed, with
the reason); staff may cancel it while it waits (`eid_scan_cancel`), and then it never reads.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.cache import cache_set
from core.errors import (
    ApplicationError,
    EidCardLinkedElsewhere,
    EidNameTooLong,
    ForbiddenPersonalField,
    GuardianConsentNeeded,
    InvalidInput,
    ScanAlreadyRead,
    ScanCancelled,
    ScanExpired,
    ScanNotFound,
    ScanNotWaiting,
    StoreForbidden,
)
from loyalty.eid_rules import eid_token_digest, eid_token_is_valid, forbidden_result_fields
from loyalty.models import (
    EID_GIVEN_NAMES_MAX_BYTES,
    EID_SURNAME_MAX_BYTES,
    EidCard,
    EidScan,
    Member,
    ReadMethod,
    ScanState,
)
from loyalty.privacy import member_subject_key
from loyalty.purposes import Channel, Purpose
from loyalty.services import member_enroll_anonymous_by_eid, member_enroll_by_eid
from loyalty.services.members import _clean_name
from privacy import services as privacy_services
from privacy.models import ConsentGiver, NoticeVersion
from privacy.receipts import consent_receipt_mail_put
from stores.models import ReaderDevice, Store

logger = logging.getLogger(__name__)

EID_PURPOSE = Purpose.EID_RECOGNITION
# Why a reader could not read the card, as the agent reports it.
FAILURE_CODES = frozenset(
    {
        "card_removed",
        "reader_unavailable",
        "card_unreadable",
        "no_card",
        "card_not_activated",
        "eid_name_too_long",
    }
)

# Allowed moves of a scan, in one place.
SCAN_TRANSITIONS: dict[str, frozenset[str]] = {
    ScanState.ARMED: frozenset(
        {ScanState.COMPLETED, ScanState.FAILED, ScanState.EXPIRED, ScanState.CANCELLED}
    ),
    ScanState.COMPLETED: frozenset(),
    ScanState.FAILED: frozenset(),
    ScanState.EXPIRED: frozenset(),
    ScanState.CANCELLED: frozenset(),
}


def _move(scan: EidScan, state: str, **fields) -> EidScan:
    if state not in SCAN_TRANSITIONS[scan.state]:
        raise ScanCancelled() if scan.state == ScanState.CANCELLED else ScanExpired()
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
    anonymous: bool = False,
    guardian_consent: bool = False,
) -> EidScan:
    """Record the customer's consent to reading their eID, then arm the reader for one card.

    Consent comes first (no consent, no read). It is recorded under a fresh pseudonymous
    subject, because the card may belong to nobody we know yet; `eid_scan_complete` ties it
    to the member once the card is read. `guardian_consent` records that a parent or guardian
    consented for a child; `anonymous` that the customer wants to be known by the card's hash
    only (no name read on applet 1.8 cards, none stored on any). Arming again replaces a scan
    still waiting: the earlier one is cancelled and never reads.
    """
    if device.store_id != store.pk or device.revoked_at is not None:
        raise StoreForbidden(_("This reader does not belong to this store or has been revoked."))
    if anonymous and link_member is not None:
        raise InvalidInput(details={"anonymous": [_("A card is linked to a member by name.")]})
    now = timezone.now()
    EidScan.objects.filter(device=device, state=ScanState.ARMED).update(
        state=ScanState.CANCELLED, finished_at=now
    )
    scan = EidScan(
        id=uuid.uuid4(),
        store=store,
        device=device,
        staff=staff,
        notice_language=notice_language,
        link_member=link_member,
        anonymous=anonymous,
        guardian_consent=guardian_consent,
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
        given_by=ConsentGiver.GUARDIAN if guardian_consent else ConsentGiver.SUBJECT,
    )
    scan.save(force_insert=True)
    # Wake the reader's wait (it looks at this flag, and at the database only now and then).
    seconds = int(_scan_ttl().total_seconds())
    transaction.on_commit(lambda: cache_set(eid_armed_key(device.pk), 1, seconds))
    return scan


def eid_armed_key(device_id: int) -> str:
    """Return the cache key flagging that a scan was armed for this reader since it last looked."""
    return f"eid:armed:{device_id}"


def eid_scan_pick_up(*, device: ReaderDevice) -> EidScan | None:
    """Hand the scan waiting for this reader to it, once; return None when there is none.

    A scan already handed out is not handed out again, so a reader that asks twice (a retry,
    a restart) cannot read a second card under one consent.
    """
    now = timezone.now()
    candidates = EidScan.objects.filter(
        device=device, state=ScanState.ARMED, expires_at__gt=now, picked_up_at__isnull=True
    ).order_by("created_at")
    for scan in candidates[:3]:
        claimed = EidScan.objects.filter(pk=scan.pk, picked_up_at__isnull=True).update(
            picked_up_at=now
        )
        if claimed:
            scan.picked_up_at = now
            return scan
    return None


def _scan_for_device(scan_id, device: ReaderDevice, *, lock: bool = True) -> EidScan:
    queryset = EidScan.objects.select_for_update() if lock else EidScan.objects
    try:
        return queryset.get(pk=uuid.UUID(str(scan_id)), device=device)
    except (EidScan.DoesNotExist, ValueError):
        raise ScanNotFound() from None


def _require_waiting(scan: EidScan) -> None:
    """Raise unless the scan still waits for its card (expiring it when its time is up)."""
    if scan.state == ScanState.CANCELLED:
        raise ScanCancelled()
    if scan.state != ScanState.ARMED or scan.expires_at <= timezone.now():
        if scan.state == ScanState.ARMED:
            _move(scan, ScanState.EXPIRED)
        raise ScanExpired()


def eid_scan_state_for_device(*, scan_id, device: ReaderDevice) -> str:
    """Return the scan's state as the reader should see it (an overdue scan is expired)."""
    scan = _scan_for_device(scan_id, device, lock=False)
    if scan.state == ScanState.ARMED and scan.expires_at <= timezone.now():
        return ScanState.EXPIRED
    return scan.state


def eid_scan_read_claim(*, scan_id, device: ReaderDevice) -> EidScan:
    """Let the reader read the card now, once; refuse a cancelled, expired or read scan.

    The agent calls this after the card is in the reader and before its first command, so
    a card inserted after Cancel is never read.
    """
    with transaction.atomic():
        scan = _scan_for_device(scan_id, device)
        try:
            _require_waiting(scan)
        except ScanExpired:
            expired = True
        else:
            expired = False
            if scan.read_started_at is not None:
                raise ScanAlreadyRead()
            scan.read_started_at = timezone.now()
            scan.save(update_fields=["read_started_at"])
    if expired:
        raise ScanExpired()  # outside the block, so the move to expired is kept
    return scan


@transaction.atomic
def eid_scan_cancel(*, scan: EidScan) -> EidScan:
    """Disarm a scan at once: it never reads a card. Cancelling twice is harmless."""
    scan = EidScan.objects.select_for_update().get(pk=scan.pk)
    if scan.state == ScanState.CANCELLED:
        return scan
    if scan.state != ScanState.ARMED:
        raise ScanNotWaiting()
    return _move(scan, ScanState.CANCELLED)


def eid_scan_complete(*, scan_id, device: ReaderDevice, payload: object) -> EidScan:
    """Take the agent's minimised result: recognise the member, create one, or link a card.

    Refuses, storing nothing, a result with a key not allowed or a value that looks like a
    national register number or a date, a malformed token, a name longer than the card format
    allows, a child's card without a guardian's consent, and a result for a scan whose consent
    is not on record. A refusal ends the scan (failed, with the refusal's code): the consent
    armed one read, and it was spent.
    """
    try:
        with transaction.atomic():
            return _complete(scan_id=scan_id, device=device, payload=payload)
    except (ScanNotFound, ScanExpired, ScanCancelled):
        raise
    except ApplicationError as exc:
        _fail_refused(scan_id=scan_id, device=device, code=exc.code)
        raise


def _fail_refused(*, scan_id, device: ReaderDevice, code: str) -> None:
    with transaction.atomic():
        try:
            scan = _scan_for_device(scan_id, device)
        except ScanNotFound:
            return
        if scan.state == ScanState.ARMED:
            _move(scan, ScanState.FAILED, failure_code=code[:40])


def _complete(*, scan_id, device: ReaderDevice, payload: object) -> EidScan:
    if not isinstance(payload, dict):
        raise InvalidInput(_("The scan result must be a JSON object."))
    forbidden = forbidden_result_fields(payload)
    scan = _scan_for_device(scan_id, device)
    if scan.anonymous:
        # An anonymous scan takes no name, not even to throw away.
        forbidden = sorted({*forbidden, *({"surname", "given_names"} & set(payload))})
    if forbidden:
        # The incident is logged with the field names only, never their values.
        logger.warning(
            "eID result refused: forbidden personal field(s) %s from device %s (store %s)",
            ",".join(forbidden),
            device.pk,
            device.store_id,
        )
        raise ForbiddenPersonalField(details={"fields": forbidden})
    _require_waiting(scan)
    privacy_services.consent_require(subject_key=scan.consent_subject, purpose=EID_PURPOSE)
    token = payload.get("eid_token")
    if not eid_token_is_valid(token):
        raise InvalidInput(details={"eid_token": ["Expected exactly 64 lower-case hex digits."]})
    read_method = payload.get("read_method", "")
    if read_method not in ("", *ReadMethod.values):
        raise InvalidInput(details={"read_method": ["Expected read_record or read_binary."]})
    child_card = payload.get("child_card", False)
    if not isinstance(child_card, bool):
        raise InvalidInput(details={"child_card": ["Expected true or false."]})
    if child_card and not scan.guardian_consent:
        raise GuardianConsentNeeded()
    names = None if scan.anonymous else _eid_names(payload)
    member, created = _match(scan=scan, token=eid_token_digest(token), names=names)
    privacy_services.consent_attach(
        from_key=scan.consent_subject, to_key=member_subject_key(member), purposes=[EID_PURPOSE]
    )
    if scan.link_member_id is not None and member.email:
        # A form member who links their card gets this consent's receipt by mail too (a card
        # recognised again at a purchase is not a new agreement worth a mail each visit).
        consent_receipt_mail_put(subject_key=member_subject_key(member))
    return _move(
        scan,
        ScanState.COMPLETED,
        member=member,
        member_created=created,
        read_method=read_method,
    )


def _eid_names(payload: dict) -> tuple[str, str]:
    """Return (surname, first given name), refusing names beyond the card format's sizes."""
    surname = payload.get("surname")
    given_names = payload.get("given_names", "")
    if not isinstance(surname, str) or not isinstance(given_names, str):
        raise InvalidInput(details={"surname": ["Expected the names as text."]})
    if (
        len(surname.encode("utf-8", "surrogatepass")) > EID_SURNAME_MAX_BYTES
        or len(given_names.encode("utf-8", "surrogatepass")) > EID_GIVEN_NAMES_MAX_BYTES
    ):
        raise EidNameTooLong()
    surname = _clean_name(surname, "surname", EID_SURNAME_MAX_BYTES)
    given_names = " ".join(given_names.split())
    if given_names:
        given_names = _clean_name(given_names, "given_names", EID_GIVEN_NAMES_MAX_BYTES)
    # Only the first given name is kept: enough to greet and to find the member.
    return surname, (given_names.split()[0] if given_names else "")


def _match(*, scan: EidScan, token: str, names: tuple[str, str] | None) -> tuple[Member, bool]:
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
    if names is None:
        return member_enroll_anonymous_by_eid(store=scan.store, eid_token=token), True
    surname, given_name = names
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
