"""The dashboard speaks Dutch and French: every string translated, the compiled files current."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

polib = pytest.importorskip("polib", reason="needs polib (requirements-dev.txt)")

LOCALE = Path(settings.BASE_DIR) / "dashboard" / "locale"


@pytest.mark.parametrize("language", ["nl", "fr"])
def test_every_string_is_translated_and_compiled(language):
    po = polib.pofile(str(LOCALE / language / "LC_MESSAGES" / "django.po"))
    mo = polib.mofile(str(LOCALE / language / "LC_MESSAGES" / "django.mo"))

    assert len(po) > 200
    assert po.untranslated_entries() == []
    assert po.fuzzy_entries() == []
    compiled = {(e.msgid, e.msgstr or tuple(e.msgstr_plural.values())) for e in mo}
    source = {(e.msgid, e.msgstr or tuple(e.msgstr_plural.values())) for e in po}
    assert source <= compiled


@pytest.mark.parametrize(
    ("language", "expected"), [("nl", "Privacywachtrij"), ("fr", "File vie privée")]
)
def test_pages_render_in_the_user_s_language(office, language, expected):
    office.cookies[settings.LANGUAGE_COOKIE_NAME] = language

    response = office.get(reverse("dashboard:figures"))

    assert expected in response.content.decode()
    with translation.override("en"):
        assert translation.gettext("Privacy queue") == "Privacy queue"
