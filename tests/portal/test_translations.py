"""Every string the counter portal shows is translated into Dutch and French."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation
from django.utils.translation.template import templatize

ROOT = Path(settings.BASE_DIR)
TEMPLATES = [
    ROOT / "templates/staff_base.html",
    *sorted((ROOT / "portal/templates/portal").glob("*.html")),
]
PYTHON = sorted((ROOT / "portal").rglob("*.py"))
CALL = re.compile(r" (n?)gettext\(([ur]?(?:'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"))", re.S)
PLACEHOLDER = re.compile(r"%\(\w+\)s")


def msgids() -> set[str]:
    found = set()
    for path in TEMPLATES:
        text = templatize(path.read_text(), origin=str(path))
        found |= {ast.literal_eval(m.group(2)) for m in CALL.finditer(text) if not m.group(1)}
    for path in PYTHON:
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", "") == "_"
                and isinstance(node.args[0], ast.Constant)
            ):
                found.add(node.args[0].value)
    return found


MSGIDS = sorted(msgids())
# The same word in French.
SAME_IN_FRENCH = {"Points", "points", "Correction", "%(points)s points"}
SAME_IN_FRENCH.add("notice v%(version)s (%(language)s)")


def test_strings_were_found():
    assert len(MSGIDS) > 100


@pytest.mark.parametrize("language", ["nl", "fr"])
@pytest.mark.parametrize("msgid", MSGIDS)
def test_translated(language, msgid):
    with translation.override(language):
        translated = translation.gettext(msgid)

    assert translated != msgid or (language == "fr" and msgid in SAME_IN_FRENCH)
    assert sorted(PLACEHOLDER.findall(translated)) == sorted(PLACEHOLDER.findall(msgid))


@pytest.mark.parametrize(
    ("language", "one", "many"), [("nl", "1 punt", "5 punten"), ("fr", "1 point", "5 points")]
)
def test_plural_of_a_rewards_cost(language, one, many):
    with translation.override(language):
        for n, expected in [(1, one), (5, many)]:
            text = translation.ngettext("%(points)s point", "%(points)s points", n)
            assert text % {"points": n} == expected
