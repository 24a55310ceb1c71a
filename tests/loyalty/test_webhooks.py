"""Webhooks: an outbox row in the change's transaction, delivered signed to a real HTTP server,
retried with backoff, named as a recipient, told of erasures, and erased from the log."""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import re
import threading
from datetime import timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from loyalty import services
from loyalty.models import DeliveryState, WebhookDelivery, WebhookEndpoint, WebhookEvent
from loyalty.privacy import member_subject_key
from loyalty.services import webhooks
from privacy.registry import registry
from privacy.selectors import processing_record, ticket_proof
from tests.factories import EarningRuleFactory, HeadOfficeFactory, MemberFactory
from tests.privacy.conftest import erase_at_counter

pytestmark = pytest.mark.django_db


class Receiver:
    """A till's webhook endpoint on localhost: records each request, answers `statuses` in
    turn (then 200)."""

    def __init__(self):
        self.requests: list[dict] = []
        self.statuses: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append({"headers": dict(self.headers), "body": body})
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def events(self) -> list[dict]:
        return [json.loads(r["body"]) for r in self.requests]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    found = Receiver()
    yield found
    found.close()


@pytest.fixture
def endpoint(receiver):
    with transaction.atomic():
        endpoint, secret = webhooks.webhook_endpoint_add(
            name="Till CRM",
            url=receiver.url,
            events=[e.value for e in WebhookEvent],
            created_by=None,
        )
    webhooks.webhook_endpoints_forget()
    endpoint.secret = secret
    return endpoint


def earn(member, store, amount="12.00", key="sale-1"):
    return services.points_earn(
        member=member, store=store, staff=None, amount=amount, idempotency_key=key
    )


def test_an_earn_is_delivered_signed_over_timestamp_and_body(
    endpoint, receiver, store, run_on_commit
):
    EarningRuleFactory(store=store, points_per_euro=Decimal("1"))
    member = MemberFactory(home_store=store)

    with run_on_commit():
        entry = earn(member, store)

    [request] = receiver.requests
    headers, body = request["headers"], request["body"]
    expected = hmac.new(
        endpoint.secret.encode(),
        headers["Webhook-Timestamp"].encode() + b"." + body,
        hashlib.sha256,
    ).hexdigest()
    assert headers["Webhook-Signature"] == f"v1={expected}"
    assert abs(int(headers["Webhook-Timestamp"]) - timezone.now().timestamp()) < 60
    event = json.loads(body)
    assert event["type"] == "points.earned" and event["id"] == headers["Webhook-Id"]
    assert (
        event["data"] | {"member": member.number, "store": "GNT01", "points": 12} == event["data"]
    )
    assert event["data"]["entry"] == entry.pk and event["data"]["points_balance"] == 12
    # Who the member is stays here: no name, address or how they joined.
    for value in (member.given_name, member.surname, member.email, member.joined_via):
        assert value not in body.decode()
    delivery = WebhookDelivery.objects.get()
    assert (delivery.state, delivery.attempts, delivery.last_status) == ("delivered", 1, 200)


def test_the_outbox_row_is_written_with_the_change_or_not_at_all(endpoint, receiver, store):
    EarningRuleFactory(store=store, points_per_euro=Decimal("1"))
    member = MemberFactory(home_store=store)

    with pytest.raises(RuntimeError), transaction.atomic():
        earn(member, store)
        assert WebhookDelivery.objects.filter(event="points.earned").count() == 1
        raise RuntimeError("the sale failed after the earn")

    assert not WebhookDelivery.objects.exists()
    earn(member, store, key="sale-2")
    # Committed (the broker not reached here): the row waits for the sweep.
    assert WebhookDelivery.objects.get().state == DeliveryState.PENDING


def test_nothing_is_written_for_an_event_nobody_subscribed_to(receiver, store, run_on_commit):
    with transaction.atomic():
        webhooks.webhook_endpoint_add(
            name="Joins only", url=receiver.url, events=["member.joined"], created_by=None
        )
    webhooks.webhook_endpoints_forget()
    EarningRuleFactory(store=store, points_per_euro=Decimal("1"))

    with run_on_commit():
        earn(MemberFactory(home_store=store), store)

    assert not WebhookDelivery.objects.exists() and receiver.requests == []


