"""docs/integration.md is run as written: its curl examples, in order, against a live server,
and its webhook check against the webhooks that sale sent."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from loyalty.models import Coupon, EntryKind, LedgerEntry, WebhookEvent
from loyalty.services import webhooks
from stores.services import campaign_compose
from tests.factories import EarningRuleFactory, MemberFactory, StaffFactory, StoreFactory
from tests.loyalty.test_webhooks import Receiver

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not (shutil.which("curl") and shutil.which("jq")), reason="needs curl and jq"
    ),
]

DOC = Path(settings.BASE_DIR) / "docs" / "integration.md"


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC.read_text(), re.S)


@pytest.fixture
def receiver():
    found = Receiver()
    yield found
    found.close()


def test_the_till_walkthrough_runs_as_written(live_server, receiver):
    # given: the store of the examples, a cashier, a member, a campaign that issues a coupon
    store = StoreFactory(code="GNT01", name="Gent Centrum", city="Gent", language="nl")
    EarningRuleFactory(store=store, points_per_euro=Decimal("1"))
    StaffFactory(username="kassa.gent", store=store)
    member = MemberFactory(home_store=store)
    campaign_compose(
        name="Voucher from EUR 20",
        starts_at=timezone.now() - timedelta(days=1),
        ends_at=timezone.now() + timedelta(days=1),
        minimum_amount=Decimal("20"),
        coupon_value=Decimal("3"),
    )
    _endpoint, secret = webhooks.webhook_endpoint_add(
        name="Till CRM", url=receiver.url, events=list(WebhookEvent.values), created_by=None
    )
    script = "set -euo pipefail\n" + "\n".join(blocks("sh"))
    env = {
        "PATH": os.environ["PATH"],
        "BASE": live_server.url,
        "TILL_USER": "kassa.gent",
        "TILL_PASSWORD": "pw-for-tests-only",
        "CARD": member.number,
    }

    # when
    run = subprocess.run(
        ["bash", "-c", script], env=env, capture_output=True, text=True, timeout=120
    )

    # then: every call answered 2xx (curl -f), and the sale is in the ledger as the page says
    assert run.returncode == 0, run.stderr
    kinds = list(
        LedgerEntry.objects.filter(member=member).order_by("pk").values_list("kind", flat=True)
    )
    assert kinds == [EntryKind.EARN, EntryKind.REDEEM, EntryKind.RETURN]
    coupon = Coupon.objects.get(member=member)
    assert coupon.redeemed_at is not None and coupon.redeemed_store == store
    earned = LedgerEntry.objects.get(member=member, kind=EntryKind.EARN)
    assert earned.reference == "T-000123" and earned.points == 24
    returned = LedgerEntry.objects.get(member=member, kind=EntryKind.RETURN)
    assert returned.points == -9  # 10.00 of 24.90 back: 24 x 10 / 24.90, rounded down

    # and: the webhooks of that sale, checked by the page's own function (a worker on Redis
    # delivers them after the calls answered: a busy machine may take a moment)
    deadline = time.monotonic() + 30
    while len(receiver.requests) < 5 and time.monotonic() < deadline:
        time.sleep(0.1)
    events = [json.loads(r["body"]) for r in receiver.requests]
    assert [e["type"] for e in events] == [
        "points.earned",
        "coupon.issued",
        "points.redeemed",
        "coupon.redeemed",
        "points.reversed",
    ]
    namespace: dict = {}
    exec(blocks("python")[0], namespace)  # noqa: S102 (the documentation's own example)
    genuine = namespace["webhook_is_genuine"]
    for request in receiver.requests:
        assert genuine(secret, request["headers"], request["body"])
        assert not genuine(secret, request["headers"], request["body"] + b" ")
        assert not genuine("whsec_another", request["headers"], request["body"])
    # The example body on the page has the keys a points.earned event has.
    [example] = [json.loads(b) for b in blocks("json")]
    assert example.keys() == events[0].keys()
    assert example["data"].keys() == events[0]["data"].keys()
