"""Webhooks for the till or CRM: events written to an outbox in the transaction of the change,
delivered by Celery with retries and backoff, signed with each endpoint's secret.

`webhook_emit` writes one `WebhookDelivery` per endpoint subscribed to the event, in the
caller's transaction, and hands them to the broker once it commits. `webhook_deliver` posts
one (a worker's task); a failure moves its next attempt back (30 s, 1 min, 2 min ... up to
`WEBHOOK_MAX_ATTEMPTS`); `webhooks_sweep`, run every minute by beat, sends what is due again
(the broker was down, a worker was killed).

Every request carries `Webhook-Id`, `Webhook-Timestamp` and `Webhook-Signature:
v1=<hex HMAC-SHA256 of "<timestamp>.<body>" under the endpoint's secret>`: the receiver checks
it and refuses a timestamp older than a few minutes (a replay). docs/integration.md shows how.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import urllib.error
import urllib.request
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.cache import cache_delete, cache_get, cache_set
from loyalty.models import (
    Coupon,
    DeliveryState,
    EntryKind,
    LedgerEntry,
    Member,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from privacy.hashing import seal, unseal
from privacy.outbox import task_send
from stores.models import Store

logger = logging.getLogger(__name__)

_SEAL_DOMAIN = "webhook-secret"
_ENDPOINTS_KEY = "loyalty.webhooks.v1"
_ENDPOINTS_SECONDS = 300
# A claimed delivery is not claimed again for this long: one request's timeout and then some.
_LEASE = timedelta(seconds=60)
TIMEOUT_SECONDS = 10
# Outbox rows an INSERT: head office's bulk coupons write thousands at once.
OUTBOX_BATCH = 1000


def webhook_secret_new() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def webhook_sign(*, secret: str, timestamp: int, body: bytes) -> str:
    """Return the signature header's value for this body sent at this time."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"v1={mac.hexdigest()}"


def webhook_endpoint_add(
    *, name: str, url: str, events: list[str], created_by
) -> tuple[WebhookEndpoint, str]:
    """Add an endpoint; return it and its secret, which is shown this once."""
    secret = webhook_secret_new()
    endpoint = WebhookEndpoint.objects.create(
        name=name,
        url=url,
        events=sorted(set(events)),
        secret_sealed=seal(secret, domain=_SEAL_DOMAIN),
        created_by=created_by,
    )
    webhook_endpoints_forget()
    return endpoint, secret


def webhook_endpoint_set_active(*, endpoint: WebhookEndpoint, active: bool) -> WebhookEndpoint:
    endpoint.is_active = active
    endpoint.save(update_fields=["is_active"])
    webhook_endpoints_forget()
    return endpoint


def webhook_endpoints_forget() -> None:
    """Drop the cached subscriptions: now, for this transaction's own reads, and again once it
    commits (core.cache does both: a read in between elsewhere may have cached the old list)."""
    cache_delete(_ENDPOINTS_KEY, memo=True)


def _subscriptions() -> dict[str, list[int]]:
    """{event: [endpoint id, ...]} of the active endpoints, cached: the earn path asks."""
    found = cache_get(_ENDPOINTS_KEY, memo=True)
    if found is None:
        found = {}
        for pk, events in WebhookEndpoint.objects.filter(is_active=True).values_list(
            "pk", "events"
        ):
            for event in events:
                found.setdefault(event, []).append(pk)
        cache_set(_ENDPOINTS_KEY, found, _ENDPOINTS_SECONDS, memo=True)
    return found


def webhook_emit(
    event: str,
    *,
    data: dict,
    member: Member | None = None,
    at: datetime | None = None,
    endpoint_ids: list[int] | None = None,
) -> list[WebhookDelivery]:
    """Write this event for every endpoint subscribed to it, in the caller's transaction.

    `data` holds ids, codes and figures, never a name or an address: the member is named by
    their number, as the till knows them.
    """
    targets = _subscriptions().get(event, []) if endpoint_ids is None else endpoint_ids
    return _outbox_write(event, targets=targets, events=[(data, member)], at=at)


