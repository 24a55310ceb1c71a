"""The consent log: give, withdraw, require, and carry consent over to a member.

Purposes and channels are the ones apps registered (`privacy.registry`). Consent can come
before the person is known (loyalty's eID scan: consent before the card is read, often before
the member exists):

1. `key = consent_subject_new()` when staff arm a scan, then `consent_give(subject_key=key,
   purpose=..., ...)` with the notice shown to the customer;
2. `consent_require(subject_key=key, purpose=...)` before processing (reading the card): it
   raises ConsentMissing otherwise (no consent, no processing);
3. once the subject is known (a member found or newly enrolled), `consent_attach(from_key=key,
   to_key="member:<id>")` appends records for them that refer to the first ones. Records are
   never changed, only appended.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from core.errors import ChannelInvalid, ConsentMissing, InvalidInput, PurposeInvalid
from privacy.chain import GENESIS_HASH, record_hash, record_payload
from privacy.hashing import subject_digest
from privacy.models import (
    ConsentAction,
    ConsentGiver,
    ConsentLogHead,
    ConsentRecord,
    NoticeVersion,
    PrivacyTicket,
    TicketKind,
    TicketSource,
)
from privacy.registry import registry
from privacy.selectors import consent_in_force, consent_latest, notice_current
from privacy.services.tickets import ticket_open_for_subject
from stores.models import CustomerLanguage, ReaderDevice, Store

logger = logging.getLogger(__name__)

ALL_PURPOSES = "all"
SUBJECT_KEY_MAX = 64


def consent_subject_new() -> str:
    """Return a fresh pseudonymous subject key for consent given before the person is known."""
    return f"scan:{uuid.uuid4().hex}"


def _check_key(subject_key: str) -> str:
    prefix, sep, rest = str(subject_key or "").partition(":")
    if not sep or not prefix or not rest or len(subject_key) > SUBJECT_KEY_MAX:
        raise InvalidInput(details={"subject_key": ["Expected '<kind>:<id>'."]})
    return subject_key


def _check_purpose(purpose: str) -> None:
    if purpose not in registry.purposes:
        raise PurposeInvalid()


def _check_where(channel: str, language: str) -> None:
    if channel not in registry.channels:
        raise ChannelInvalid()
    if language not in CustomerLanguage.values:
        raise InvalidInput(details={"language": ["Choose nl, fr, de or en."]})


def _check(purpose: str, channel: str, language: str) -> None:
    _check_purpose(purpose)
    _check_where(channel, language)


def _withdrawal_erases(purpose: str) -> bool:
    """Return whether withdrawing `purpose` ends the relationship (Art. 17(1)(b))."""
    return purpose == ALL_PURPOSES or registry.purposes[purpose].erases_on_withdrawal


def _lock_head() -> ConsentLogHead:
    head = ConsentLogHead.objects.select_for_update().filter(pk=1).first()
    if head is None:
        last = ConsentRecord.objects.order_by("-seq").first()
        ConsentLogHead.objects.get_or_create(
            pk=1,
            defaults={
                "seq": last.seq if last else 0,
                "last_hash": last.record_hash if last else GENESIS_HASH,
            },
        )
        head = ConsentLogHead.objects.select_for_update().get(pk=1)
    return head


def _chained(
    *,
    seq: int,
    prev_hash: str,
    subject_key: str,
    notice: NoticeVersion,
    staff: AbstractBaseUser | None,
    refers_to: ConsentRecord | None = None,
    at: datetime | None = None,
    **fields,
) -> ConsentRecord:
    """Return the (unsaved) record `seq` of the log, chained to `prev_hash`, hash computed."""
    record = ConsentRecord(
        seq=seq,
        subject_key=subject_key,
        subject_digest=subject_digest(subject_key),
        notice=notice,
        staff=staff if staff is not None and staff.is_authenticated else None,
        refers_to=refers_to,
        created_at=at or timezone.now(),
        prev_hash=prev_hash,
        **fields,
    )
    payload = record_payload(
        record,
        notice_hash=notice.content_hash,
        refers_to_seq=refers_to.seq if refers_to else None,
    )
    record.record_hash = record_hash(prev_hash, payload)
    return record


def _append(
    *,
    subject_key: str,
    purpose: str,
    action: str,
    notice: NoticeVersion,
    language: str,
    channel: str,
    store: Store | None,
    staff: AbstractBaseUser | None,
    device: ReaderDevice | None,
    refers_to: ConsentRecord | None = None,
    at: datetime | None = None,
    given_by: str = ConsentGiver.SUBJECT,
) -> ConsentRecord:
    """Append one record to the log under the head lock, chained to the one before it."""
    with transaction.atomic():
        head = _lock_head()
        record = _chained(
            seq=head.seq + 1,
            prev_hash=head.last_hash,
            subject_key=subject_key,
            notice=notice,
            staff=staff,
            refers_to=refers_to,
            at=at,
            purpose=purpose,
            action=action,
            language=language,
            channel=channel,
            given_by=given_by,
            store=store,
            device=device,
        )
        record.save()
        head.seq = record.seq
        head.last_hash = record.record_hash
        head.save(update_fields=["seq", "last_hash"])
    return record


@dataclass(frozen=True)
class ConsentGrant:
    """One consent for `consent_give_many`: what `consent_give` takes, for one subject."""

    subject_key: str
    purpose: str
    channel: str
    language: str
    store: Store | None = None
    staff: AbstractBaseUser | None = None


def consent_give_many(*, grants: list[ConsentGrant], batch_size: int = 2000) -> int:
    """Record many consents at once (data loads, the demo), chained as `consent_give` does.

    Each grant is shown the current notice for its purpose and language. One head lock and one
    bulk insert per batch instead of three statements per record. Returns how many were added.
    """
    notices: dict[tuple[str, str], NoticeVersion] = {}
    for grant in grants:
        _check_key(grant.subject_key)
        _check(grant.purpose, grant.channel, grant.language)
        key = (grant.purpose, grant.language)
        if key not in notices:
            notices[key] = notice_current(purpose=grant.purpose, language=grant.language)
    for start in range(0, len(grants), batch_size):
        with transaction.atomic():
            head = _lock_head()
            seq, last_hash, records = head.seq, head.last_hash, []
            for grant in grants[start : start + batch_size]:
                seq += 1
                record = _chained(
                    seq=seq,
                    prev_hash=last_hash,
                    subject_key=grant.subject_key,
                    notice=notices[(grant.purpose, grant.language)],
                    staff=grant.staff,
                    purpose=grant.purpose,
                    action=ConsentAction.GIVEN,
                    language=grant.language,
                    channel=grant.channel,
                    given_by=ConsentGiver.SUBJECT,
                    store=grant.store,
                )
                last_hash = record.record_hash
                records.append(record)
            ConsentRecord.objects.bulk_create(records)
            head.seq, head.last_hash = seq, last_hash
            head.save(update_fields=["seq", "last_hash"])
    logger.info("%s consent record(s) given in bulk", len(grants))
    return len(grants)


def consent_give(
    *,
    subject_key: str,
    purpose: str,
    channel: str,
    language: str,
    store: Store | None = None,
    staff: AbstractBaseUser | None = None,
    device: ReaderDevice | None = None,
    notice: NoticeVersion | None = None,
    given_by: str = ConsentGiver.SUBJECT,
) -> ConsentRecord:
    """Record that the subject consents to `purpose`, having been shown `notice`.

    `notice` defaults to the current version for the purpose and language; pass the version
    actually shown when the screen may be older than a new publication. `given_by` says
    whether a parent or guardian consented for a child.
    """
    if given_by not in ConsentGiver.values:
        raise InvalidInput(details={"given_by": ["Unknown consent giver."]})
    _check_key(subject_key)
    _check(purpose, channel, language)
    notice = notice or notice_current(purpose=purpose, language=language)
    if notice.purpose != purpose or notice.language != language:
        raise InvalidInput(details={"notice": ["This notice is for another purpose or language."]})
    record = _append(
        subject_key=subject_key,
        purpose=purpose,
        action=ConsentAction.GIVEN,
        notice=notice,
        language=language,
        channel=channel,
        store=store,
        staff=staff,
        device=device,
        given_by=given_by,
    )
    logger.info("consent #%s given: %s via %s", record.seq, purpose, channel)
    return record


def consent_require(*, subject_key: str, purpose: str) -> ConsentRecord:
    """Return the record of the subject's consent for `purpose`, or raise ConsentMissing.

    Call it right before processing data for the purpose (e.g. before reading an eID card).
    """
    _check_purpose(purpose)
    record = consent_in_force(subject_key=str(subject_key or ""), purpose=purpose)
    if record is None:
        raise ConsentMissing(details={"purpose": purpose})
    return record


@transaction.atomic
def consent_attach(
    *, from_key: str, to_key: str, purposes: list[str] | None = None
) -> list[ConsentRecord]:
    """Carry consent given under a provisional key over to the subject it turned out to be.

    For each purpose (default: all) consented under `from_key`, append a record for `to_key`
    that refers to the original: same notice, language, channel, store, staff and device.
    Idempotent: a purpose already carried over from that record is not appended again.
    """
    _check_key(from_key)
    _check_key(to_key)
    attached = []
    for purpose in purposes or list(registry.purposes):
        source = consent_in_force(subject_key=from_key, purpose=purpose)
        if source is None:
            continue
        current = consent_latest(subject_key=to_key, purpose=purpose)
        if current is not None and current.refers_to_id == source.pk:
            attached.append(current)
            continue
        attached.append(
            _append(
                subject_key=to_key,
                purpose=purpose,
                action=ConsentAction.GIVEN,
                notice=source.notice,
                language=source.language,
                channel=source.channel,
                store=source.store,
                staff=source.staff,
                device=source.device,
                refers_to=source,
                given_by=source.given_by,
            )
        )
    if purposes and not attached:
        raise ConsentMissing(details={"purposes": list(purposes)})
    return attached


@dataclass
class Withdrawal:
    records: list[ConsentRecord] = field(default_factory=list)
    erasure_ticket: PrivacyTicket | None = None
    # What the apps' withdrawal hooks undid, per kind, where they say (e.g. eID links removed).
    counts: dict[str, int] = field(default_factory=dict)


@transaction.atomic
def consent_withdraw(
    *,
    subject_key: str,
    purpose: str,
    channel: str,
    language: str,
    store: Store | None = None,
    staff: AbstractBaseUser | None = None,
    device: ReaderDevice | None = None,
) -> Withdrawal:
    """Withdraw consent for a purpose, or "all", in one action; undo what it allowed.

    Records the withdrawal against the current notice in `language`, then runs the apps'
    withdrawal hooks (e.g. loyalty unlinks the eID card; the member keeps number and points).
    Withdrawing the membership or everything also opens an erasure ticket, already verified:
    staff at the counter saw the customer, or the customer is signed in.
    """
    _check_key(subject_key)
    if purpose != ALL_PURPOSES:
        _check(purpose, channel, language)
        purposes = [purpose]
    else:
        _check_where(channel, language)
        # Every purpose in force, and always the ones whose withdrawal ends the relationship.
        purposes = [
            p.code
            for p in registry.purposes.values()
            if p.erases_on_withdrawal
            or consent_in_force(subject_key=subject_key, purpose=p.code) is not None
        ]
    result = Withdrawal()
    for p in purposes:
        latest = consent_latest(subject_key=subject_key, purpose=p)
        if latest is None or latest.action != ConsentAction.WITHDRAWN:
            result.records.append(
                _append(
                    subject_key=subject_key,
                    purpose=p,
                    action=ConsentAction.WITHDRAWN,
                    notice=notice_current(purpose=p, language=language),
                    language=language,
                    channel=channel,
                    store=store,
                    staff=staff,
                    device=device,
                )
            )
        for hook in registry.withdrawal_hooks.get(p, []):
            undone = hook(subject_key)
            if isinstance(undone, dict):
                for kind, n in undone.items():
                    result.counts[kind] = result.counts.get(kind, 0) + int(n)
    logger.info(
        "consent withdrawn: %s via %s (%s record(s))", purpose, channel, len(result.records)
    )
    if _withdrawal_erases(purpose):
        result.erasure_ticket = ticket_open_for_subject(
            kind=TicketKind.ERASURE,
            subject_key=subject_key,
            source=TicketSource.WITHDRAWAL,
            store=store,
            by=staff,
            language=language,
        )
    return result
