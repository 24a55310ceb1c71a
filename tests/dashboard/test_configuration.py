"""Stores and configuration pages: readers, earning rules, campaigns, rewards, staff, notices."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from core.errors import DeviceRevoked
from loyalty.models import Reward
from loyalty.purposes import Purpose
from privacy.models import NoticeVersion
from stores.models import (
    Campaign,
    EarningRule,
    ReaderDevice,
    StaffAssignment,
    StaffRole,
    StaffToken,
)
from stores.services import reader_device_authenticate
from tests.dashboard.conftest import client_for
from tests.factories import RewardFactory, UserFactory, staff_token

pytestmark = pytest.mark.django_db


def test_register_a_reader_shows_its_token_once(office, gent, head_office):
    response = office.post(
        reverse("dashboard:device_register", args=["GNT01"]), {"name": "Kassa 2"}
    )

    assert response.status_code == 200
    assert (
        response["Cache-Control"].startswith("max-age=0") or "no-cache" in response["Cache-Control"]
    )
    token = response.context["new_token"]["token"]
    assert token in response.content.decode()
    device = ReaderDevice.objects.get(name="Kassa 2")
    assert device.created_by == head_office
    assert reader_device_authenticate(token=token) == device
    # the store page never shows it again
    again = office.get(reverse("dashboard:store", args=["GNT01"]))
    assert token not in again.content.decode()
    assert device.token_prefix in again.content.decode()


def test_revoke_a_reader(office, gent):
    response = office.post(
        reverse("dashboard:device_register", args=["GNT01"]), {"name": "Kassa 3"}
    )
    token = response.context["new_token"]["token"]
    device = ReaderDevice.objects.get(name="Kassa 3")

    office.post(reverse("dashboard:device_revoke", args=[device.pk]))

    device.refresh_from_db()
    assert device.revoked_at is not None
    with pytest.raises(DeviceRevoked):
        reader_device_authenticate(token=token)


def test_a_reader_needs_a_name(office, gent):
    response = office.post(reverse("dashboard:device_register", args=["GNT01"]), {"name": ""})

    assert response.status_code == 400
    assert not ReaderDevice.objects.exists()


def test_devices_csv(office, gent):
    office.post(reverse("dashboard:device_register", args=["GNT01"]), {"name": "Kassa 4"})

    body = b"".join(office.get(reverse("dashboard:devices_csv")).streaming_content).decode()

    assert "GNT01,Kassa 4,rd_" in body
    assert body.count("rd_") == 1  # the prefix only


def test_edit_the_earning_rule(office, gent):
    office.post(
        reverse("dashboard:store_rule", args=["GNT01"]),
        {"points_per_euro": "2.50", "rounding": "nearest", "minimum_purchase": "5"},
    )

    rule = EarningRule.objects.get(store=gent)
    assert (rule.points_per_euro, rule.rounding, rule.minimum_purchase) == (
        Decimal("2.50"),
        "nearest",
        Decimal("5.00"),
    )


def test_add_and_end_a_campaign(office, gent):
    now = timezone.localtime()
    office.post(
        reverse("dashboard:campaign_create", args=["GNT01"]),
        {
            "name": "Double points",
            "multiplier": "2",
            "starts_at": (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (now + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    campaign = Campaign.objects.get(store=gent)
    assert campaign.multiplier == 2

    office.post(reverse("dashboard:campaign_end", args=[campaign.pk]))

    campaign.refresh_from_db()
    assert campaign.ends_at <= timezone.now()


def test_a_campaign_ending_before_it_starts_is_refused(office, gent):
    response = office.post(
        reverse("dashboard:campaign_create", args=["GNT01"]),
        {
            "name": "Backwards",
            "multiplier": "2",
            "starts_at": "2026-05-02T10:00",
            "ends_at": "2026-05-01T10:00",
        },
    )

    assert response.status_code == 400
    assert not Campaign.objects.exists()


def test_add_and_withdraw_a_reward(office, gent, liege):
    office.post(
        reverse("dashboard:rewards"),
        {"name": "Cinema ticket", "description": "", "point_cost": "400", "stores": [gent.pk]},
    )
    reward = Reward.objects.get(name="Cinema ticket")
    assert list(reward.stores.all()) == [gent]

    office.post(reverse("dashboard:reward_active", args=[reward.pk]), {"active": "0"})

    reward.refresh_from_db()
    assert reward.is_active is False


def test_rewards_csv(office, gent):
    RewardFactory(name="Coffee", point_cost=50, stores=[gent])

    body = b"".join(office.get(reverse("dashboard:rewards_csv")).streaming_content).decode()

    assert "Coffee,50,yes,GNT01" in body


def test_give_a_role(office, gent):
    user = UserFactory(username="new.manager")

    office.post(
        reverse("dashboard:staff"),
        {"username": "new.manager", "role": StaffRole.STORE_MANAGER, "store": gent.pk},
    )

    assert StaffAssignment.objects.get(user=user).role == StaffRole.STORE_MANAGER


def test_head_office_revokes_a_cashier_s_api_tokens_from_the_staff_page(
    office, gent_cashier, head_office
):
    # given: the cashier logged in on two tills; head office on one
    staff_token(gent_cashier, device="Till 1")
    staff_token(gent_cashier, device="Till 2")
    staff_token(head_office)
    page = office.get(reverse("dashboard:staff"))
    url = reverse("dashboard:staff_tokens_revoke", args=[gent_cashier.pk])
    assert url in page.content.decode()

    # when
    response = office.post(url, follow=True)

    # then
    assert response.redirect_chain[-1][0] == reverse("dashboard:staff")
    assert "2 API-tokens van kassa.gent ingetrokken" in response.content.decode()
    assert not StaffToken.objects.filter(user=gent_cashier).exists()
    assert StaffToken.objects.filter(user=head_office).count() == 1
    assert url not in response.content.decode()  # no tokens left, no button


def test_a_cashier_cannot_revoke_tokens_from_the_office(gent, gent_cashier, head_office):
    staff_token(head_office)

    response = client_for(gent_cashier).post(
        reverse("dashboard:staff_tokens_revoke", args=[head_office.pk])
    )

    assert response.status_code == 403
    assert StaffToken.objects.filter(user=head_office).count() == 1


@pytest.mark.parametrize(
    ("data", "error_field"),
    [
        ({"username": "nobody", "role": "head_office"}, "username"),
        ({"username": "x", "role": "head_office", "store": "GNT"}, "store"),
        ({"username": "x", "role": "cashier"}, "store"),
    ],
)
def test_bad_roles_are_refused(office, gent, data, error_field):
    UserFactory(username="x")
    if data.get("store") == "GNT":
        data["store"] = gent.pk

    response = office.post(reverse("dashboard:staff"), data)

    assert response.status_code == 400
    assert error_field in response.context["form"].errors


def test_publish_a_notice_version_and_read_the_old_one(office):
    current = NoticeVersion.objects.filter(purpose=Purpose.MARKETING_EMAIL, language="nl").first()

    office.post(
        reverse("dashboard:notices"),
        {"purpose": "marketing_email", "language": "nl", "text": "Nieuwe tekst over aanbiedingen."},
    )

    latest = NoticeVersion.objects.filter(purpose="marketing_email", language="nl").order_by(
        "-version"
    )[0]
    assert latest.text == "Nieuwe tekst over aanbiedingen."
    assert latest.version == current.version + 1
    old = office.get(reverse("dashboard:notice", args=[current.pk]))
    assert current.text[:40] in old.content.decode()


def test_an_empty_notice_is_refused(office):
    before = NoticeVersion.objects.count()

    response = office.post(
        reverse("dashboard:notices"), {"purpose": "marketing_email", "language": "nl", "text": ""}
    )

    assert response.status_code == 400
    assert NoticeVersion.objects.count() == before


def test_the_stores_page_and_csv(office, gent, liege):
    page = office.get(reverse("dashboard:stores"))
    body = b"".join(office.get(reverse("dashboard:stores_csv")).streaming_content).decode()

    assert [s.code for s in page.context["stores"]] == ["GNT01", "LIE01"]
    assert body.startswith("\ufeffcode,naam,gemeente,taal,actief,punten per euro,afronding")
    assert "GNT01,Gent Korenmarkt,Gent,nl,ja,1.00,down,0.00" in body