def webhook_emit_each(
    event: str, *, events: list[tuple[dict, Member | None]], at: datetime | None = None
) -> list[WebhookDelivery]:
    """Write one event of this type per (data, member) for every endpoint subscribed to it,
    in the caller's transaction: a few inserts however many (head office's bulk coupons)."""
    return _outbox_write(event, targets=_subscriptions().get(event, []), events=events, at=at)


def _outbox_write(
    event: str,
    *,
    targets: list[int],
    events: list[tuple[dict, Member | None]],
    at: datetime | None,
) -> list[WebhookDelivery]:
    if not targets or not events:
        return []
    at = at or timezone.now()
    rows = []
    for data, member in events:
        for endpoint_id in targets:
            row = WebhookDelivery(
                endpoint_id=endpoint_id,
                event=event,
                member=member,
                created_at=at,
                next_attempt_at=at,
            )
            row.payload = {
                "id": str(row.id),
                "type": event,
                "created_at": at.isoformat(),
                "data": data,
            }
            rows.append(row)
    WebhookDelivery.objects.bulk_create(rows, batch_size=OUTBOX_BATCH)
    ids = [str(r.pk) for r in rows]
    transaction.on_commit(lambda: _hand_over(ids))
    return rows


def subscribed(event: str) -> bool:
    """Whether any active endpoint wants this event (a cached read: the earn path asks)."""
    return bool(_subscriptions().get(event))


# What each ledger kind tells: a bonus is points earned, a return points taken back, an
# adjustment a correction by hand (the detail names who made it).
ENTRY_EVENTS = {
    EntryKind.EARN: WebhookEvent.POINTS_EARNED,
    EntryKind.BONUS: WebhookEvent.POINTS_EARNED,
    EntryKind.REDEEM: WebhookEvent.POINTS_REDEEMED,
    EntryKind.REVERSE: WebhookEvent.POINTS_REVERSED,
    EntryKind.RETURN: WebhookEvent.POINTS_REVERSED,
    EntryKind.ADJUST: WebhookEvent.POINTS_ADJUSTED,
    EntryKind.EXPIRE: WebhookEvent.POINTS_EXPIRED,
}


def entry_written(*, entry: LedgerEntry, member: Member, store: Store) -> None:
    """Tell the subscribers of a ledger entry's event (in the entry's transaction)."""
    event = ENTRY_EVENTS.get(entry.kind)
    if event is None or not subscribed(event):
        return
    webhook_emit(
        event,
        member=member,
        at=entry.created_at,
        data={
            "member": member.number,
            "store": store.code,
            "entry": entry.pk,
            "kind": entry.kind,
            "points": entry.points,
            "points_balance": entry.balance_after,
            "reference": entry.reference,
            "detail": entry.detail,
            "created_at": entry.created_at.isoformat(),
        },
    )


def tier_changed(*, member: Member, previous: str, at: datetime) -> None:
    if subscribed(WebhookEvent.TIER_CHANGED):
        webhook_emit(
            WebhookEvent.TIER_CHANGED,
            member=member,
            at=at,
            data={"member": member.number, "tier": member.tier, "previous_tier": previous},
        )


def coupons_issued(*, coupons: list[Coupon], member: Member | None, at: datetime) -> None:
    """Tell of new coupons: a campaign's, held by `member`, or head office's bulk ones, held
    by nobody yet (`member` None)."""
    if not coupons or not subscribed(WebhookEvent.COUPON_ISSUED):
        return
    number = member.number if member is not None else None
    webhook_emit_each(
        WebhookEvent.COUPON_ISSUED,
        at=at,
        events=[({"member": number, **_coupon_data(c)}, member) for c in coupons],
    )


def coupon_redeemed(*, coupon: Coupon, store: Store, at: datetime) -> None:
    if not subscribed(WebhookEvent.COUPON_REDEEMED):
        return
    member = coupon.member
    webhook_emit(
        WebhookEvent.COUPON_REDEEMED,
        member=member,
        at=at,
        data={
            "member": member.number if member is not None else None,
            "store": store.code,
            **_coupon_data(coupon),
        },
    )