def test_a_failing_endpoint_is_retried_with_backoff_then_given_up(
    endpoint, receiver, store, settings
):
    settings.WEBHOOK_MAX_ATTEMPTS = 3
    receiver.statuses = [500, 503, 500]
    member = MemberFactory(home_store=store)
    now = timezone.now()
    [row] = webhooks.webhook_emit("member.joined", data={"member": member.number}, at=now)

    assert webhooks.webhook_deliver(delivery_id=str(row.pk), now=now) == "pending"
    row.refresh_from_db()
    assert (row.attempts, row.last_status, row.last_error) == (1, 500, "HTTP 500")
    assert row.next_attempt_at == now + timedelta(seconds=30)
    # Not due before its time: neither the sweep nor a second task sends it.
    assert webhooks.webhooks_due(now=now + timedelta(seconds=29)) == []
    assert webhooks.webhook_deliver(delivery_id=str(row.pk), now=now) is None

    later = now + timedelta(seconds=30)
    assert webhooks.webhooks_due(now=later) == [str(row.pk)]
    assert webhooks.webhook_deliver(delivery_id=str(row.pk), now=later) == "pending"
    row.refresh_from_db()
    assert row.next_attempt_at == later + timedelta(seconds=60)
    last = later + timedelta(seconds=60)
    assert webhooks.webhook_deliver(delivery_id=str(row.pk), now=last) == "failed"
    assert len(receiver.requests) == 3
    # Each attempt signed anew, the same event id.
    assert {r["headers"]["Webhook-Id"] for r in receiver.requests} == {str(row.pk)}


def test_an_unreachable_endpoint_is_retried_too(store, settings):
    with transaction.atomic():
        webhooks.webhook_endpoint_add(
            name="Gone", url="http://127.0.0.1:9/hooks", events=["member.joined"], created_by=None
        )
    webhooks.webhook_endpoints_forget()
    now = timezone.now()
    [row] = webhooks.webhook_emit("member.joined", data={"member": "1"}, at=now)

    assert webhooks.webhook_deliver(delivery_id=str(row.pk), now=now) == "pending"

    row.refresh_from_db()
    assert row.last_status is None and row.last_error
    assert row.next_attempt_at == now + timedelta(seconds=30)


def _webhook_eraser():
    return next(e for e in registry.erasers_in_order() if e.name == "loyalty.webhooks")


def test_the_endpoint_is_a_recipient_told_of_the_erasure(
    endpoint, receiver, store, cashier, run_on_commit
):
    EarningRuleFactory(store=store, points_per_euro=Decimal("1"))
    member = MemberFactory(home_store=store)
    bystander = MemberFactory(home_store=store)
    with run_on_commit():
        earn(member, store)
        earn(bystander, store, key="sale-2")
    key = member_subject_key(member)
    number = member.number

    with run_on_commit():
        ticket = erase_at_counter(member, store, cashier)

    ticket.refresh_from_db()
    proof = ticket_proof(ticket)
    assert proof["state"] == "completed"
    port = receiver.server.server_port
    assert f"webhook: Till CRM (127.0.0.1:{port})" in proof["recipients_to_notify"]
    assert proof["counts"]["loyalty.webhooks.webhooks_told"] == 1
    assert proof["counts"]["loyalty.webhooks.webhook_deliveries_scrubbed"] == 1
    erased = receiver.events()[-1]
    assert erased["type"] == "member.erased" and erased["data"] == {"member": number}
    # The log keeps that something was sent, not about whom: the number went with the delivery.
    log = json.dumps(list(WebhookDelivery.objects.values("payload", "member")), default=str)
    assert number not in log
    assert bystander.number in log
    assert WebhookDelivery.objects.filter(member__isnull=True).count() == 2
    # A second run finds nothing and tells nobody again.
    assert _webhook_eraser().erase_batch([key])[key]["webhooks_told"] == 0
    assert len(receiver.requests) == 3


