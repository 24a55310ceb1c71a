"""Every office page in Dutch and French, in Chromium: no English words left on the screen.

A word is suspect when it is a word of the project's English interface (its msgids), no
translation uses it, and it shows on the page both in the English rendering and in the
Dutch or French one: words from the data (store names, rewards, usernames) are the same in
every rendering but are no interface words; an interface word the language uses too
("minimum", "filter") is in its translations.
"""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import polib
import pytest
from django.conf import settings
from django.utils import timezone
from django.utils.translation import trans_real

from privacy.models import PrivacyTicket
from stores.models import CampaignTrigger, Combination, Store
from stores.services import campaign_compose, tier_save
from tests.dashboard.test_browser_dashboard import chain, login  # noqa: F401 (fixtures)
from tests.test_translations import _catalogs as project_catalogs

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WORD = re.compile(r"[A-Za-z][a-z]{3,}")
# Data, not interface: user names ("manager.gent"), e-mail addresses, codes with digits.
DATA_TOKEN = re.compile(r"\S*[@0-9]\S*|\S+\.\w\S*")
PAGES = [
    "",
    "privacy/",
    "privacy/{open_ticket}/",
    "privacy/{done_ticket}/",
    "consent/",
    "stores/",
    "stores/GNT01/",
    "rewards/",
    "campaigns/",
    "tiers/",
    "coupons/",
    "webhooks/",
    "staff/",
    "chain/",
    "notices/",
    "reads/",
    "readers/",
    "compliance/",
]


def _catalogs(language: str) -> list[polib.POFile]:
    """The project's own catalogs: a glob from the root also read, in a checkout with its
    .venv inside (`make test`, CI), every package's in site-packages as interface words."""
    return [polib.pofile(str(p)) for p in project_catalogs() if p.parts[-3] == language]


def _words(text: str) -> set[str]:
    # "loyalty.eid_cards" is a raw key, not data: it stays a suspect (dots between words).
    kept = " ".join(t for t in text.split() if not DATA_TOKEN.fullmatch(t) or "_" in t)
    return {w.lower() for w in WORD.findall(kept.replace("_", " ").replace(".", " "))}


def _english_words(language: str) -> set[str]:
    """Words of the interface's English text, less the ones the language's translations use.

    The translations are the catalog Django merges at run time (Django's own included: the
    admin's Dutch "Filter" is Dutch).
    """
    english = set()
    for po in _catalogs(language):
        for e in po:
            english |= _words(re.sub(r"%\(\w+\)s", " ", f"{e.msgid} {e.msgid_plural}"))
    catalog = trans_real.translation(language)._catalog
    translated = _words(" ".join(str(v) for v in dict(catalog.items()).values()))
    return english - translated


def _visible_text(page) -> str:
    return page.locator("body").inner_text()


@pytest.fixture
def engine(chain):  # noqa: F811
    """A tier and campaigns with every condition and effect, so their pages show their words."""
    now = timezone.now()
    tier_save(code="zilver", name="Zilver", threshold=500, multiplier=Decimal("1.5"))
    campaign_compose(
        name="Weekend",
        store=Store.objects.get(code="GNT01"),
        starts_at=now - timedelta(days=1),
        ends_at=now + timedelta(days=6),
        combination=Combination.ADD,
        days_of_week="67",
        minimum_amount=Decimal("20"),
        product_codes=["K0FF13"],
        categories=["brood"],
        tiers=["zilver"],
        max_per_member=2,
        max_total=500,
        multiplier=Decimal("2"),
        bonus_points=10,
        points_per_product=5,
        coupon_value=Decimal("3"),
    )
    campaign_compose(
        name="Welkom",
        trigger=CampaignTrigger.JOIN,
        starts_at=now + timedelta(days=1),
        ends_at=now + timedelta(days=30),
        bonus_points=25,
        coupon_product="K0FF13",
    )


@pytest.mark.parametrize("language", ["nl", "fr"])
def test_no_english_on_the_office_pages(chain, engine, live_server, page, screenshot, language):  # noqa: F811
    open_ticket = PrivacyTicket.objects.filter(state="verified").first()
    done_ticket = PrivacyTicket.objects.filter(state="completed").first()
    page.set_viewport_size({"width": 1280, "height": 900})
    login(page, live_server)
    # The chain's name ("Demo Chain") is data the pages show, as written.
    english_words = _english_words(language) - _words(settings.CHAIN_NAME)

    found = {}
    for path in PAGES:
        url = f"{live_server.url}/office/" + path.format(
            open_ticket=open_ticket.pk, done_ticket=done_ticket.pk
        )
        page.context.add_cookies(
            [{"name": "django_language", "value": "en", "url": live_server.url}]
        )
        page.goto(url)
        in_english = _words(_visible_text(page))
        page.context.add_cookies(
            [{"name": "django_language", "value": language, "url": live_server.url}]
        )
        page.goto(url)
        assert page.locator("html").get_attribute("lang") == language
        shown = _words(_visible_text(page))
        left = sorted(shown & in_english & english_words)
        if left:
            found[path or "figures"] = left
            screenshot(f"{language}-{(path or 'figures').strip('/').replace('/', '-')}")

    assert found == {}


@pytest.mark.parametrize("language", ["nl", "fr"])
def test_the_check_sees_an_english_word(language):
    english_words = _english_words(language)

    assert {"redemptions", "approve", "erased"} <= english_words
    assert "minimum" not in english_words  # a word Dutch and French use as well
    assert _words("loyalty.eid_cards: 1 manager.gent ho@example.be GNT01") == {"loyalty", "cards"}