def member_joined(*, member: Member, store: Store) -> None:
    """Tell who joined, by number and store: never how they joined (rule 2), nor their name."""
    if subscribed(WebhookEvent.MEMBER_JOINED):
        webhook_emit(
            WebhookEvent.MEMBER_JOINED,
            member=member,
            data={"member": member.number, "store": store.code},
        )


def _coupon_data(coupon: Coupon) -> dict:
    return {
        "code": coupon.code,
        "value": None if coupon.value is None else f"{coupon.value:.2f}",
        "product": coupon.product,
        "expires_at": coupon.expires_at.isoformat(),
    }


def _hand_over(ids: list[str]) -> None:
    from loyalty.tasks import webhook_deliver as task  # the tasks module imports the services

    for delivery_id in ids:
        exc = task_send(task.name, args=[delivery_id])
        if exc is not None:
            # The rows are the record: the sweeper sends them when the broker is back.
            logger.warning("webhooks: delivery not queued (%s); the sweeper sends it", exc)
            return


def retry_delay(attempts: int) -> timedelta:
    """Backoff after this many failed attempts: 30 s, 1 min, 2 min, ... at most 6 h."""
    base = settings.WEBHOOK_RETRY_BASE_SECONDS
    return timedelta(seconds=min(base * 2 ** (attempts - 1), 6 * 3600))


def _claim(delivery_id: str, now: datetime) -> WebhookDelivery | None:
    """Take the delivery for one attempt, unless it is done or another worker has it."""
    claimed = WebhookDelivery.objects.filter(
        pk=delivery_id, state=DeliveryState.PENDING, next_attempt_at__lte=now
    ).update(next_attempt_at=now + _LEASE)
    if not claimed:
        return None
    return WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)


