"""The impact assessment's draft (Art. 35): from what the code declares, in the DPO's language."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.urls import reverse
from django.utils import translation

from dashboard.selectors.dpia import dpia_markdown
from privacy.registry import registry
from privacy.selectors import processing_record
from tests.dashboard.conftest import client_for

pytestmark = pytest.mark.django_db

HEADINGS = {
    "nl": ("# Gegevensbeschermingseffectbeoordeling", "## 5. Maatregelen (art. 35, lid 7, d)"),
    "fr": (
        "# Analyse d'impact relative à la protection des données",
        "## 5. Mesures (art. 35, § 7, d)",
    ),
    "en": ("# Data protection impact assessment", "## 5. Measures (Art. 35(7)(d))"),
}


@pytest.mark.parametrize("language", ["nl", "fr", "en"])
def test_the_draft_downloads_in_the_dpo_s_language(office, language):
    response = office.get(reverse("dashboard:dpia"), {"language": language})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/markdown; charset=utf-8"
    assert f"dpia-draft-{language}-" in response["Content-Disposition"]
    text = response.content.decode()
    title, measures = HEADINGS[language]
    assert text.startswith(title)
    assert measures in text


@pytest.fixture
def english():
    with translation.override("en"):
        yield


def test_the_draft_holds_what_the_code_declares(english):
    text = dpia_markdown(language="en")

    for activity in processing_record()["activities"]:
        assert f". {activity['title']}\n" in text
        assert activity["retention"] in text
        for model in activity["stored_in"]:
            assert f"`{model}`" in text
    for measure in registry.measures.values():
        assert f"**{measure.title}** (`{measure.code}`): {measure.text}" in text
    for model in apps.get_models(include_auto_created=True):
        assert f"| `{model._meta.label}` |" in text
    assert "not accounted for" not in text
    assert "| `loyalty.MemberRead` | erased by | loyalty.reads |" in text
    # what the measures promise is declared by the apps that keep the promise
    assert {m.app for m in registry.measures.values()} == {"privacy", "loyalty"}


def test_a_model_nobody_accounted_for_shows_in_the_draft(monkeypatch):
    traces = dict(registry.traces)
    del traces["loyalty.Reward"]
    monkeypatch.setattr(registry, "traces", traces)

    assert "| `loyalty.Reward` | not accounted for |" in dpia_markdown(language="en")


def test_the_draft_is_for_head_office_only(manager, office):
    assert client_for(manager).get(reverse("dashboard:dpia")).status_code == 403
    assert office.get(reverse("dashboard:dpia"), {"language": "de"}).status_code == 404


def test_the_compliance_page_links_the_draft_in_each_language(office):
    html = office.get(reverse("dashboard:compliance")).content.decode()

    for language in ("nl", "fr", "en"):
        assert f"{reverse('dashboard:dpia')}?language={language}" in html


def _odt(content: bytes):
    from io import BytesIO

    from odf.opendocument import load

    return load(BytesIO(content))


def _texts(doc, kind) -> list[str]:
    from odf import teletype

    return [teletype.extractText(element) for element in doc.getElementsByType(kind)]


@pytest.mark.parametrize("language", ["nl", "fr"])
def test_the_draft_opens_as_an_opendocument_in_the_dpo_s_language(office, language):
    from odf import dc
    from odf.style import DefaultStyle, TextProperties
    from odf.table import Table, TableCell, TableRow
    from odf.text import H, ListItem

    # when
    response = office.get(reverse("dashboard:dpia_odt"), {"language": language})

    # then: an .odt a word processor opens, in that language, holding what the code declares
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.oasis.opendocument.text"
    assert f"dpia-draft-{language}-" in response["Content-Disposition"]
    assert response["Content-Disposition"].endswith('.odt"')
    assert response.content[:2] == b"PK"
    doc = _odt(response.content)
    assert doc.mimetype == "application/vnd.oasis.opendocument.text"
    assert _texts(doc.meta, dc.Language) == [language]
    [paragraphs] = list(doc.styles.getElementsByType(DefaultStyle))
    [props] = paragraphs.getElementsByType(TextProperties)
    assert props.getAttribute("language") == language

    headings = _texts(doc.text, H)
    title, measures = HEADINGS[language]
    assert headings[0].startswith(title.lstrip("# "))
    assert measures.lstrip("# ") in headings
    with translation.override(language):
        record = processing_record()
        titles = {str(m.title) for m in registry.measures.values()}
    for number, activity in enumerate(record["activities"], start=1):
        assert f"2.{number}. {activity['title']}" in headings
    items = " ".join(_texts(doc.text, ListItem))
    for measure in titles:
        assert measure in items
    for activity in record["activities"]:
        assert activity["retention"] in items
    # The tables are tables, not pipes: the risks and one row per model in the coverage.
    risks, coverage = doc.text.getElementsByType(Table)
    assert len(risks.getElementsByType(TableRow)) == 6
    labels = {m._meta.label for m in apps.get_models(include_auto_created=True)}
    rows = [_texts(row, TableCell) for row in coverage.getElementsByType(TableRow)[1:]]
    assert {cells[0] for cells in rows} == labels
    assert all("|" not in text and "**" not in text for text in [*headings, items])
    english = "Data protection impact assessment"
    assert english not in " ".join(headings)


def test_the_opendocument_is_for_head_office_only(manager, office):
    assert client_for(manager).get(reverse("dashboard:dpia_odt")).status_code == 403
    assert office.get(reverse("dashboard:dpia_odt"), {"language": "de"}).status_code == 404


def test_the_compliance_page_links_the_opendocument_in_each_language(office):
    html = office.get(reverse("dashboard:compliance")).content.decode()

    for language in ("nl", "fr", "en"):
        assert f"{reverse('dashboard:dpia_odt')}?language={language}" in html
