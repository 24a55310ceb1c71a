"""Every string the customers' pages and mails show is translated into Dutch, French and German.

The privacy pages and mails, the public home and "my membership" (membership/).
"""

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
    ROOT / "templates/base.html",
    *sorted((ROOT / "templates/privacy").rglob("*.*")),
    *sorted((ROOT / "membership/templates").rglob("*.*")),
]
PYTHON = [
    ROOT / "privacy/models.py",
    ROOT / "privacy/forms.py",
    ROOT / "loyalty/purposes.py",
    *sorted((ROOT / "membership").glob("*.py")),
]
CALL = re.compile(r" gettext\(([ur]?(?:'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"))\) ", re.S)


def msgids() -> set[str]:
    found = set()
    for path in TEMPLATES:
        found |= {
            ast.literal_eval(m.group(1))
            for m in CALL.finditer(templatize(path.read_text(), origin=str(path)))
        }
    for path in PYTHON:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "_":
                found.add(node.args[0].value)
    return found


MSGIDS = sorted(msgids())
# Spelled the same in the language (field names of privacy's models in the admin).
SAME = {"fr": {"action", "note", "notice", "version"}, "nl": {"status"}}


def test_strings_were_found():
    assert len(MSGIDS) > 40


@pytest.mark.parametrize("language", ["nl", "fr", "de"])
@pytest.mark.parametrize("msgid", MSGIDS)
def test_translated(language, msgid):
    with translation.override(language):
        translated = translation.gettext(msgid)

    assert translated != msgid or msgid in SAME.get(language, set())
    placeholders = re.compile(r"%\(\w+\)s")
    assert sorted(placeholders.findall(translated)) == sorted(placeholders.findall(msgid))