def test_a_delivery_not_sent_yet_goes_with_the_member(endpoint, store):
    member = MemberFactory(home_store=store)
    webhooks.webhook_emit("member.joined", member=member, data={"member": member.number})
    key = member_subject_key(member)

    counts = _webhook_eraser().erase_batch([key])[key]

    assert counts["webhook_deliveries_dropped"] == 1
    assert list(WebhookDelivery.objects.values_list("event", flat=True)) == ["member.erased"]


def test_the_processing_record_names_every_endpoint(endpoint):
    activities = {a["code"]: a for a in processing_record()["activities"]}

    assert any("Till CRM" in r for r in activities["loyalty_membership"]["recipients"])


def test_coupon_and_tier_events_reach_the_endpoint(endpoint, receiver, store, run_on_commit):
    from stores.services import campaign_compose, tier_save

    EarningRuleFactory(store=store, points_per_euro=Decimal("1"))
    tier_save(code="silver", name="Silver", threshold=10, multiplier=Decimal("1"))
    campaign_compose(
        name="Voucher",
        starts_at=timezone.now() - timedelta(days=1),
        ends_at=timezone.now() + timedelta(days=1),
        coupon_value=Decimal("3"),
    )
    member = MemberFactory(home_store=store)

    with run_on_commit():
        earn(member, store, amount="20.00")
    code = next(e["data"]["code"] for e in receiver.events() if e["type"] == "coupon.issued")
    with run_on_commit():
        services.coupon_redeem(code=code, store=store, staff=None, member=member)

    types = [e["type"] for e in receiver.events()]
    assert types == ["points.earned", "tier.changed", "coupon.issued", "coupon.redeemed"]
    tier = next(e for e in receiver.events() if e["type"] == "tier.changed")
    assert tier["data"] == {"member": member.number, "tier": "silver", "previous_tier": ""}


def test_the_office_adds_an_endpoint_shows_its_secret_once_and_the_log(client, receiver):
    client.force_login(HeadOfficeFactory())
    url = reverse("dashboard:webhooks")

    added = client.post(
        url, {"name": "Kassa", "url": receiver.url, "events": ["points.earned", "member.erased"]}
    )

    assert added.status_code == 200
    endpoint = WebhookEndpoint.objects.get()
    secret = added.context["secret"]
    assert secret.startswith("whsec_") and secret in added.content.decode()
    assert secret not in endpoint.secret_sealed
    assert endpoint.events == ["member.erased", "points.earned"]
    webhooks.webhook_emit("points.earned", data={"member": "1"})
    page = client.get(url).content.decode()
    assert secret not in page
    assert "points.earned" in page and "Kassa" in page

    client.post(reverse("dashboard:webhook_active", args=[endpoint.pk]), {"active": "0"})
    endpoint.refresh_from_db()
    assert not endpoint.is_active
    assert not webhooks.subscribed("points.earned")


def test_the_office_refuses_an_address_that_is_not_http(client):
    client.force_login(HeadOfficeFactory())

    refused = client.post(
        reverse("dashboard:webhooks"),
        {"name": "Files", "url": "ftp://till.example/hooks", "events": ["points.earned"]},
    )

    assert refused.status_code == 400 and not WebhookEndpoint.objects.exists()


def test_the_integration_guide_lists_every_event():
    guide = (Path(settings.BASE_DIR) / "docs" / "integration.md").read_text()
    listed = guide.split("the events it wants", 1)[1].split("Each event is", 1)[0]

    assert set(re.findall(r"`([a-z]+\.[a-z]+)`", listed)) == set(WebhookEvent.values)


