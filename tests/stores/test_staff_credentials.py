"""A new password or a deactivated account revokes every API token, by whatever path."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import PasswordChangeForm
from django.test import Client
from django.utils import timezone

from stores.models import StaffToken
from stores.services import staff_deactivate, staff_password_set
from tests.factories import staff_token

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-new-long-passphrase-42"


@pytest.fixture
def tokens(cashier) -> list[str]:
    return [staff_token(cashier, device="Till 1"), staff_token(cashier, device="Till 2")]


@pytest.fixture
def admin_client(db) -> Client:
    client = Client()
    root = get_user_model().objects.create_superuser("root", "root@example.invalid", "pw")
    client.force_login(root)
    return client


def held(user) -> int:
    return StaffToken.objects.filter(user=user).count()


def test_the_service_setting_a_password_revokes_the_tokens(cashier, tokens):
    staff_password_set(user=cashier, password=NEW_PASSWORD)

    assert held(cashier) == 0
    cashier.refresh_from_db()
    assert cashier.check_password(NEW_PASSWORD)


def test_the_service_deactivating_revokes_the_tokens(cashier, tokens):
    staff_deactivate(user=cashier)

    assert held(cashier) == 0
    cashier.refresh_from_db()
    assert cashier.is_active is False


def test_set_password_and_save_anywhere_revokes_the_tokens(cashier, tokens):
    # when: the way `manage.py changepassword` or a shell does it
    cashier.set_password(NEW_PASSWORD)
    cashier.save()

    # then
    assert held(cashier) == 0


def test_django_s_password_change_form_revokes_the_tokens(cashier, tokens):
    form = PasswordChangeForm(
        cashier,
        {
            "old_password": "pw-for-tests-only",
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )
    assert form.is_valid(), form.errors

    form.save()

    assert held(cashier) == 0


def test_the_admin_password_form_revokes_the_tokens(admin_client, cashier, tokens):
    response = admin_client.post(
        f"/admin/auth/user/{cashier.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )

    assert response.status_code == 302, response.content[:500]
    assert held(cashier) == 0


def test_unticking_active_in_the_admin_revokes_the_tokens(admin_client, cashier, tokens):
    # given: the admin's user form as filled in, with "active" unticked (not sent)
    joined = timezone.localtime(cashier.date_joined)
    data = {
        "username": cashier.username,
        "first_name": "",
        "last_name": "",
        "email": "",
        "date_joined_0": joined.strftime("%Y-%m-%d"),
        "date_joined_1": joined.strftime("%H:%M:%S"),
    }

    # when
    response = admin_client.post(f"/admin/auth/user/{cashier.pk}/change/", data)

    # then
    assert response.status_code == 302, response.context["adminform"].form.errors
    cashier.refresh_from_db()
    assert cashier.is_active is False
    assert held(cashier) == 0


def test_other_saves_of_an_active_user_keep_the_tokens(cashier, tokens):
    # given: what a login writes, and an edit of the name
    cashier.save(update_fields=["last_login"])
    cashier.first_name = "Lotte"
    cashier.save()

    # then
    assert held(cashier) == 2


def test_the_admin_never_shows_a_token_or_its_hash(admin_client, cashier, tokens):
    # given
    [row] = StaffToken.objects.filter(device="Till 1").values("id", "digest", "token_key")

    # when
    pages = [
        admin_client.get("/admin/stores/stafftoken/"),
        admin_client.get(f"/admin/stores/stafftoken/{row['id']}/change/"),
    ]

    # then: the list and the (read-only) detail show who and which device, nothing secret
    for page in pages:
        assert page.status_code == 200
        text = page.content.decode()
        assert "Till 1" in text
        assert row["digest"] not in text and row["token_key"] not in text
        assert tokens[0] not in text
    assert admin_client.get("/admin/stores/stafftoken/add/").status_code == 403
    assert admin_client.get("/admin/knox/authtoken/").status_code == 404
    assert admin_client.get("/admin/authtoken/tokenproxy/").status_code == 404
