"""The dashboard speaks Dutch and French (tests/test_translations.py checks every string)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation


@pytest.mark.parametrize(
    ("language", "expected"), [("nl", "Privacywachtrij"), ("fr", "File vie privée")]
)
def test_pages_render_in_the_user_s_language(office, language, expected):
    office.cookies[settings.LANGUAGE_COOKIE_NAME] = language

    response = office.get(reverse("dashboard:figures"))

    assert expected in response.content.decode()
    with translation.override("en"):
        assert translation.gettext("Privacy queue") == "Privacy queue"
