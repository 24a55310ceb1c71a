"""The figures page: charts, tables, CSV exports, and a query count that ignores the data size."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from dashboard.models import FiguresWatermark, StoreDayStats
from dashboard.services import stats_recompute
from loyalty.models import JoinChannel
from tests.dashboard.conftest import EntryKind, at, client_for, entry, member_joined
from tests.factories import RewardFactory, StoreFactory

pytestmark = pytest.mark.django_db

PERIOD = {"start": "2026-03-01", "end": "2026-03-31"}


def read_csv(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(body)))


@pytest.fixture
def march(gent, liege):
    coffee = RewardFactory(name="Coffee", point_cost=50, stores=[gent, liege])
    form = member_joined(gent, at("2026-03-02 09:00"))
    eid = member_joined(gent, at("2026-03-03 09:00"), joined_via=JoinChannel.EID, email=None)
    member_joined(liege, at("2026-03-09 09:00"))
    entry(form, gent, EntryKind.EARN, 100, at("2026-03-02 10:00"))
    entry(eid, gent, EntryKind.EARN, 60, at("2026-03-10 10:00"))
    entry(form, gent, EntryKind.REDEEM, -50, at("2026-03-10 11:00"), reward=coffee)
    entry(eid, liege, EntryKind.EXPIRE, -7, at("2026-03-20 03:00"))
    stats_recompute(start=date(2026, 3, 1), end=date(2026, 3, 31))


def test_the_page_shows_figures_and_charts(office, march):
    response = office.get(reverse("dashboard:figures"), PERIOD)

    assert response.status_code == 200
    f = response.context["f"]
    assert f.totals["new_members_form"] == 2
    assert f.totals["new_members_eid"] == 1
    assert (f.totals["points_issued"], f.totals["points_redeemed"]) == (160, 50)
    assert f.totals["points_expired"] == 7
    html = response.content.decode()
    assert html.count("<svg") >= 5
    assert "67 %" in html  # share of form members
    assert [w["week"] for w in f.weeks] == [date(2026, 3, 2), date(2026, 3, 9), date(2026, 3, 16)]
    assert f.months[0]["chain"] == 2


def test_one_store_can_be_chosen(office, march, liege):
    response = office.get(reverse("dashboard:figures"), {**PERIOD, "store": liege.pk})

    f = response.context["f"]
    assert [s.code for s in f.stores] == ["LIE01"]
    assert (f.totals["new_members_form"], f.totals["points_expired"]) == (1, 7)


def test_an_empty_period_renders(office, gent):
    response = office.get(
        reverse("dashboard:figures"), {"start": "2020-01-01", "end": "2020-01-31"}
    )

    assert response.status_code == 200
    assert response.context["f"].totals["points_issued"] == 0


def test_a_reversed_period_is_refused_politely(office, gent):
    response = office.get(
        reverse("dashboard:figures"), {"start": "2026-03-31", "end": "2026-03-01"}
    )

    assert response.status_code == 200
    assert response.context["form"].errors


@pytest.mark.parametrize(
    ("key", "header", "expected"),
    [
        ("stores", "winkel", [["GNT01", "1", "1", "2", "160", "50", "0", "0", "0", "1"]]),
        ("rewards", "beloning", [["Coffee", "1", "50"]]),
        ("active", "maand", [["2026-03", "2", "2", "0"]]),  # an expiry is no activity
    ],
)
def test_every_table_exports_as_csv(office, march, key, header, expected):
    response = office.get(reverse("dashboard:figures_csv", args=[key]), PERIOD)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = read_csv(response)
    assert rows[0][0] == header
    assert rows[1 : 1 + len(expected)] == expected


def test_the_csv_speaks_the_reader_s_language(office, march):
    office.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"

    rows = read_csv(office.get(reverse("dashboard:figures_csv", args=["stores"]), PERIOD))

    assert rows[0][:3] == ["magasin", "nouveaux membres (formulaire)", "nouveaux membres (eID)"]


def test_the_weekly_csv(office, march):
    rows = read_csv(office.get(reverse("dashboard:figures_csv", args=["weeks"]), PERIOD))

    assert rows[0] == [
        "week vanaf",
        "nieuwe leden (formulier)",
        "nieuwe leden (eID)",
        "punten toegekend",
        "punten ingewisseld",
        "punten vervallen",
        "inwisselingen",
    ]
    assert rows[1] == ["2026-03-02", "1", "1", "100", "0", "0", "0"]
    assert rows[2] == ["2026-03-09", "1", "0", "60", "50", "0", "1"]


def test_an_unknown_table_is_404(office, gent):
    assert office.get(reverse("dashboard:figures_csv", args=["nope"])).status_code == 404


def _grow(stores, days: int) -> None:
    """Add stores' worth of sales, rewards and members over many days, then summarise."""
    rewards = [RewardFactory(name=f"R{n}", stores=stores) for n in range(6)]
    start = date(2026, 1, 1)
    for n, store in enumerate(stores):
        member = member_joined(store, at("2026-01-01 08:00"))
        for d in range(0, days, 3):
            when = at(f"{start + timedelta(days=d)} 1{n % 10}:00")
            entry(member, store, EntryKind.EARN, 10 + d, when)
            entry(member, store, EntryKind.REDEEM, -5, when, reward=rewards[d % len(rewards)])
    stats_recompute(start=start, end=start + timedelta(days=days))


def _queries(client, url, params) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url, params).status_code == 200
    return len(captured)


@pytest.mark.parametrize("who", ["head_office", "manager"])
def test_the_query_count_does_not_grow_with_the_data(
    who, head_office, manager, gent, django_assert_max_num_queries
):
    client = client_for(head_office if who == "head_office" else manager)
    url = reverse("dashboard:figures")
    params = {"start": "2026-01-01", "end": "2026-12-31"}
    _grow([gent], days=6)
    _queries(client, url, params)  # the first call also fills the cache (the caller's access)
    small = _queries(client, url, params)

    _grow([gent, *(StoreFactory() for _ in range(5))], days=200)
    with django_assert_max_num_queries(small):
        client.get(url, params)
    assert _queries(client, url, params) == small
    assert small <= 10


def test_without_a_scheduler_the_page_shows_todays_purchases(office, gent, settings):
    # given: tasks in-process (a newcomer's `make run`: no Celery beat refreshes the figures)
    from loyalty.services import points_earn
    from tests.factories import MemberFactory

    settings.CELERY_TASK_ALWAYS_EAGER = True
    office.get(reverse("dashboard:figures"))
    points_earn(member=MemberFactory(home_store=gent), store=gent, staff=None, amount="42")
    FiguresWatermark.objects.update(refreshed_at=timezone.now() - timedelta(minutes=5))

    # when
    response = office.get(reverse("dashboard:figures"))

    # then
    assert response.context["f"].totals["points_issued"] == 42


def test_with_a_scheduler_the_page_only_reads(
    office, gent, settings, django_assert_max_num_queries
):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    with django_assert_max_num_queries(12):
        office.get(reverse("dashboard:figures"))
    assert not StoreDayStats.objects.exists()
