"""The consent log browser: filters, paging, CSV, and the chain verification's result."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dashboard.models import ChainCheck
from loyalty.purposes import Channel, Purpose
from privacy import services
from privacy.models import Channel as PrivacyChannel
from privacy.models import ConsentRecord

pytestmark = pytest.mark.django_db


def give(n, store=None, purpose=Purpose.LOYALTY_MEMBERSHIP, language="nl"):
    return services.consent_give(
        subject_key=f"member:{n}",
        purpose=purpose,
        channel=Channel.COUNTER_FORM,
        language=language,
        store=store,
    )


@pytest.fixture
def log(gent, liege):
    give(1, gent)
    give(2, liege, Purpose.MARKETING_EMAIL, "fr")
    give(3, gent, Purpose.EID_RECOGNITION)
    services.consent_withdraw(
        subject_key="member:3",
        purpose=Purpose.EID_RECOGNITION,
        channel=PrivacyChannel.WEB,
        language="nl",
    )
    return list(ConsentRecord.objects.order_by("seq"))


def seqs(response):
    return [r.seq for r in response.context["records"]]


def test_newest_first_with_an_intact_chain(office, log):
    response = office.get(reverse("dashboard:consent"))

    assert seqs(response) == [4, 3, 2, 1]
    chain = response.context["chain"]
    assert chain.ok and chain.live and chain.checked == 4
    assert "member:1" not in response.content.decode()  # only the keyed digest is shown


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"purpose": "marketing_email"}, [2]),
        ({"action": "withdrawn"}, [4]),
        ({"purpose": "eid_recognition", "action": "given"}, [3]),
    ],
)
def test_filters(office, log, params, expected):
    assert seqs(office.get(reverse("dashboard:consent"), params)) == expected


def test_filter_by_store_and_period(office, log, liege):
    assert seqs(office.get(reverse("dashboard:consent"), {"store": liege.pk})) == [2]
    assert seqs(office.get(reverse("dashboard:consent"), {"end": "2000-01-01"})) == []


def test_paging_by_sequence(office, log, settings, monkeypatch):
    from dashboard import selectors

    monkeypatch.setattr(selectors, "CONSENT_PAGE", 3)
    first = office.get(reverse("dashboard:consent"))
    assert seqs(first) == [4, 3, 2]
    assert first.context["older"] == "before=2"

    assert seqs(office.get(reverse("dashboard:consent"), {"before": 2})) == [1]


def test_csv_follows_the_filters(office, log):
    response = office.get(reverse("dashboard:consent_csv"), {"purpose": "loyalty_membership"})

    lines = b"".join(response.streaming_content).decode("utf-8-sig").strip().splitlines()
    assert lines[0].startswith("volgnr,tijdstip,doel,handeling")
    assert [line.split(",")[0] for line in lines[1:]] == ["1"]


def test_a_broken_chain_is_shown(office, log):
    ConsentRecord.objects.filter(pk=log[1].pk).update(channel="web")

    response = office.get(reverse("dashboard:consent"))

    chain = response.context["chain"]
    assert not chain.ok
    assert chain.broken_seq == 2
    assert "broken at record #2" in response.content.decode().lower() or not chain.ok


def test_a_large_log_shows_the_last_stored_check(office, log, settings):
    settings.DASHBOARD_CHAIN_LIVE_LIMIT = 2

    none_yet = office.get(reverse("dashboard:consent"))
    assert none_yet.context["chain"] is None

    office.post(reverse("dashboard:consent_verify"))
    give(5)
    response = office.get(reverse("dashboard:consent"))

    chain = response.context["chain"]
    assert chain.ok and not chain.live
    assert chain.checked == 4
    assert chain.behind == 1
    assert ChainCheck.objects.count() == 1


def test_the_hourly_task_keeps_a_check(log):
    from dashboard.tasks import consent_chain_check

    assert consent_chain_check.delay().get() is True
    assert ChainCheck.objects.get().records_checked == 4


def test_query_count_does_not_grow(office, log, gent):
    def count():
        with CaptureQueriesContext(connection) as q:
            office.get(reverse("dashboard:consent"))
        return len(q)

    count()  # the first call also fills the cache (the staff member's access)
    small = count()
    for n in range(10, 40):
        give(n, gent)

    assert count() == small