def test_a_manual_adjustment_is_sent_as_points_adjusted(endpoint, receiver, store, run_on_commit):
    member = MemberFactory(home_store=store)
    office = HeadOfficeFactory(username="office.anna")

    with run_on_commit():
        entry = services.points_adjust(
            member=member, store=store, staff=office, points=15, reference="goodwill"
        )
    with run_on_commit():
        services.points_adjust(
            member=member, store=store, staff=office, points=-5, reference="typo"
        )

    events = receiver.events()
    assert [e["type"] for e in events] == ["points.adjusted", "points.adjusted"]
    expected = {
        "member": member.number,
        "store": "GNT01",
        "entry": entry.pk,
        "kind": "adjust",
        "points": 15,
        "points_balance": 15,
        "reference": "goodwill",
        "detail": [{"reason": "adjustment", "by": "office.anna", "points": 15}],
    }
    assert {k: events[0]["data"][k] for k in expected} == expected
    assert (events[1]["data"]["points"], events[1]["data"]["points_balance"]) == (-5, 10)
    for request in receiver.requests:
        for value in (member.given_name, member.surname, member.email, member.joined_via):
            assert value not in request["body"].decode()


def test_bulk_coupons_are_each_sent_as_coupon_issued(endpoint, receiver, run_on_commit):
    with run_on_commit():
        coupons = services.coupons_issue_bulk(count=3, value=Decimal("2"), product="", valid_days=5)

    events = receiver.events()
    assert [e["type"] for e in events] == ["coupon.issued"] * 3
    # Held by nobody yet: the code and what it is worth, as a campaign's coupon says it.
    assert [e["data"] for e in events] == [
        {
            "member": None,
            "code": c.code,
            "value": "2.00",
            "product": "",
            "expires_at": c.expires_at.isoformat(),
        }
        for c in coupons
    ]
    assert WebhookDelivery.objects.filter(member__isnull=True, state="delivered").count() == 3


def _delivery_sql(queries) -> list[str]:
    return [q["sql"] for q in queries if "webhook" in q["sql"].lower()]


def test_thousands_of_bulk_coupons_go_to_the_outbox_in_a_few_inserts(endpoint):
    assert webhooks.subscribed("coupon.issued")  # the subscriptions read once, cached

    with CaptureQueriesContext(connection) as queries:
        coupons = services.coupons_issue_bulk(
            count=2500, value=None, product="Coffee", valid_days=30
        )

    # then: as many rows an INSERT as the database takes parameters for (SQLite: 83)
    fields = WebhookDelivery._meta.concrete_fields
    per_insert = min(webhooks.OUTBOX_BATCH, connection.ops.bulk_batch_size(fields, coupons))
    inserts = [q for q in _delivery_sql(queries) if q.lstrip().upper().startswith("INSERT")]
    assert len(inserts) == math.ceil(2500 / per_insert) and per_insert > 50
    assert len(_delivery_sql(queries)) == len(inserts)
    assert WebhookDelivery.objects.filter(event="coupon.issued").count() == 2500
    sent = set(WebhookDelivery.objects.values_list("payload__data__code", flat=True).order_by())
    assert sent == {c.code for c in coupons}


def test_bulk_coupons_are_written_to_the_outbox_with_the_change_or_not_at_all(endpoint):
    with pytest.raises(RuntimeError), transaction.atomic():
        services.coupons_issue_bulk(count=5, value=Decimal("1"), product="", valid_days=5)
        assert WebhookDelivery.objects.filter(event="coupon.issued").count() == 5
        raise RuntimeError("head office's batch failed after the issue")

    assert not WebhookDelivery.objects.exists()


def test_bulk_coupons_nobody_subscribed_to_write_and_ask_nothing(receiver, run_on_commit):
    with transaction.atomic():
        webhooks.webhook_endpoint_add(
            name="Joins only", url=receiver.url, events=["member.joined"], created_by=None
        )
    webhooks.webhook_endpoints_forget()
    assert not webhooks.subscribed("coupon.issued")  # the subscriptions read once, cached

    with CaptureQueriesContext(connection) as queries, run_on_commit():
        services.coupons_issue_bulk(count=1500, value=Decimal("1"), product="", valid_days=5)

    assert _delivery_sql(queries) == []
    assert not WebhookDelivery.objects.exists() and receiver.requests == []
