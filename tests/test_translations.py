"""Every string the project marks for translation has a Dutch and French translation Django uses.

The strings are extracted the way a translator gets them, with Django's own `makemessages`
(xgettext) over a copy of the apps' code and templates, and looked up in the catalogs Django
merges at run time (the project's `locale/` first, then each app's, then Django's own): a
string nobody translated, a fuzzy entry (never compiled) or a `.mo` older than its `.po` fails.
Customer pages also speak German once the German locale exists.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.test import Client, override_settings
from django.utils import translation
from django.utils.translation import trans_real

polib = pytest.importorskip("polib", reason="needs polib (requirements-dev.txt)")

ROOT = Path(settings.BASE_DIR)
APPS = (
    "config",
    "core",
    "stores",
    "privacy",
    "loyalty",
    "portal",
    "dashboard",
    "membership",
    "templates",
)
# What a customer reads: the public home, request pages and mails, "my membership", and the
# counter screens they face.
CUSTOMER = (
    "templates/base.html",
    "templates/privacy/",
    "templates/wallet/",
    "privacy/forms.py",
    "membership/",
    "portal/templates/portal/eid_consent.html",
    "portal/templates/portal/member_card.html",
)
# Words spelled the same in the language (checked by hand, not a way out for a lazy entry).
SAME = {
    "nl": {
        "Open",
        "CSV",
        "Filter",
        "Per week",
        "Minimum",
        "code",
        "status",
        "Status",
        "id",
        "token",
        "Privacy",
        "ID",
        "Logo",
    },
    "fr": {
        "Description",
        "Logo",
        "Points",
        "points",
        "CSV",
        "Notices",
        "Action",
        "Notice",
        "Versions",
        "Version",
        "Catalogue",
        "Minimum",
        "Source",
        "Correction",
        "code",
        "action",
        "notice",
        "version",
        "ID",
        "id",
        "description",
        "note",
        "%(points)s point",
        "%(points)s points",
        "notice v%(version)s (%(language)s)",
    },
}
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")

needs_xgettext = pytest.mark.skipif(
    shutil.which("xgettext") is None, reason="needs GNU gettext (apt-get install gettext)"
)


@pytest.fixture(scope="module")
def extracted(tmp_path_factory, monkeypatch_module) -> list:
    """Return the catalog entries `makemessages` finds in the apps' code and templates."""
    tree = tmp_path_factory.mktemp("sources")
    for app in APPS:
        for path in (ROOT / app).rglob("*"):
            relative = path.relative_to(ROOT)
            if path.suffix in {".py", ".html", ".txt"} and "locale" not in relative.parts:
                (tree / relative).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(path, tree / relative)
    (tree / "locale").mkdir()
    monkeypatch_module.chdir(tree)
    # The copy has no app locale folders: everything goes to the one catalog in `tree`.
    with override_settings(LOCALE_PATHS=[str(tree / "locale")]):
        call_command("makemessages", locale=["en"], extensions=["html", "txt", "py"], verbosity=0)
    return list(polib.pofile(str(tree / "locale/en/LC_MESSAGES/django.po")))


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as mp:
        yield mp


def _key(entry) -> str:
    return f"{entry.msgctxt}\x04{entry.msgid}" if entry.msgctxt else entry.msgid


def _problems(entry, catalog, language: str) -> list[str]:
    key = _key(entry)
    if entry.msgid_plural:
        forms = [catalog.get((key, n)) for n in range(2)]
        if not all(forms):
            return ["not translated"]
        wanted = sorted(PLACEHOLDER.findall(entry.msgid_plural))
        wrong = [f for f in forms if sorted(set(PLACEHOLDER.findall(f))) != sorted(set(wanted))]
        return ["placeholders differ"] if wrong else []
    translated = catalog.get(key)
    if not translated:
        return ["not translated"]
    problems = []
    if translated == entry.msgid and entry.msgid not in SAME.get(language, set()):
        problems.append("same as the English")
    if sorted(PLACEHOLDER.findall(translated)) != sorted(PLACEHOLDER.findall(entry.msgid)):
        problems.append("placeholders differ")
    return problems


def _customer_facing(entry) -> bool:
    return any(path.startswith(CUSTOMER) for path, _ in entry.occurrences)


@needs_xgettext
def test_strings_were_found(extracted):
    files = {path.split("/")[0] for e in extracted for path, _ in e.occurrences}

    assert len(extracted) > 500
    assert {"dashboard", "privacy", "loyalty", "portal", "templates"} <= files


