"""Head office sees who read which members, and accounts that read too many in an hour."""

from datetime import timedelta

import pytest
from django.utils import timezone

from loyalty.models import MemberRead
from tests.dashboard.conftest import client_for
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db


def _reads(staff, store, members, *, at=None):
    at = at or timezone.now()
    MemberRead.objects.bulk_create(
        MemberRead(member=m, staff=staff, store=store, found_by="number", kind="lookup", read_at=at)
        for m in members
    )


def test_an_account_over_the_hourly_threshold_is_flagged(office, gent, gent_cashier, settings):
    # given: a threshold of 5 members an hour, and a cashier who read 6 in one hour
    settings.MEMBER_READS_ALERT_PER_HOUR = 5
    members = MemberFactory.create_batch(6, home_store=gent)
    _reads(gent_cashier, gent, members)
    # when
    page = office.get("/office/reads/")
    # then
    assert page.status_code == 200
    text = page.content.decode()
    assert 'role="alert"' in text and "kassa.gent" in text
    assert page.context["alerts"][0].busiest_hour == 6


def test_reads_under_the_threshold_raise_no_alert(office, gent, gent_cashier, settings):
    settings.MEMBER_READS_ALERT_PER_HOUR = 5
    members = MemberFactory.create_batch(5, home_store=gent)
    _reads(gent_cashier, gent, members)
    _reads(gent_cashier, gent, members[:1], at=timezone.now() - timedelta(hours=2))
    page = office.get("/office/reads/")
    assert page.context["alerts"] == []
    assert page.context["by_staff"][0].reads == 6


def test_one_members_reads_by_number(office, gent, gent_cashier):
    member = MemberFactory(home_store=gent)
    _reads(gent_cashier, gent, [member])
    page = office.get("/office/reads/", {"number": member.number})
    assert [r.staff for r in page.context["reads"]] == [gent_cashier]


def test_the_reads_page_is_for_head_office_only(manager, gent_cashier):
    assert client_for(manager).get("/office/reads/").status_code == 403
    response = client_for(gent_cashier).get("/office/reads/")
    assert response.status_code == 403
