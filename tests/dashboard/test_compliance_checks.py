"""The compliance checks that would have caught us: each passes on lawful data, fails when its
rule is broken, and links to the rows; the command exits non-zero on any failure."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import models
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape
from django.utils.translation import gettext_lazy as _

from dashboard.selectors import compliance_report
from dashboard.selectors.compliance_checks import (
    benefit_fields_by_channel,
    check_eid_consent,
    check_equal_benefits,
    check_mail_real,
    check_no_demo_accounts,
    check_tokens_expire,
    check_traces_covered,
)
from loyalty.demo import DEMO_PASSWORD, DEMO_READER
from loyalty.models import EidCard
from loyalty.privacy import member_subject_key
from loyalty.purposes import Channel, Purpose
from privacy import services
from privacy.registry import registry
from privacy.selectors import consent_latest
from stores.models import StaffToken
from tests.factories import (
    EidCardFactory,
    EidMemberFactory,
    RetentionRunFactory,
    RewardFactory,
    StaffFactory,
    StoreFactory,
    staff_token,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    """The checks' lines in English here (the page's languages are checked on the page)."""
    with translation.override("en"):
        yield


def compliance_command() -> str:
    out = io.StringIO()
    call_command("compliance_check", stdout=out)
    return out.getvalue()


def consent_for(member, store, *, at=None):
    record = services.consent_give(
        subject_key=member_subject_key(member),
        purpose=Purpose.EID_RECOGNITION,
        channel=Channel.COUNTER_EID,
        language="nl",
        store=store,
    )
    if at is not None:
        type(record).objects.filter(pk=record.pk).update(created_at=at)
    return record


def test_the_demo_data_passes_every_check(tmp_path):
    # given: the demo chain, small
    call_command(
        "seed_demo",
        "--members",
        "40",
        "--seed",
        "3",
        "--quiet-logins",
        "--progress-file",
        str(tmp_path / "progress.json"),
        "--reader-token-file",
        str(tmp_path / "reader.token"),
        stdout=io.StringIO(),
    )
    assert EidCard.objects.count() > 5

    # when
    out = compliance_command()

    # then: exit 0, every check named
    assert "FAIL" not in out
    for code in ("eid_consent", "equal_benefits", "retention", "demo_accounts", "mail_real"):
        assert f"ok   {code}:" in out
    # the demo's eID members consented with the notice, store, staff and time recorded
    card = EidCard.objects.select_related("member").first()
    latest = consent_latest(subject_key=member_subject_key(card.member), purpose="eid_recognition")
    assert latest.notice_id and latest.store_id and latest.staff_id
    assert latest.created_at <= card.linked_at


def test_an_eid_link_without_consent_fails_and_links_to_the_row(store):
    RetentionRunFactory(started_at=timezone.now())
    lawful = EidMemberFactory(home_store=store)
    consent_for(lawful, store, at=timezone.now() - timedelta(days=1))
    bare = EidCardFactory()
    late = EidMemberFactory(home_store=store)
    late_card = late.eid_card
    consent_for(late, store)  # recorded after the card was linked

    check = check_eid_consent()

    assert not check.ok and check.total == 2
    assert [row.url for row in check.rows] == [
        reverse("admin:loyalty_eidcard_change", args=[bare.pk]),
        reverse("admin:loyalty_eidcard_change", args=[late_card.pk]),
    ]
    with pytest.raises(CommandError, match="eid_consent"):
        compliance_command()


def test_a_card_linked_through_a_real_scan_passes(store):
    # The scan's consent comes first under the scan's key, then is carried over to the member.
    scan_key = services.consent_subject_new()
    services.consent_give(
        subject_key=scan_key,
        purpose=Purpose.EID_RECOGNITION,
        channel=Channel.COUNTER_EID,
        language="nl",
        store=store,
    )
    member = EidMemberFactory(home_store=store)
    services.consent_attach(from_key=scan_key, to_key=member_subject_key(member))

    assert check_eid_consent().ok


def test_a_reward_or_campaign_out_of_reach_fails(store):
    assert check_equal_benefits().ok
    closed = StoreFactory(code="OST01", is_active=False)
    RewardFactory(name="Nowhere", stores=[closed])
    RewardFactory(name="Everywhere", stores=[store])
    from stores.models import Campaign

    Campaign.objects.create(
        store=closed,
        name="Closed store weekend",
        multiplier=2,
        starts_at=timezone.now(),
        ends_at=timezone.now() + timedelta(days=2),
    )

    check = check_equal_benefits()

    assert not check.ok and check.total == 2
    assert "Nowhere" in check.rows[0].text and check.rows[0].url == reverse("dashboard:rewards")
    assert "OST01" in check.rows[1].text
    assert check.rows[1].url == reverse("dashboard:store", args=["OST01"])


def test_a_benefit_field_tied_to_the_join_channel_fails():
    eid_only = models.BooleanField(default=False)
    eid_only.set_attributes_from_name("eid_only")
    tier = models.CharField(max_length=4, choices=[("form", "Form"), ("eid", "eID")])
    tier.set_attributes_from_name("tier")
    cost = models.PositiveIntegerField()
    cost.set_attributes_from_name("point_cost")

    check = check_equal_benefits([eid_only, tier, cost])

    assert [row.text.split()[1] for row in check.rows] == ["?.eid_only", "?.tier"]


@pytest.mark.parametrize("language", ["en", "nl", "fr"])
def test_the_schema_check_reads_the_fields_as_the_code_names_them(language):
    # The Dutch verbose names "aanleiding" (trigger) and "geldigheid" hold the letters "eid".
    valid = models.PositiveIntegerField(verbose_name=_("coupon valid days"))
    valid.set_attributes_from_name("coupon_valid_days")

    with translation.override(language):
        assert benefit_fields_by_channel() == []
        assert benefit_fields_by_channel([valid]) == []


def test_a_token_that_never_expires_fails(store):
    user = StaffFactory(store=store)
    staff_token(user)
    assert check_tokens_expire().ok
    StaffToken.objects.update(expiry=None)

    check = check_tokens_expire()

    assert not check.ok and check.total == 1
    assert user.username in check.rows[0].text


def test_console_mail_outside_development_fails(settings):
    assert check_mail_real().ok  # development: console mail is fine
    settings.SETTINGS_MODULE = "config.settings.production"
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    settings.DEFAULT_FROM_EMAIL = "loyalty@example.be"

    assert [r.text for r in check_mail_real().rows] == [
        "EMAIL_URL does not name an SMTP server",
        "DEFAULT_FROM_EMAIL is not a real address",
    ]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.DEFAULT_FROM_EMAIL = "Loyalty <loyalty@winkelketen.be>"
    assert check_mail_real().ok


def test_a_demo_login_outside_development_fails(settings, store):
    get_user_model().objects.create_user(username="kassa.gent", password=DEMO_PASSWORD)
    get_user_model().objects.create_user(username="kassa.antwerpen", password="changed-0001!")
    assert check_no_demo_accounts().ok  # development
    settings.SETTINGS_MODULE = "config.settings.production"

    check = check_no_demo_accounts()

    assert not check.ok
    assert [r.text for r in check.rows] == ["Demo login kassa.gent with the demo password"]


def test_demo_readers_outside_development_fail_in_a_bounded_number_of_queries(
    settings, django_assert_max_num_queries
):
    from stores.services import reader_device_register

    # given: the demo's reader left registered in three stores of a deployment
    devices = [reader_device_register(store=StoreFactory(), name=DEMO_READER)[0] for _n in range(3)]
    settings.SETTINGS_MODULE = "config.settings.production"

    # when
    with django_assert_max_num_queries(2):
        check = check_no_demo_accounts()

    # then: each is a row linking to its store's page
    assert not check.ok
    assert [r.text for r in check.rows] == [f"Demo eID reader #{d.pk}" for d in devices]
    assert [r.url for r in check.rows] == [
        reverse("dashboard:store", args=[d.store.code]) for d in devices
    ]


def test_a_model_nobody_accounted_for_fails(monkeypatch):
    assert check_traces_covered().ok
    traces = dict(registry.traces)
    del traces["stores.Campaign"]
    monkeypatch.setattr(registry, "traces", traces)

    check = check_traces_covered()

    assert not check.ok and "stores.Campaign" in check.rows[0].text
    assert "traces_covered" in compliance_report().failures()


def test_retention_that_never_ran_fails_the_command():
    with pytest.raises(CommandError, match="retention"):
        compliance_command()


def test_the_page_lists_the_failing_rows(office, store):
    RetentionRunFactory(started_at=timezone.now())
    card = EidCardFactory()

    html = office.get(reverse("dashboard:compliance")).content.decode()

    assert "Elke koppeling met een eID-kaart heeft een oudere toestemmingsregistratie" in html
    assert '<li class="card dash-check-bad" id="check-eid_consent">' in html
    assert reverse("admin:loyalty_eidcard_change", args=[card.pk]) in html
    assert '<li class="card dash-check-ok" id="check-equal_benefits">' in html


@pytest.mark.parametrize("language", ["nl", "fr"])
def test_the_page_shows_the_equal_benefits_result_passing_then_failing(office, store, language):
    office.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    url = reverse("dashboard:compliance")
    with translation.override(language):
        title = str(_("Every reward and campaign is open to members who joined by form"))
        summary = str(
            _("%(n)s reward(s) and campaign(s) out of reach, or fields tied to the channel.")
        )
        row = str(_("Reward “%(name)s” is offered in no open store")) % {"name": "Nowhere"}
    assert title != "Every reward and campaign is open to members who joined by form"

    # given: every reward offered in an open store
    RewardFactory(name="Everywhere", stores=[store])
    passing = office.get(url).content.decode()

    assert '<li class="card dash-check-ok" id="check-equal_benefits">' in passing
    assert escape(title) in passing and escape(summary % {"n": 0}) in passing

    # when: a reward is left offered only in a closed store
    RewardFactory(name="Nowhere", stores=[StoreFactory(code="OST01", is_active=False)])
    failing = office.get(url).content.decode()

    # then: the same card says so, in the office's language, with a link to the rewards
    assert '<li class="card dash-check-bad" id="check-equal_benefits">' in failing
    assert escape(summary % {"n": 1}) in failing
    assert f'<a href="{reverse("dashboard:rewards")}">{escape(row)}</a>' in failing
