"""The compliance self-check: forbidden fields, the chain, overdue tickets, retention, Art. 30."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone, translation

from dashboard.selectors import compliance_report, schema_forbidden_fields
from loyalty.purposes import Channel, Purpose
from privacy import services
from privacy.models import ConsentRecord
from tests.factories import (
    EidCardFactory,
    MemberFactory,
    PrivacyTicketFactory,
    RetentionRunFactory,
)

pytestmark = pytest.mark.django_db


def field(name: str, cls=models.CharField, **kwargs) -> models.Field:
    f = cls(max_length=20, **kwargs) if cls is models.CharField else cls(**kwargs)
    f.set_attributes_from_name(name)
    return f


@pytest.mark.parametrize("language", ["en", "nl", "fr", "de"])
def test_the_real_schema_has_no_forbidden_field(language):
    # verbose names are translated: "logo image" in English, "logo" in Dutch
    with translation.override(language):
        assert schema_forbidden_fields() == []


@pytest.mark.parametrize(
    ("name", "category"),
    [
        ("national_number", "national number"),
        ("rijksregisternummer", "national number"),
        ("insz", "national number"),
        ("birth_date", "birth date"),
        ("date_of_birth", "birth date"),
        ("dob", "birth date"),
        ("gender", "gender"),
        ("sex", "gender"),
        ("street_address", "address"),
        ("postcode", "address"),
        ("photo", "photo"),
        ("card_picture", "photo"),
    ],
)
def test_a_forbidden_field_is_detected(name, category):
    findings = schema_forbidden_fields([field(name)])

    assert [(f.field, f.category) for f in findings] == [(name, category)]


@pytest.mark.parametrize("name", ["gebeurtenissen", "events_niss", "member_insz"])
def test_niss_and_insz_are_words_not_letters_inside_one(name):
    found = [f.category for f in schema_forbidden_fields([field(name)])]

    assert found == ([] if name == "gebeurtenissen" else ["national number"])


def test_image_fields_count_as_photos_and_email_is_allowed():
    image = field("scan", models.FileField)
    email = field("email_address", models.EmailField)
    site = field("site_address", models.URLField)  # the chain's web address, not a home

    assert [f.category for f in schema_forbidden_fields([image, email, site])] == ["photo"]


def test_a_web_or_mail_address_field_is_no_postal_address_but_may_be_a_photo():
    # given: fields whose type says they hold a web, mail or network address
    site = field("site_address", models.URLField)
    portrait = field("portrait_url", models.URLField)
    selfie = field("selfie_email", models.EmailField)
    birth_ip = field("birth_ip", models.GenericIPAddressField)

    # when / then: only the category their type rules out is dropped
    findings = schema_forbidden_fields([site, portrait, selfie, birth_ip])
    assert [(f.field, f.category) for f in findings] == [
        ("portrait_url", "photo"),
        ("selfie_email", "photo"),
        ("birth_ip", "birth date"),
    ]


def test_a_picture_in_a_model_declared_as_no_persons_data_is_not_a_photo():
    # given: fields of a model privacy's registry declares as holding no person's data
    from stores.models import ChainSettings

    def of_chain(name, cls=models.CharField):
        f = field(name, cls)
        f.model = ChainSettings
        return f

    picture = of_chain("banner_image", models.FileField)
    logo = of_chain("logo_image", models.BinaryField)
    portrait = of_chain("portrait")  # text, not a stored picture: a path or a name
    born = of_chain("birth_date", models.DateField)

    # when / then: the pictures it stores are the chain's own; its other fields are checked
    findings = schema_forbidden_fields([picture, logo, portrait, born])
    assert [(f.field, f.category) for f in findings] == [
        ("portrait", "photo"),
        ("birth_date", "birth date"),
    ]


def test_a_picture_in_a_model_holding_peoples_data_is_a_photo():
    from loyalty.models import Member

    picture = field("banner_image", models.FileField)
    logo = field("logo_image", models.BinaryField)
    picture.model = logo.model = Member

    assert [f.category for f in schema_forbidden_fields([picture, logo])] == ["photo", "photo"]


@pytest.mark.parametrize(
    "name", ["city", "given_name", "points_balance", "last_seen_at", "page", "ip_address"]
)
def test_ordinary_fields_pass(name):
    assert schema_forbidden_fields([field(name)]) == []


def test_the_page_is_green_on_a_clean_database_once_retention_ran(office):
    RetentionRunFactory(started_at=timezone.now() - timedelta(hours=2))

    response = office.get(reverse("dashboard:compliance"))

    assert response.status_code == 200
    report = response.context["report"]
    assert report.ok
    assert response.context["record"]["activities"]


def test_the_page_reports_a_broken_chain_and_an_overdue_ticket(office, gent):
    for n in range(3):
        services.consent_give(
            subject_key=f"member:{n}",
            purpose=Purpose.LOYALTY_MEMBERSHIP,
            channel=Channel.COUNTER_FORM,
            language="nl",
            store=gent,
        )
    ConsentRecord.objects.filter(seq=2).update(action="withdrawn")
    late = PrivacyTicketFactory(state="verified", due_on=timezone.localdate() - timedelta(days=1))

    response = office.get(reverse("dashboard:compliance"))

    report = response.context["report"]
    assert not report.ok
    assert report.chain.broken_seq == 2
    assert [t.pk for t in report.overdue] == [late.pk]
    html = response.content.decode()
    assert "dash-check-bad" in html
    assert reverse("dashboard:ticket", args=[late.pk]) in html


def test_the_retention_job_s_last_run(gent, run_on_commit):
    # given: two runs; the last opened two erasures (one member with an eID card), both done
    old = timezone.now() - relativedelta(months=settings.PRIVACY_RETENTION_MONTHS + 1)
    services.retention_open_tickets(now=timezone.now() - timedelta(days=1))
    EidCardFactory(member=MemberFactory(home_store=gent, last_activity_at=old))
    MemberFactory(home_store=gent, last_activity_at=old)
    with run_on_commit():
        services.retention_open_tickets()

    # when
    run = compliance_report().retention

    # then
    assert (run.tickets, run.completed, run.running) == (2, 2, False)
    assert run.erased["loyalty.members"] == 2
    assert run.erased["loyalty.eid_cards"] == 1


def test_the_page_shows_how_far_a_run_s_erasures_have_got(office, gent, settings):
    # given: a run whose erasures wait for the worker (one batch of two done, one of two not)
    old = timezone.now() - relativedelta(months=settings.PRIVACY_RETENTION_MONTHS + 1)
    MemberFactory.create_batch(4, home_store=gent, last_activity_at=old)
    opened = services.retention_open_tickets(batch_size=2)
    services.erasure_execute_batch(ticket_ids=opened[:2])
    office.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    # when
    response = office.get(reverse("dashboard:compliance"))

    # then
    html = response.content.decode()
    assert "4 erasures opened, 2 completed." in html
    assert '<progress max="4" value="2"' in html
    assert "In progress: 50% of the erasures done." in html


def test_the_page_shows_the_last_run_s_time_and_count(office, gent):
    # given: a run last night that opened three erasures, none completed yet
    when = timezone.make_aware(datetime(2026, 11, 3, 2, 30))
    RetentionRunFactory(started_at=when - timedelta(days=1), tickets_opened=0)
    RetentionRunFactory(started_at=when, tickets_opened=3)
    for _ in range(3):
        PrivacyTicketFactory(source="retention", state="scheduled", received_at=when)
    office.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    # when
    response = office.get(reverse("dashboard:compliance"))

    # then
    html = response.content.decode()
    assert (
        "Last run on Nov. 3, 2026, 2:30 a.m., for members with no activity since Nov. 3, 2024."
        in html
    )
    assert "3 erasures opened, 0 completed." in html


def test_the_page_shows_a_run_that_found_nobody(office):
    RetentionRunFactory(started_at=timezone.make_aware(datetime(2026, 11, 3, 2, 30)))
    office.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    html = office.get(reverse("dashboard:compliance")).content.decode()

    assert "Last run on Nov. 3, 2026, 2:30 a.m." in html
    assert "Nobody was inactive that long: no erasure opened." in html


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "nl",
            "Laatst uitgevoerd op 3 november 2026 02:30, voor leden zonder activiteit sinds "
            "3 november 2024.",
        ),
        (
            "fr",
            "Dernier passage le 3 novembre 2026 02:30, pour les membres sans activité depuis "
            "le 3 novembre 2024.",
        ),
    ],
)
def test_the_run_s_dates_follow_the_language(office, language, expected):
    RetentionRunFactory(started_at=timezone.make_aware(datetime(2026, 11, 3, 2, 30)))
    office.cookies[settings.LANGUAGE_COOKIE_NAME] = language

    html = office.get(reverse("dashboard:compliance")).content.decode()

    assert expected in html


def test_the_page_says_when_the_retention_job_never_ran(office):
    office.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    response = office.get(reverse("dashboard:compliance"))

    assert response.context["report"].retention is None
    assert not response.context["report"].ok
    assert "The retention job has never run." in response.content.decode()


def test_a_retention_job_that_stopped_running_needs_attention(office):
    # given: the nightly job last ran three days ago
    RetentionRunFactory(started_at=timezone.now() - timedelta(days=3))
    office.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    # when
    response = office.get(reverse("dashboard:compliance"))

    # then
    assert response.context["report"].retention.stale
    assert not response.context["report"].ok
    html = response.content.decode()
    assert '<li class="card dash-check-bad" id="check-retention">' in html
    assert "check that the Celery beat scheduler is running" in html


def test_last_night_s_retention_run_is_in_order(office):
    RetentionRunFactory(started_at=timezone.now() - timedelta(hours=20))

    response = office.get(reverse("dashboard:compliance"))

    assert not response.context["report"].retention.stale
    assert response.context["report"].ok
    assert '<li class="card dash-check-ok" id="check-retention">' in response.content.decode()


def test_the_record_of_processing_downloads(office):
    response = office.get(reverse("dashboard:processing_record"))

    assert response["Content-Type"] == "application/json"
    assert "attachment" in response["Content-Disposition"]
    record = json.loads(response.content)
    assert {a["code"] for a in record["activities"]} >= {"consent_log", "privacy_requests"}


def test_the_processing_record_reads_in_french(office):
    office.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"

    html = office.get(reverse("dashboard:compliance")).content.decode()
    record = json.loads(
        b"".join([office.get(reverse("dashboard:processing_record")).content]).decode()
    )

    assert "Reconnaître un membre à sa carte eID" in html
    titles = {a["code"]: a["title"] for a in record["activities"]}
    assert titles["consent_log"] == "Preuve du consentement"
