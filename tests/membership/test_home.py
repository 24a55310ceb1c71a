"""The chain's public home: found at /, names the chain, its contact, notices and the requests."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from stores import services as store_services
from stores.models import ChainSettings
from tests.factories import HeadOfficeFactory

pytestmark = pytest.mark.django_db

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
    b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)


def test_root_is_the_customers_home_with_the_privacy_centre(client, settings):
    settings.CHAIN_NAME = "Winkels Demo"

    response = client.get("/", HTTP_ACCEPT_LANGUAGE="fr")

    page = response.content.decode()
    assert response.status_code == 200
    assert "Winkels Demo" in page
    assert reverse("privacy:erasure-request").replace("/nl/", "/fr/") in page
    assert "/fr/privacy/access/" in page
    assert "/fr/privacy/eid/" in page
    assert settings.DEFAULT_FROM_EMAIL in page  # the data-protection contact by default
    # every purpose's notice, in French
    assert "Pouvons-nous lire votre carte eID" in page or "Souhaitez-vous recevoir" in page


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("nl", "Vraag een kopie van uw gegevens"),
        ("fr", "Demandez une copie de vos données"),
        ("de", "Eine Kopie Ihrer Daten anfordern"),
        ("en", "Ask for a copy of your data"),
    ],
)
def test_home_in_each_customer_language_with_links_to_the_others(client, language, expected):
    response = client.get(f"/{language}/")

    page = response.content.decode()
    assert expected in page
    assert f'<html lang="{language}">' in page
    for other in {"nl", "fr", "de", "en"} - {language}:
        assert f'href="/{other}/"' in page


def test_german_notices_are_published():
    from privacy.selectors import notice_current

    assert "Einwilligung" in notice_current(purpose="eid_recognition", language="de").text
    assert notice_current(purpose="marketing_email", language="de").text.startswith("Möchten")


def test_head_office_sets_name_logo_contact_and_site(client, settings):
    office = HeadOfficeFactory(username="ho")
    client.force_login(office)

    response = client.post(
        reverse("dashboard:chain"),
        {
            "name": "Maison Dupont",
            "privacy_contact": "dpo@dupont.example",
            "site_url": "https://fidelite.dupont.example",
            "logo": _upload("logo.png", PNG),
        },
    )

    assert response.status_code == 302
    home = client.get("/en/").content.decode()
    assert "Maison Dupont" in home
    assert "dpo@dupont.example" in home
    row = ChainSettings.objects.get()
    logo_url = reverse("chain-logo", args=[f"{row.updated_at:%Y%m%d%H%M%S%f}"])
    assert logo_url in home
    logo = client.get(logo_url)
    assert logo.content == PNG and logo["Content-Type"] == "image/png"
    assert "max-age=86400" in logo["Cache-Control"]


def test_an_svg_or_a_path_is_refused(client):
    office = HeadOfficeFactory(username="ho")
    client.force_login(office)

    svg = client.post(
        reverse("dashboard:chain"),
        {"name": "X", "logo": _upload("logo.svg", b"<svg onload='alert(1)'></svg>")},
    )
    path = client.post(reverse("dashboard:chain"), {"site_url": "https://a.example/shop"})

    assert svg.status_code == 400 and path.status_code == 400
    assert not ChainSettings.objects.filter(logo_type__gt="").exists()


def test_a_cashier_cannot_change_the_chain(client, cashier):
    client.force_login(cashier)

    assert client.post(reverse("dashboard:chain"), {"name": "Mine"}).status_code == 403
    assert not ChainSettings.objects.exists()


def test_mails_link_to_the_configured_site_else_the_setting(
    settings, member_with_email, django_capture_on_commit_callbacks
):
    from privacy.models import TicketKind
    from privacy.services import ticket_request_public

    settings.SITE_URL = "http://127.0.0.1:8123"
    with django_capture_on_commit_callbacks(execute=True):
        ticket_request_public(
            kind=TicketKind.ACCESS,
            identifier=member_with_email.email,
            language="de",
            client_ip="1",
        )
    store_services.chain_settings_save(
        name="Dupont", privacy_contact="dpo@dupont.example", site_url="https://shop.example"
    )
    with django_capture_on_commit_callbacks(execute=True):
        ticket_request_public(
            kind=TicketKind.ERASURE,
            identifier=member_with_email.email,
            language="fr",
            client_ip="1",
        )

    first, second = mail.outbox
    assert "http://127.0.0.1:8123/de/privacy/confirm/" in first.body
    assert "http://127.0.0.1:8123/de/" in first.body  # the home, at the end of every mail
    assert "https://shop.example/fr/privacy/confirm/" in second.body
    assert "dpo@dupont.example" in second.body and "Dupont" in second.subject + second.body


def test_staff_pages_stay_in_the_staff_languages(client, cashier):
    client.force_login(cashier)
    client.cookies["django_language"] = "de"

    page = client.get("/counter/", HTTP_ACCEPT_LANGUAGE="de, fr;q=0.8", follow=True)

    assert '<html lang="fr">' in page.content.decode()


def _upload(name, content):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content)
