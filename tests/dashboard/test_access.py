"""Who gets into the dashboard: head office everything, managers their stores' figures only."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from dashboard.services import stats_recompute
from tests.dashboard.conftest import EntryKind, at, client_for, entry, member_joined

pytestmark = pytest.mark.django_db

HEAD_OFFICE_ONLY = [
    ("dashboard:tickets", []),
    ("dashboard:tickets_csv", []),
    ("dashboard:consent", []),
    ("dashboard:consent_csv", []),
    ("dashboard:stores", []),
    ("dashboard:stores_csv", []),
    ("dashboard:devices_csv", []),
    ("dashboard:store", ["GNT01"]),
    ("dashboard:rewards", []),
    ("dashboard:rewards_csv", []),
    ("dashboard:staff", []),
    ("dashboard:staff_csv", []),
    ("dashboard:notices", []),
    ("dashboard:notices_csv", []),
    ("dashboard:compliance", []),
    ("dashboard:processing_record", []),
]


@pytest.fixture
def two_stores(gent, liege):
    """Sales in Gent and in Liège on 2 March 2026, summarised."""
    member = member_joined(gent, at("2026-03-02 09:00"))
    entry(member, gent, EntryKind.EARN, 111, at("2026-03-02 10:00"))
    entry(member, liege, EntryKind.EARN, 777, at("2026-03-02 11:00"))
    stats_recompute(start=date(2026, 3, 1), end=date(2026, 3, 31))


PERIOD = {"start": "2026-03-01", "end": "2026-03-31"}


def test_anonymous_is_sent_to_the_login_page(client):
    response = client.get(reverse("dashboard:figures"))

    assert response.status_code == 302
    assert "login" in response["Location"]


@pytest.mark.parametrize(("name", "args"), [("dashboard:figures", []), *HEAD_OFFICE_ONLY])
def test_cashiers_do_not_get_in(gent_cashier, name, args):
    response = client_for(gent_cashier).get(reverse(name, args=args))

    assert response.status_code == 403


@pytest.mark.parametrize(("name", "args"), HEAD_OFFICE_ONLY)
def test_store_managers_do_not_see_the_privacy_queue_or_configuration(manager, name, args):
    response = client_for(manager).get(reverse(name, args=args))

    assert response.status_code == 403


@pytest.mark.parametrize(("name", "args"), [("dashboard:figures", []), *HEAD_OFFICE_ONLY])
def test_head_office_sees_everything(office, gent, name, args):
    response = office.get(reverse(name, args=args))

    assert response.status_code == 200


def test_head_office_sees_every_store_s_figures(office, two_stores):
    response = office.get(reverse("dashboard:figures"), PERIOD)

    assert response.context["f"].totals["points_issued"] == 888
    assert b"LIE01" in response.content
    assert b"Privacy queue" in response.content or b"Privacywachtrij" in response.content


def test_a_manager_sees_only_their_own_store_s_figures(manager, two_stores):
    client = client_for(manager)

    response = client.get(reverse("dashboard:figures"), PERIOD)

    f = response.context["f"]
    assert [s.code for s in f.stores] == ["GNT01"]
    assert f.totals["points_issued"] == 111
    assert b"LIE01" not in response.content
    assert reverse("dashboard:tickets").encode() not in response.content


def test_a_manager_cannot_ask_for_another_store(manager, two_stores, liege):
    client = client_for(manager)

    response = client.get(reverse("dashboard:figures"), {**PERIOD, "store": liege.pk})
    csv = client.get(
        reverse("dashboard:figures_csv", args=["stores"]), {**PERIOD, "store": liege.pk}
    )

    assert "store" in response.context["form"].errors
    assert [s.code for s in response.context["f"].stores] == ["GNT01"]
    body = b"".join(csv.streaming_content).decode()
    assert "LIE01" not in body
    assert "777" not in body
