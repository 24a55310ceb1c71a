"""A store manager registers their own stores' readers, if head office lets them (issue 13)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from stores.models import ChainSettings, ReaderDevice
from stores.services import chain_settings_save, reader_device_register
from tests.dashboard.conftest import client_for

pytestmark = pytest.mark.django_db


def _allow(on: bool = True) -> None:
    chain_settings_save(name="", privacy_contact="", site_url="", managers_register_readers=on)


def _in(client: Client, language: str) -> Client:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


def test_a_manager_registers_and_revokes_a_reader_of_their_store(manager, gent, liege):
    # given: head office lets managers register readers; Liège has one of its own
    _allow()
    reader_device_register(store=liege, name="Liège till")
    client = _in(client_for(manager), "en")

    # when: the manager opens their readers and registers one for Gent
    page = client.get(reverse("dashboard:readers"))
    created = client.post(
        reverse("dashboard:reader_register", kwargs={"code": gent.code}), {"name": "Till 2"}
    )

    # then: their store only, and the new token shown this once
    assert page.status_code == 200
    html = page.content.decode()
    assert gent.name in html and liege.name not in html and "Liège till" not in html
    assert f'href="{reverse("dashboard:readers")}"' in html  # in the manager's navigation
    assert created.status_code == 200
    device = ReaderDevice.objects.get(name="Till 2")
    assert (device.store, device.created_by) == (gent, manager)
    assert device.token_prefix in created.content.decode()
    assert 'data-testid="device-token">rd_' in created.content.decode()
    # and the manager revokes it
    revoked = client.post(reverse("dashboard:reader_revoke", kwargs={"pk": device.pk}))
    assert revoked.status_code == 302
    device.refresh_from_db()
    assert device.revoked_at is not None


def test_a_nameless_reader_is_refused_with_the_form(manager, gent):
    _allow()
    response = client_for(manager).post(
        reverse("dashboard:reader_register", kwargs={"code": gent.code}), {"name": ""}
    )
    assert response.status_code == 400
    assert not ReaderDevice.objects.exists()


@pytest.mark.parametrize(
    ("language", "says"),
    [
        ("nl", "Het hoofdkantoor registreert de eID-lezers."),
        ("fr", "Le siège enregistre les lecteurs eID."),
    ],
)
def test_without_head_office_s_leave_the_page_says_who_registers(manager, gent, language, says):
    client = _in(client_for(manager), language)

    page = client.get(reverse("dashboard:readers"))
    figures = client.get(reverse("dashboard:figures"))

    assert page.status_code == 403
    assert says in page.content.decode()
    assert f'href="{reverse("dashboard:readers")}"' not in figures.content.decode()


def test_head_office_switches_it_on_the_chain_page(office):
    form = {"name": "", "privacy_contact": "", "site_url": "", "managers_register_readers": "on"}

    assert office.post(reverse("dashboard:chain"), form).status_code == 302
    assert ChainSettings.objects.get().managers_register_readers is True
    page = _in(office, "en").get(reverse("dashboard:chain")).content.decode()
    assert "Registered by head office and by store managers" in page
    del form["managers_register_readers"]
    office.post(reverse("dashboard:chain"), form)
    assert ChainSettings.objects.get().managers_register_readers is False


def test_the_api_follows_the_same_switch(manager, gent):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(manager)
    url = reverse("api:device-list", kwargs={"store_code": gent.code})

    refused = api.post(url, {"name": "Till 3"}, format="json")
    _allow()
    created = api.post(url, {"name": "Till 3"}, format="json")

    assert refused.status_code == 403 and refused.json()["code"] == "store_forbidden"
    assert created.status_code == 201 and created.json()["token"].startswith("rd_")
