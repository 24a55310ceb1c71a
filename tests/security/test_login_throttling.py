"""Staff logins are throttled against guessing: portal form and API token alike (django-axes)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from tests.factories import StaffFactory

PASSWORD = "pw-for-tests-only"


@pytest.fixture
def throttled(settings, db):
    """Switch login throttling on (the suite runs with it off) with a small limit.

    Its counters start empty: in the test's own database table (no Redis) or in the private
    cache tests/security/conftest.py gives each test (with Redis).
    """
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3


def _token(client, username, password):
    return client.post(
        reverse("api:auth-token"), {"username": username, "password": password}, format="json"
    )


def test_api_token_login_locks_after_failures_even_with_the_right_password(throttled):
    StaffFactory(username="kassa")
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    for _ in range(2):
        response = _token(client, "kassa", "wrong")
        assert response.status_code == 401
        assert response.json()["code"] == "invalid_credentials"
    # The failure that reaches the limit already answers "locked", and so does what follows.
    assert _token(client, "kassa", "wrong").status_code == 429
    locked = _token(client, "kassa", PASSWORD)
    assert locked.status_code == 429
    assert locked.json() == {
        "code": "login_locked",
        "message": "Too many failed logins; try again later.",
        "details": {},
    }


def test_portal_login_locks_with_a_clear_page(throttled):
    StaffFactory(username="tester.gnt")
    client = Client()
    url = reverse("portal:login")
    for _ in range(2):
        assert client.post(url, {"username": "tester.gnt", "password": "wrong"}).status_code == 200
    assert client.post(url, {"username": "tester.gnt", "password": "wrong"}).status_code == 429
    locked = client.post(url, {"username": "tester.gnt", "password": PASSWORD})
    assert locked.status_code == 429
    assert "Content-Security-Policy" in locked
    assert b"<h1>" in locked.content
    assert b"tester.gnt" not in locked.content  # the page names nobody
    assert "_auth_user_id" not in client.session


def test_one_persons_typos_never_lock_colleagues_on_the_same_address(throttled):
    # given: a store's tills share one address (the shop's router)
    StaffFactory(username="kassa.1")
    StaffFactory(username="kassa.2")
    client = APIClient()
    # when: one cashier mistypes until locked
    for _ in range(2):
        assert _token(client, "kassa.1", "wrong").status_code == 401
    assert _token(client, "kassa.1", "wrong").status_code == 429
    # then: that cashier is locked, the colleague on the same address is not
    assert _token(client, "kassa.1", PASSWORD).status_code == 429
    assert _token(client, "kassa.2", PASSWORD).status_code == 200


def test_a_username_locked_from_one_address_is_not_locked_from_another(throttled):
    StaffFactory(username="kassa")
    here, elsewhere = APIClient(REMOTE_ADDR="10.0.0.1"), APIClient(REMOTE_ADDR="10.0.0.2")
    for _ in range(3):
        _token(here, "kassa", "wrong")
    assert _token(here, "kassa", PASSWORD).status_code == 429
    # Nobody can lock a colleague out by guessing their name from somewhere else.
    assert _token(elsewhere, "kassa", PASSWORD).status_code == 200


def test_lockout_counters_live_in_the_database_not_in_redis(throttled, settings):
    from axes.models import AccessAttempt

    assert settings.AXES_HANDLER == "axes.handlers.database.AxesDatabaseHandler"
    StaffFactory(username="kassa")
    _token(APIClient(), "kassa", "wrong")
    assert AccessAttempt.objects.filter(failures_since_start=1).count() == 1


def test_right_password_before_the_limit_logs_in(throttled):
    StaffFactory(username="kassa")
    client = APIClient()
    for _ in range(2):
        assert _token(client, "kassa", "wrong").status_code == 401
    assert _token(client, "kassa", PASSWORD).status_code == 200


def test_failures_are_logged_without_username_or_address(throttled, caplog):
    StaffFactory(username="kassa.secret")
    client = APIClient()
    with caplog.at_level("DEBUG"):
        for _ in range(4):
            _token(client, "kassa.secret", "wrong")
    assert "kassa.secret" not in caplog.text
    assert "127.0.0.1" not in caplog.text


LOCKED = {
    "nl": (
        "Te veel mislukte aanmeldingen; probeer het later opnieuw.",
        "Te veel mislukte aanmeldingen",
    ),
    "fr": ("Trop de connexions échouées ; réessayez plus tard.", "Trop de connexions échouées"),
}


@pytest.mark.parametrize("language", ["nl", "fr"])
def test_the_lockout_speaks_the_staff_member_s_language(throttled, language):
    api_words, page_title = LOCKED[language]
    StaffFactory(username="kassa")
    api = APIClient(HTTP_ACCEPT_LANGUAGE=language)
    # given: wrong passwords answered in the language too
    wrong = _token(api, "kassa", "wrong")
    assert wrong.json()["code"] == "invalid_credentials"
    assert wrong.json()["message"] != "Wrong username or password."
    for _ in range(2):
        _token(api, "kassa", "wrong")

    # when: locked, over the API and on the login page
    locked = _token(api, "kassa", PASSWORD)
    page = Client()
    page.cookies["django_language"] = language
    url = reverse("portal:login")
    for _ in range(3):
        page.post(url, {"username": "kassa", "password": "wrong"})
    locked_page = page.post(url, {"username": "kassa", "password": PASSWORD})

    # then
    assert locked.status_code == 429
    assert locked.json()["message"] == api_words
    assert locked_page.status_code == 429
    html = locked_page.content.decode()
    assert f"<h1>{page_title}</h1>" in html
    assert "Too many failed logins" not in html and "Logging in is paused" not in html


def test_a_locked_login_page_leaves_a_colleague_on_the_same_address_free(throttled):
    # given: two cashiers on one till's address; one mistypes until locked
    StaffFactory(username="kassa.1")
    StaffFactory(username="kassa.2")
    till = Client(REMOTE_ADDR="10.0.0.7")
    url = reverse("portal:login")
    for _ in range(3):
        till.post(url, {"username": "kassa.1", "password": "wrong"})
    assert till.post(url, {"username": "kassa.1", "password": PASSWORD}).status_code == 429

    # when: the colleague logs in from the same address
    colleague = Client(REMOTE_ADDR="10.0.0.7")
    response = colleague.post(url, {"username": "kassa.2", "password": PASSWORD})

    # then: in, not locked
    assert response.status_code == 302
    assert "_auth_user_id" in colleague.session
