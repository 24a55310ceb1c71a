"""The consent log's hash chain: what each record's hash covers, and checking the whole log.

Each record's hash is HMAC-SHA256 (key PRIVACY_HASH_KEY) over the previous record's hash and a
canonical JSON of the record. The JSON holds the keyed digest of the subject key, never the
key itself, so erasure can clear `subject_key` without breaking the chain; and an HMAC, not a
plain hash, so someone who can write to the database cannot recompute a forged tail.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings

from privacy.hashing import subject_digest
from privacy.models import ConsentLogHead, ConsentRecord

GENESIS_HASH = "0" * 64


def _utc(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def record_payload(record: ConsentRecord, *, notice_hash: str, refers_to_seq: int | None) -> dict:
    """Return exactly what the chain covers for one record.

    `given_by` joins the payload only when a guardian consented, so records written before
    the field existed keep their hashes.
    """
    payload = {
        "seq": record.seq,
        "subject": record.subject_digest,
        "purpose": record.purpose,
        "action": record.action,
        "notice": notice_hash,
        "language": record.language,
        "channel": record.channel,
        "store": record.store_id,
        "staff": record.staff_id,
        "device": record.device_id,
        "refers_to": refers_to_seq,
        "at": _utc(record.created_at),
    }
    if record.given_by and record.given_by != "subject":
        payload["given_by"] = record.given_by
    return payload


def record_hash(prev_hash: str, payload: dict) -> str:
    """Return the chained hash of a record given the previous record's hash."""
    message = prev_hash + "\n" + json.dumps(payload, sort_keys=True, separators=(",", ":"))
    key = settings.PRIVACY_HASH_KEY.encode()
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


def notice_content_hash(*, purpose: str, language: str, text: str) -> str:
    """Return the content hash that identifies a published notice text."""
    return hashlib.sha256(f"{purpose}\n{language}\n{text}".encode()).hexdigest()


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    broken_seq: int | None = None
    broken_id: int | None = None
    reason: str = ""


def consent_log_verify() -> ChainReport:
    """Walk the consent log in order and return where, if anywhere, the chain breaks."""
    previous_hash = GENESIS_HASH
    expected_seq = 1
    checked = 0
    records = (
        ConsentRecord.objects.select_related("notice", "refers_to")
        .order_by("seq")
        .only(
            "id",
            "seq",
            "subject_key",
            "subject_digest",
            "purpose",
            "action",
            "language",
            "channel",
            "given_by",
            "store_id",
            "staff_id",
            "device_id",
            "refers_to_id",
            "created_at",
            "prev_hash",
            "record_hash",
            "notice__purpose",
            "notice__language",
            "notice__text",
            "notice__content_hash",
            "refers_to__seq",
        )
    )
    for record in records.iterator(chunk_size=2000):

        def broken(reason: str, record=record, checked=checked) -> ChainReport:
            return ChainReport(False, checked, record.seq, record.pk, reason)

        if record.seq != expected_seq:
            return broken(f"record(s) missing before this one (expected #{expected_seq})")
        if record.prev_hash != previous_hash:
            return broken("link to the previous record does not match")
        notice = record.notice
        if notice.content_hash != notice_content_hash(
            purpose=notice.purpose, language=notice.language, text=notice.text
        ):
            return broken("the notice text it refers to was altered")
        refers_to_seq = record.refers_to.seq if record.refers_to_id else None
        if refers_to_seq is not None and refers_to_seq >= record.seq:
            return broken("refers to a record that is not earlier in the log")
        payload = record_payload(
            record, notice_hash=notice.content_hash, refers_to_seq=refers_to_seq
        )
        if record_hash(previous_hash, payload) != record.record_hash:
            return broken("record content was altered")
        if record.subject_key is not None and subject_digest(record.subject_key) != (
            record.subject_digest
        ):
            return broken("subject key does not match its digest")
        previous_hash = record.record_hash
        expected_seq += 1
        checked += 1
    head = ConsentLogHead.objects.filter(pk=1).first()
    if checked and (head is None or head.seq != checked or head.last_hash != previous_hash):
        return ChainReport(
            False, checked, checked + 1, None, "record(s) missing at the end of the log"
        )
    return ChainReport(True, checked)
