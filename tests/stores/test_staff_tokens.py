"""Staff API tokens: one per login or device, hashed, expiring, revocable (stores.services)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework.test import APIClient

from stores import tasks
from stores.models import StaffToken
from stores.selectors import staff_tokens_expire
from stores.services import staff_token_create
from tests.errors import assert_error
from tests.factories import HeadOfficeFactory, StaffFactory, staff_token

pytestmark = pytest.mark.django_db

PASSWORD = "pw-for-tests-only"


def login(username: str = "cashier", **extra) -> dict:
    response = APIClient().post(
        "/api/v1/auth/token/", {"username": username, "password": PASSWORD, **extra}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response["Cache-Control"] == "no-store"
    return response.json()


def client_with(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token " + token)
    return client


def works(token: str) -> bool:
    return client_with(token).get("/api/v1/stores/").status_code == 200


# Login ------------------------------------------------------------------------------------


def test_each_login_gets_a_new_token_that_expires_after_the_working_day(cashier, settings):
    # when
    before = timezone.now()
    first, second = login(), login()

    # then: two tokens, both valid, for the configured hours
    assert first["token"] != second["token"]
    assert works(first["token"]) and works(second["token"])
    expires = parse_datetime(first["expires_at"])
    hours = timedelta(hours=settings.STAFF_TOKEN_TTL_HOURS)
    assert before + hours <= expires <= timezone.now() + hours
    assert set(first) == {"token", "expires_at", "device"}


def test_a_device_holds_one_token_logging_in_again_replaces_it(cashier):
    # given
    till = login(device="Till 1")
    phone = login(device="Phone")

    # when
    again = login(device="Till 1")

    # then
    assert again["device"] == "Till 1"
    assert not works(till["token"])
    assert works(again["token"]) and works(phone["token"])
    assert StaffToken.objects.filter(user=cashier).count() == 2


def test_past_the_limit_a_login_revokes_the_oldest_tokens(cashier, settings):
    # given
    settings.STAFF_TOKEN_LIMIT_PER_USER = 3
    tokens = [login()["token"] for _ in range(3)]

    # when
    newest = login()["token"]

    # then: the till logging in is not refused; the oldest token went
    assert [works(t) for t in tokens] == [False, True, True]
    assert works(newest)
    assert StaffToken.objects.filter(user=cashier).count() == 3


def test_the_token_is_kept_hashed_and_never_shown_again(cashier):
    # given
    text = login(device="Till 1")["token"]

    # when: everything the database and the API hold about it afterwards
    [row] = StaffToken.objects.filter(user=cashier).values()
    listed = client_with(text).get("/api/v1/auth/tokens/")

    # then: only knox's lookup prefix and a hash are stored; the list shows neither
    assert text not in str(row)
    assert row["digest"] != text and len(row["digest"]) == 128
    assert text.startswith(row["token_key"]) and len(row["token_key"]) < len(text) // 4
    assert text not in listed.content.decode()
    assert row["digest"] not in listed.content.decode()
    [entry] = listed.json()
    assert set(entry) == {"id", "device", "created", "expiry", "current"}
    assert entry["device"] == "Till 1" and entry["current"] is True


def test_the_list_shows_only_my_live_tokens(cashier, store):
    # given: two of mine, one expired, one of a colleague
    mine = login(device="Till 1")["token"]
    login(device="Till 2")
    expired, _ = staff_token_create(user=cashier, device="Old")
    StaffToken.objects.filter(pk=expired.pk).update(expiry=timezone.now() - timedelta(minutes=1))
    staff_token(StaffFactory(store=store), device="Till 9")

    # when
    listed = client_with(mine).get("/api/v1/auth/tokens/").json()

    # then
    assert sorted(t["device"] for t in listed) == ["Till 1", "Till 2"]
    assert [t["current"] for t in listed if t["device"] == "Till 1"] == [True]


def test_without_a_ttl_tokens_never_expire_and_the_compliance_check_says_so(cashier, settings):
    # given
    assert staff_tokens_expire() is True
    settings.REST_KNOX = {**settings.REST_KNOX, "TOKEN_TTL": None}

    # when
    answer = login()

    # then
    assert answer["expires_at"] is None
    assert staff_tokens_expire() is False


# Refused tokens ---------------------------------------------------------------------------


def test_an_expired_token_is_refused_and_purged(cashier):
    # given: a token whose working day ended a second ago (time moved by its expiry)
    text = login()["token"]
    StaffToken.objects.update(expiry=timezone.now() - timedelta(seconds=1))

    # when
    response = client_with(text).get("/api/v1/stores/")

    # then
    assert_error(response, 401, "token_expired")
    assert response["WWW-Authenticate"] == "Token"
    assert tasks.staff_tokens_purge.delay().get() == 1
    assert_error(client_with(text).get("/api/v1/stores/"), 401, "authentication_failed")


def test_a_login_drops_the_user_s_expired_tokens(cashier):
    # given
    login()
    StaffToken.objects.update(expiry=timezone.now() - timedelta(seconds=1))

    # when
    login()

    # then
    assert StaffToken.objects.filter(user=cashier).count() == 1


@pytest.mark.parametrize(
    "header",
    [
        "Token",
        "Token a b",
        "Token nope",
        "Token " + "0" * 64,
        "Token " + "f" * 500,
    ],
)
def test_a_bad_header_is_refused_in_the_error_format(cashier, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)

    response = client.get("/api/v1/stores/")

    assert_error(response, 401, "authentication_failed")
    assert response["WWW-Authenticate"] == "Token"


def test_a_token_that_differs_after_the_lookup_prefix_is_refused(cashier):
    # given: the stored prefix with another secret behind it
    text = login()["token"]
    forged = text[:15] + ("0" if text[15] != "0" else "1") + text[16:]

    # then
    assert_error(client_with(forged).get("/api/v1/stores/"), 401, "authentication_failed")
    assert works(text)


# Revocation -------------------------------------------------------------------------------


def test_logout_revokes_only_this_token(cashier):
    # given
    till, phone = login(device="Till 1")["token"], login(device="Phone")["token"]

    # when
    response = client_with(till).post("/api/v1/auth/logout/")

    # then: refused from the very next call
    assert response.status_code == 204
    assert_error(client_with(till).get("/api/v1/stores/"), 401, "authentication_failed")
    assert works(phone)


def test_logout_all_revokes_every_token_of_mine_only(cashier, store):
    # given
    till, phone = login(device="Till 1")["token"], login(device="Phone")["token"]
    colleague = staff_token(StaffFactory(store=store))

    # when
    response = client_with(till).post("/api/v1/auth/logout-all/")

    # then
    assert response.status_code == 200 and response.json() == {"revoked": 2}
    assert not works(till) and not works(phone)
    assert works(colleague)


def test_head_office_revokes_another_staff_member_s_tokens(cashier):
    # given
    tokens = [login(device="Till 1")["token"], login(device="Till 2")["token"]]
    office = staff_token(HeadOfficeFactory())

    # when
    response = client_with(office).post(f"/api/v1/staff/{cashier.pk}/tokens/revoke/")

    # then
    assert response.status_code == 200 and response.json() == {"revoked": 2}
    assert not any(works(t) for t in tokens)
    assert works(office)


def test_a_cashier_cannot_revoke_another_s_tokens(cashier, store):
    # given
    colleague = StaffFactory(store=store)
    theirs = staff_token(colleague)
    mine = login()["token"]

    # when
    response = client_with(mine).post(f"/api/v1/staff/{colleague.pk}/tokens/revoke/")

    # then
    assert_error(response, 403, "forbidden")
    assert works(theirs)


def test_head_office_revoking_an_unknown_user_is_not_found(db):
    office = staff_token(HeadOfficeFactory())

    response = client_with(office).post("/api/v1/staff/999999/tokens/revoke/")

    assert_error(response, 404, "not_found")


# Schema -----------------------------------------------------------------------------------


def test_the_schema_documents_every_answer_of_the_token_endpoints(db):
    schema = APIClient().get("/api/schema/?format=json").json()
    paths = schema["paths"]

    login_answers = paths["/api/v1/auth/token/"]["post"]["responses"]
    assert set(login_answers) == {"200", "400", "401", "413", "415", "429", "503"}
    assert "invalid_credentials" in login_answers["401"]["description"]
    for path, method in [
        ("/api/v1/auth/logout/", "post"),
        ("/api/v1/auth/logout-all/", "post"),
        ("/api/v1/auth/tokens/", "get"),
        ("/api/v1/staff/{user_id}/tokens/revoke/", "post"),
    ]:
        answers = paths[path][method]["responses"]
        assert "token_expired" in answers["401"]["description"], path
    revoke = paths["/api/v1/staff/{user_id}/tokens/revoke/"]["post"]["responses"]
    assert {"200", "401", "403", "404"} <= set(revoke)
    assert "staffTokenAuth" in schema["components"]["securitySchemes"]
