"""A database that stops answering: pages answer 503 with a page of their own, never a 500.

The outage is simulated on the test's own connection: every query raises OperationalError,
as psycopg does when PostgreSQL went away (the fault suite cuts the real one).
"""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from django.db import OperationalError, connection

from tests.factories import StaffFactory


@contextmanager
def database_down():
    def refuse(execute, sql, params, many, context):
        raise OperationalError("server closed the connection unexpectedly")

    with connection.execute_wrapper(refuse):
        yield


# Pages a signed-in cashier or head office reads: each needs the session and the user.
STAFF_PAGES = ["/counter/", "/counter/GNT01/", "/office/", "/admin/"]


def _assert_outage_page(response, expected: str) -> None:
    assert response.status_code == 503, response.status_code
    assert response["Content-Type"].startswith("text/html")
    assert response["Retry-After"] == "5"
    assert "no-store" in response["Cache-Control"]
    page = response.content.decode()
    assert "<html" in page and "Traceback" not in page
    assert expected in page, page


@pytest.mark.django_db
@pytest.mark.parametrize("path", STAFF_PAGES)
def test_a_staff_page_answers_503_with_a_page_while_the_database_is_down(client, store, path):
    # given: a cashier signed in (the session and the user are read from the database)
    client.force_login(StaffFactory(username="outage.cashier", store=store))

    # when
    with database_down():
        response = client.get(path)

    # then: a short HTML page in the visitor's language, a retry hint, nothing cached
    _assert_outage_page(response, "De dienst is even niet beschikbaar")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "expected"),
    [("nl", "De dienst is even niet beschikbaar"), ("fr", "Le service est momentanément")],
)
def test_a_customer_page_answers_503_in_its_language(client, language, expected):
    # given: the public request form, sent while the database is down (the form's page itself
    # needs no database)
    with database_down():
        sent = client.post(f"/{language}/privacy/erasure/", {"identifier": "a@example.be"})
    _assert_outage_page(sent, expected)


@pytest.mark.django_db
def test_the_api_answers_503_in_the_error_format_while_the_database_is_down(api):
    with database_down():
        response = api.post("/api/v1/members/lookup/", {"store": "GNT01", "query": "x@y.be"})
    assert response.status_code == 503
    assert response.json()["code"] == "service_unavailable"
    assert response["Retry-After"] == "5"


@pytest.mark.django_db
def test_pages_answer_again_once_the_database_is_back(client, store):
    client.force_login(StaffFactory(username="outage.cashier", store=store))
    with database_down():
        assert client.get("/counter/").status_code == 503
    assert client.get("/counter/").status_code in (200, 302)