@needs_xgettext
@pytest.mark.parametrize("language", ["nl", "fr", "de"])
def test_every_marked_string_is_translated(extracted, language):
    if language == "de" and "de" not in dict(settings.LANGUAGES):
        pytest.skip("no German locale yet: customer pages speak nl, fr (and en)")
    catalog = trans_real.translation(language)._catalog
    entries = [e for e in extracted if language != "de" or _customer_facing(e)]

    problems = {
        f"{e.occurrences[0][0]}:{e.occurrences[0][1]} {e.msgid!r}": p
        for e in entries
        if (p := _problems(e, catalog, language))
    }

    assert problems == {}


def test_the_check_catches_a_missing_and_a_lazy_entry():
    catalog = trans_real.translation("nl")._catalog
    missing = polib.POEntry(msgid="No-one translated this sentence.", occurrences=[("x", "1")])
    known = polib.POEntry(msgid="Figures")
    copied = polib.POEntry(msgid="Figures")
    catalog_with_copy = {**dict(catalog.items()), "Figures": "Figures"}

    assert _problems(missing, catalog, "nl") == ["not translated"]
    assert _problems(known, catalog, "nl") == []
    assert _problems(copied, catalog_with_copy, "nl") == ["same as the English"]


def _catalogs() -> list[Path]:
    return sorted(
        p
        for app in (*APPS, "locale")
        for p in (ROOT / app).rglob("django.po")
        if "LC_MESSAGES" in p.parts
    )


def test_catalogs_were_found():
    found = {p.relative_to(ROOT).parts[0] for p in _catalogs()}

    assert {"locale", "dashboard", "portal"} <= found


@pytest.mark.parametrize("po_path", _catalogs(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_catalog_is_complete_and_compiled(po_path):
    po = polib.pofile(str(po_path))
    mo = polib.mofile(str(po_path.with_suffix(".mo")))

    assert [e.msgid for e in po.untranslated_entries()] == []
    assert [e.msgid for e in po.fuzzy_entries()] == []
    compiled = {(e.msgctxt, e.msgid, e.msgstr or tuple(e.msgstr_plural.values())) for e in mo}
    source = {
        (e.msgctxt, e.msgid, e.msgstr or tuple(e.msgstr_plural.values()))
        for e in po.translated_entries()
    }
    assert source - compiled == set()


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="needs GNU gettext")
@pytest.mark.parametrize("po_path", _catalogs(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_catalog_is_valid_gettext(po_path, tmp_path):
    result = subprocess.run(
        ["msgfmt", "--check-format", "-o", str(tmp_path / "out.mo"), str(po_path)],
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stderr


def test_strings_are_marked_the_way_makemessages_finds_them():
    """xgettext knows `_`, `gettext`, `gettext_lazy`...: a string behind another alias is lost."""
    alias = re.compile(r"from django\.utils\.translation import .*\bas (?!_\b)(\w+)")
    found = {
        f"{path.relative_to(ROOT)}: {m.group(0)}"
        for app in APPS
        for path in (ROOT / app).rglob("*.py")
        for m in alias.finditer(path.read_text())
    }

    assert found == set()


def _names_in_admin() -> list[tuple[str, object]]:
    names = []
    for label in ("stores", "loyalty", "privacy"):
        config = apps.get_app_config(label)
        names.append((f"{label} app", config.verbose_name))
        for model in config.get_models():
            names += [
                (f"{model._meta.label}", model._meta.verbose_name),
                (f"{model._meta.label} plural", model._meta.verbose_name_plural),
            ]
            names += [
                (f"{model._meta.label}.{f.name}", f.verbose_name)
                for f in model._meta.get_fields()
                if f.concrete and f.model is model
            ]
    return names


@pytest.mark.parametrize("language", ["nl", "fr"])
def test_the_admin_names_every_model_and_field_in_the_language(language):
    untranslated = []
    for where, name in _names_in_admin():
        with translation.override("en"):
            english = str(name)
        with translation.override(language):
            translated = str(name)
        if translated == english and english not in SAME.get(language, set()):
            untranslated.append(f"{where}: {english}")

    assert untranslated == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "expected"),
    [("nl", "Selecteer lid om te wijzigen"), ("fr", "Sélectionnez l\u2019objet membre à changer")],
)
def test_the_admin_speaks_the_language(store, admin_user, language, expected):
    from tests.factories import MemberFactory

    MemberFactory(home_store=store)
    client = Client()
    client.force_login(admin_user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language

    page = client.get("/admin/loyalty/member/").content.decode()

    assert expected in page