def _post(
    endpoint: WebhookEndpoint, delivery: WebhookDelivery, now: datetime
) -> tuple[int | None, str]:
    """Post the delivery; return the HTTP status (None: no answer) and what went wrong."""
    secret = unseal(endpoint.secret_sealed, domain=_SEAL_DOMAIN)
    if secret is None:
        return None, "secret unreadable"
    body = json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True).encode()
    timestamp = int(now.timestamp())
    if not endpoint.url.startswith(("https://", "http://")):
        return None, "not an http(s) address"
    request = urllib.request.Request(  # noqa: S310 (the scheme is checked above)
        endpoint.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "loyalty-webhooks/1",
            "Webhook-Id": str(delivery.pk),
            "Webhook-Timestamp": str(timestamp),
            "Webhook-Signature": webhook_sign(secret=secret, timestamp=timestamp, body=body),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as answer:  # noqa: S310
            return answer.status, ""
    except urllib.error.HTTPError as exc:
        return exc.code, f"HTTP {exc.code}"
    except TimeoutError:
        return None, "timeout"
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return None, type(reason).__name__[:100]


def webhook_deliver(*, delivery_id: str, now: datetime | None = None) -> str | None:
    """Make one attempt at a due delivery; return its state after it (None: not due)."""
    now = now or timezone.now()
    delivery = _claim(delivery_id, now)
    if delivery is None:
        return None
    if not delivery.endpoint.is_active:
        status, error = None, "endpoint inactive"
    else:
        status, error = _post(delivery.endpoint, delivery, now)
    delivery.attempts += 1
    delivery.last_status = status
    fields = ["attempts", "last_status", "last_error", "state", "next_attempt_at"]
    if status is not None and 200 <= status < 300:
        delivery.state = DeliveryState.DELIVERED
        delivery.delivered_at = timezone.now()
        delivery.last_error = ""
        fields.append("delivered_at")
        if delivery.event == WebhookEvent.MEMBER_ERASED:
            # Told: the erased member's number goes from our log too.
            delivery.payload = _scrubbed(delivery.payload)
            fields.append("payload")
    else:
        delivery.last_error = error or f"HTTP {status}"
        if delivery.attempts >= settings.WEBHOOK_MAX_ATTEMPTS:
            delivery.state = DeliveryState.FAILED
            if delivery.event == WebhookEvent.MEMBER_ERASED:
                delivery.payload = _scrubbed(delivery.payload)
                fields.append("payload")
        else:
            delivery.next_attempt_at = now + retry_delay(delivery.attempts)
    delivery.save(update_fields=fields)
    return delivery.state


def _scrubbed(payload: dict) -> dict:
    return {k: v for k, v in payload.items() if k != "data"}


def webhooks_due(*, now: datetime | None = None, limit: int = 500) -> list[str]:
    """Return the ids of deliveries due for an attempt, oldest first."""
    now = now or timezone.now()
    return [
        str(pk)
        for pk in WebhookDelivery.objects.filter(
            state=DeliveryState.PENDING, next_attempt_at__lte=now
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    ]


def webhooks_sweep(*, now: datetime | None = None) -> int:
    """Hand every due delivery to the broker again; return how many."""
    ids = webhooks_due(now=now)
    _hand_over(ids)
    return len(ids)


def webhooks_member_erase(numbers: dict[int, str]) -> dict[int, dict[str, int]]:
    """At erasure (`numbers`: {member id: member number}): drop the members' deliveries not
    sent yet, empty the payload of the others, and tell each endpoint that had their data,
    and each subscribed to `member.erased`, by a `member.erased` event (rule 8).

    Returns per member id: deliveries dropped, deliveries kept without payload, endpoints
    told. Idempotent: once the member is gone (`numbers` names only members still there),
    a second call finds nothing.
    """
    counts = {
        pk: {"webhook_deliveries_dropped": 0, "webhook_deliveries_scrubbed": 0, "webhooks_told": 0}
        for pk in numbers
    }
    if not numbers:
        return counts
    rows = WebhookDelivery.objects.filter(member_id__in=list(numbers))
    had: dict[int, set[int]] = {pk: set() for pk in numbers}
    dropped: list[str] = []
    for pk, member_id, endpoint_id, state, attempts in rows.values_list(
        "pk", "member_id", "endpoint_id", "state", "attempts"
    ):
        if state == DeliveryState.PENDING and attempts == 0:
            # Never sent: nobody outside has it; it goes.
            dropped.append(pk)
            counts[member_id]["webhook_deliveries_dropped"] += 1
        else:
            had[member_id].add(endpoint_id)
            counts[member_id]["webhook_deliveries_scrubbed"] += 1
    WebhookDelivery.objects.filter(pk__in=dropped).delete()
    # Kept for the log (what was sent where, when), without the person: no payload, no member.
    # A delivery still being retried is sent as the erased event instead.
    WebhookDelivery.objects.filter(member_id__in=list(numbers), state=DeliveryState.PENDING).update(
        state=DeliveryState.FAILED, last_error="member erased"
    )
    for delivery in WebhookDelivery.objects.filter(member_id__in=list(numbers)).only("payload"):
        delivery.payload = _scrubbed(delivery.payload)
        delivery.member = None
        delivery.save(update_fields=["payload", "member"])
    subscribed = set(_subscriptions().get(WebhookEvent.MEMBER_ERASED, []))
    active = set(WebhookEndpoint.objects.filter(is_active=True).values_list("pk", flat=True))
    for member_id, number in numbers.items():
        told = sorted((had[member_id] & active) | subscribed)
        webhook_emit(WebhookEvent.MEMBER_ERASED, data={"member": number}, endpoint_ids=told)
        counts[member_id]["webhooks_told"] = len(told)
    return counts


def webhook_recipients_of(member_id: int) -> list[str]:
    """Name the endpoints that received this member's data (for the erasure ticket)."""
    endpoints = WebhookEndpoint.objects.filter(
        deliveries__member_id=member_id, deliveries__attempts__gt=0
    ).distinct()
    return [f"webhook: {e.name} ({_host(e.url)})" for e in endpoints.order_by("name")]


def webhook_endpoints_named() -> list[str]:
    """Name every active endpoint, for the processing record's recipients."""
    return [
        f"webhook: {e.name} ({_host(e.url)})"
        for e in WebhookEndpoint.objects.filter(is_active=True).order_by("name")
    ]


def _host(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).netloc
