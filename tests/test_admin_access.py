"""The admin answers to the same access rule as the rest: `is_staff` alone does not open it."""

import pytest
from django.test import Client

from loyalty.models import Member
from tests.factories import HeadOfficeFactory, MemberFactory, StaffFactory

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_cashier_flagged_staff_is_kept_out(store):
    cashier = StaffFactory(store=store, is_staff=True)
    response = _client(cashier).get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_head_office_is_let_in(store):
    head = HeadOfficeFactory(is_staff=True, is_superuser=False)
    assert _client(head).get("/admin/").status_code == 200


def test_members_cannot_be_deleted_in_the_admin(store, admin_client):
    # A member leaves only through erasure, which also unlinks what refers to them.
    member = MemberFactory(home_store=store)
    page = admin_client.get(f"/admin/loyalty/member/{member.pk}/delete/")
    assert page.status_code == 403
    admin_client.post(
        "/admin/loyalty/member/", {"action": "delete_selected", "_selected_action": [member.pk]}
    )
    assert Member.objects.filter(pk=member.pk).exists()
