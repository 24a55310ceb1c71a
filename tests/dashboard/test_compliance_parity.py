"""The compliance page's parity card: the last equal-benefits parity check, and "run it now"."""

from __future__ import annotations

import io

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.html import escape
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from dashboard.selectors import compliance_report
from loyalty.models import JoinChannel, ParityRun
from stores.models import Tier
from stores.selectors import earning_terms_forget
from tests.dashboard.conftest import client_for
from tests.factories import EarningRuleFactory, RetentionRunFactory
from tests.loyalty.test_parity import favour_form_members

pytestmark = pytest.mark.django_db

URL = reverse("dashboard:compliance")
RUN = reverse("dashboard:parity_run")
NEVER = "The parity check has never run."
FAILED_DETAIL = {
    "case": 2,
    "aspect": "steps",
    "channel": JoinChannel.EID_ANONYMOUS,
    "step": {"kind": "purchase", "n": 3, "store": "GNT01"},
    "form": "16",
    "other": "15",
}


def _page(office, language: str) -> str:
    office.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return office.get(URL).content.decode()


def _run(**fields) -> ParityRun:
    return ParityRun.objects.create(
        ran_at=fields.pop("ran_at", timezone.now()), cases=5, seed=42, **fields
    )


@pytest.mark.parametrize("language", ["nl", "fr"])
def test_before_the_first_run_the_card_says_never_run(office, language):
    html = _page(office, language)

    with translation.override(language):
        never = _("The parity check has never run.")
        button = _("Run the parity check now")
    assert never != NEVER
    assert '<li class="card dash-check-info" id="check-parity">' in html
    assert never in html and button in html  # the template's own words, not escaped
    assert f'action="{RUN}"' in html and "csrfmiddlewaretoken" in html


@pytest.mark.parametrize("language", ["nl", "fr"])
def test_a_passed_run_shows_when_and_how_many_cases(office, language):
    run = _run(passed=True)

    html = _page(office, language)

    with translation.override(language):
        at = formats.date_format(timezone.localtime(run.ran_at), "DATETIME_FORMAT")
        text = ngettext(
            "Passed on %(at)s: %(n)s case of purchases, a return and redemptions ended the same "
            "for every way of joining.",
            "Passed on %(at)s: %(n)s cases of purchases, a return and redemptions ended the same "
            "for every way of joining.",
            5,
        ) % {"at": at, "n": 5}
    assert text.startswith(("Geslaagd", "Réussi"))
    assert '<li class="card dash-check-ok" id="check-parity">' in html
    assert text in html


@pytest.mark.parametrize("language", ["nl", "fr"])
def test_a_failed_run_shows_the_difference_in_the_office_s_language(office, language):
    _run(passed=False, difference="case 2, purchase 3 at GNT01: ...", detail=FAILED_DETAIL)

    html = _page(office, language)

    with translation.override(language):
        what = _("purchase %(n)s at %(store)s") % {"n": 3, "store": "GNT01"}
        difference = _(
            "Case %(case)s, %(what)s: %(form)s for the member who joined by form, "
            "%(other)s for the member who joined with %(joined)s."
        ) % {
            "case": 2,
            "what": what,
            "form": "16",
            "other": "15",
            "joined": _("the eID card, anonymously"),
        }
    assert "purchase 3" not in difference
    assert '<li class="card dash-check-bad" id="check-parity">' in html
    assert f'<p id="parity-difference">{escape(difference)}</p>' in html
    assert "parity_check --seed 42" in html


def test_only_a_failed_run_fails_the_self_check(office):
    RetentionRunFactory(started_at=timezone.now())
    assert compliance_report().ok  # never ran: not a finding yet
    _run(passed=True)
    assert compliance_report().ok
    _run(passed=False, detail=FAILED_DETAIL)
    assert compliance_report().failures() == ["parity"]
    with translation.override("en"), pytest.raises(CommandError, match="parity"):
        call_command("compliance_check", stdout=io.StringIO())


def test_head_office_runs_it_from_the_page(office, gent):
    EarningRuleFactory(store=gent)

    response = office.post(RUN, follow=True)

    run = ParityRun.objects.get()
    assert run.passed and run.cases == 5
    assert response.redirect_chain == [(URL, 302)]
    assert '<li class="card dash-check-ok" id="check-parity">' in response.content.decode()


def test_a_run_from_the_page_that_finds_a_difference_says_so(office, gent, monkeypatch):
    # given: a tier (the earn then reads the member, on PostgreSQL too) and a biased earn
    EarningRuleFactory(store=gent)
    Tier.objects.create(code="gold", name="Gold", threshold=500)
    earning_terms_forget(store_id=None)
    favour_form_members(monkeypatch)
    office.cookies[settings.LANGUAGE_COOKIE_NAME] = "nl"

    html = office.post(RUN, follow=True).content.decode()

    assert ParityRun.objects.get().passed is False
    assert '<li class="card dash-check-bad" id="check-parity">' in html
    with translation.override("nl"):
        assert escape(_("Parity check failed: %(difference)s") % {"difference": ""}) in html


def test_store_managers_and_cashiers_may_not_run_it(manager, gent_cashier):
    for user in (manager, gent_cashier):
        client = client_for(user)
        assert client.post(RUN).status_code == 403
        assert client.get(URL).status_code == 403
    assert not ParityRun.objects.exists()


def test_running_it_needs_a_post_with_the_csrf_token(head_office):
    client = Client(enforce_csrf_checks=True)
    client.force_login(head_office)

    assert client.get(RUN).status_code == 405
    assert client.post(RUN).status_code == 403
    assert not ParityRun.objects.exists()
