"""An API answer speaks one language: its message and its field errors follow the request's."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("language", "message", "field_error"),
    [
        ("nl", "Sommige velden ontbreken of zijn ongeldig.", "Dit veld is vereist."),
        ("fr", "Certains champs manquent ou ne sont pas valables.", "Ce champ est obligatoire."),
        ("en", "Some fields are missing or invalid.", "This field is required."),
    ],
)
def test_a_refused_join_answers_in_the_request_s_language(
    api, store, language, message, field_error
):
    response = api.post(
        "/api/v1/members/",
        {"store": "GNT01", "given_name": "Lotte"},
        format="json",
        HTTP_ACCEPT_LANGUAGE=language,
    )

    body = response.json()
    assert response.status_code == 400
    assert body["code"] == "invalid_input"
    assert body["message"] == message
    assert body["details"]["surname"] == [field_error]


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("nl", "Dit adres bestaat niet in de API."),
        ("fr", "Cette adresse n\u2019existe pas dans l\u2019API."),
    ],
)
def test_an_unknown_endpoint_answers_in_the_request_s_language(api, language, message):
    response = api.get("/api/v1/no-such-thing/", HTTP_ACCEPT_LANGUAGE=language)

    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "message": message, "details": {}}


def test_a_domain_error_answers_in_the_request_s_language(api, store):
    response = api.get(
        "/api/v1/members/mr_nonsense/", {"store": "GNT01"}, HTTP_ACCEPT_LANGUAGE="fr"
    )

    body = response.json()
    assert body["code"] == "member_reference_invalid"
    assert body["message"] == (
        "Cette référence de membre n\u2019est pas valable ici : recherchez à nouveau le membre."
    )
