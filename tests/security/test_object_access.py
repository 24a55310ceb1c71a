"""Object-level access from the outside: store A's cashier and reader against store B's data.

Every API route and every portal and dashboard page must have a case in the tables below; a
route added later without one fails `test_every_*_has_a_case`. Members belong to the chain
(a card works in every store), so reading a member of store B is allowed at A's counter; acting
*for* store B (its code in the URL or body), B's readers, B's scans are refused.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from rest_framework.test import APIClient

from stores.services import reader_device_revoke

REFUSED = {401, 403, 404}
PUBLIC = "public"  # no store's data behind it
CHAIN = "chain"  # a member of the chain: readable at any of its stores, by design


def _names(namespace: str) -> set[str]:
    """Return the URL names under `namespace`, read from the resolver (nothing hand-listed)."""
    resolver = get_resolver()
    found: set[str] = set()

    def walk(patterns, prefix: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                ns = f"{prefix}{pattern.namespace}:" if pattern.namespace else prefix
                walk(pattern.url_patterns, ns)
            elif isinstance(pattern, URLPattern) and pattern.name and prefix == namespace + ":":
                found.add(pattern.name)

    walk(resolver.url_patterns, "")
    return found


# API ---------------------------------------------------------------------------------------
# name -> (method, path kwargs, body, what store A's cashier gets). Values in kwargs/body
# written as "b.store", "b.member", "b.device", "b.scan" are store B's objects.
API_CASES = {
    "ping": ("get", {}, None, PUBLIC),
    "auth-token": ("post", {}, {"username": "x", "password": "y"}, PUBLIC),
    # About the caller's own tokens only (tests/stores/test_staff_tokens.py).
    "auth-tokens": ("get", {}, None, PUBLIC),
    "auth-logout": ("post", {}, None, PUBLIC),
    "auth-logout-all": ("post", {}, None, PUBLIC),
    "staff-tokens-revoke": ("post", {"user_id": "b.cashier"}, None, REFUSED),
    "store-list": ("get", {}, None, "own-stores-only"),
    "store-rewards": ("get", {"store_code": "b.store"}, None, REFUSED),
    "member-enroll": (
        "post",
        {},
        {
            "store": "b.store",
            "given_name": "Iris",
            "surname": "Outsider",
            "email": "iris.outsider@example.be",
            "phone": "+32470999111",
        },
        REFUSED,
    ),
    "member-lookup": ("post", {}, {"query": "b.member.number"}, CHAIN),
    "member-detail": ("get", {"member_id": "b.member"}, None, CHAIN),
    "member-ledger": ("get", {"member_id": "b.member"}, None, CHAIN),
    "points-earn": (
        "post",
        {"member_id": "b.member"},
        {"store": "b.store", "amount": "10"},
        REFUSED,
    ),
    "points-redeem": (
        "post",
        {"member_id": "b.member"},
        {"store": "b.store", "points": 5},
        REFUSED,
    ),
    "device-list": ("get", {"store_code": "b.store"}, None, REFUSED),
    "device-revoke": ("post", {"store_code": "b.store", "device_id": "b.device"}, None, REFUSED),
    "eid-scan-arm": (
        "post",
        {},
        {"store": "b.store", "device": "b.device", "notice_language": "fr", "consent_given": True},
        REFUSED,
    ),
    "eid-scan-detail": ("get", {"scan_id": "b.scan"}, None, REFUSED),
    "eid-scan-cancel": ("post", {"scan_id": "b.scan"}, None, REFUSED),
    "device-scan-next": ("get", {}, None, "device-only"),
    "device-scan-state": ("get", {"scan_id": "b.scan"}, None, "device-only"),
    "device-scan-read": ("post", {"scan_id": "b.scan"}, None, "device-only"),
    "device-scan-result": (
        "post",
        {"scan_id": "b.scan"},
        {"surname": "X", "given_names": "Y", "eid_token": "f" * 64},
        "device-only",
    ),
    "device-scan-failure": ("post", {"scan_id": "b.scan"}, {"code": "card_removed"}, "device-only"),
    "member-consent": ("get", {"member_id": "b.member"}, None, CHAIN),
    "member-consent-withdraw": (
        "post",
        {"member_id": "b.member"},
        {"store": "b.store", "purpose": "marketing_email", "channel": "counter_form"},
        REFUSED,
    ),
    "member-erasure": ("post", {"member_id": "b.member"}, {"store": "b.store"}, REFUSED),
    "member-export": ("post", {"member_id": "b.member"}, {"store": "b.store"}, REFUSED),
}


def _value(spec, b):
    if not isinstance(spec, str) or not spec.startswith("b."):
        return spec
    return {
        "b.store": b.store.code,
        "b.cashier": b.cashier.pk,
        "b.member": b.member.pk,
        "b.member.number": b.member.number,
        "b.device": b.device.pk,
        "b.scan": str(b.scan.pk),
    }[spec]


def _api_request(client, name, b):
    method, kwargs, body, _ = API_CASES[name]
    url = reverse(f"api:{name}", kwargs={k: _value(v, b) for k, v in kwargs.items()})
    data = {k: _value(v, b) for k, v in (body or {}).items()} if body is not None else None
    return getattr(client, method)(url, data, format="json")


def _staff_client(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token " + token)
    return client


def _device_client(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Device " + token)
    return client


def _assert_refused(response, b) -> None:
    assert response.status_code in REFUSED, (response.status_code, response.content[:300])
    body = response.json()
    assert set(body) == {"code", "message", "details"}
    text = response.content.decode()
    for secret in (b.member.surname, b.member.email, b.device.name, str(b.scan.pk)):
        if secret and response.status_code != 404:
            assert secret not in text


def test_every_api_route_has_a_case():
    assert _names("api") == set(API_CASES), "add a case for each new API route"


@pytest.mark.parametrize("name", sorted(API_CASES))
def test_store_a_cashier_against_store_b(chain, name):
    a, b = chain
    expected = API_CASES[name][3]
    response = _api_request(_staff_client(a.cashier_token), name, b)
    if expected == PUBLIC:
        assert response.status_code < 500
    elif expected == CHAIN:
        assert response.status_code == 200, response.content[:300]
    elif expected == "own-stores-only":
        assert response.status_code == 200
        codes = {s["code"] for s in response.json()}
        assert codes == {a.store.code}
    else:  # REFUSED, and device-only routes refuse a staff token
        _assert_refused(response, b)


@pytest.mark.parametrize("name", sorted(API_CASES))
def test_store_a_reader_against_store_b(chain, name):
    a, b = chain
    expected = API_CASES[name][3]
    response = _api_request(_device_client(a.device_token), name, b)
    if expected == PUBLIC:
        assert response.status_code < 500
    elif name == "device-scan-next":
        # A's reader only ever sees A's scan, never the one armed for B's reader.
        assert response.status_code == 200
        assert response.json()["scan_id"] == str(a.scan.pk)
    else:  # staff routes refuse a device token; B's scan is not A's reader's to answer
        _assert_refused(response, b)


def test_store_a_manager_cannot_revoke_store_b_reader_through_own_store(chain):
    a, b = chain
    client = APIClient()
    client.force_authenticate(a.manager)
    url = reverse(
        "api:device-revoke", kwargs={"store_code": a.store.code, "device_id": b.device.pk}
    )
    _assert_refused(client.post(url), b)
    b.device.refresh_from_db()
    assert b.device.revoked_at is None


def test_store_a_cashier_cannot_arm_store_b_reader_from_own_store(chain):
    a, b = chain
    response = _staff_client(a.cashier_token).post(
        reverse("api:eid-scan-arm"),
        {
            "store": a.store.code,
            "device": b.device.pk,
            "notice_language": "nl",
            "consent_given": True,
        },
        format="json",
    )
    _assert_refused(response, b)


def test_revoked_device_token_is_refused(chain):
    a, _ = chain
    reader_device_revoke(device=a.device)
    response = _device_client(a.device_token).get(reverse("api:device-scan-next"))
    assert response.status_code == 401
    assert response.json()["code"] == "device_revoked"


def test_expired_session_is_refused(chain, client):
    a, _ = chain
    client.force_login(a.cashier)
    Session.objects.update(expire_date=timezone.now() - timedelta(seconds=1))
    api = client.get(reverse("api:store-list"))
    assert api.status_code in (401, 403)
    assert api.json()["code"] == "not_authenticated"
    page = client.get(reverse("portal:counter", kwargs={"store_code": a.store.code}))
    assert page.status_code == 302 and reverse("portal:login") in page["Location"]


def test_staff_session_without_token_cannot_use_device_routes(chain, client):
    a, _ = chain
    client.force_login(a.cashier)
    response = client.get(reverse("api:device-scan-next"))
    assert response.status_code in (401, 403)


# Pages -------------------------------------------------------------------------------------
# name -> (method, kwargs, what store A's cashier gets). "login" means: reachable without
# being signed in, holding no store's data.
OWN = "own"  # pages about the signed-in user only (their stores): allowed, show A only
PAGE_CASES = {
    # portal
    "portal:home": ("get", {}, OWN),
    "portal:login": ("get", {}, PUBLIC),
    "portal:logout": ("post", {}, PUBLIC),
    "portal:store_change": ("get", {}, OWN),
    "portal:store_pick": ("post", {}, "pick-b"),
    "portal:counter": ("get", {"store_code": "b.store"}, REFUSED),
    "portal:search": ("get", {"store_code": "b.store"}, REFUSED),
    "portal:join": ("get", {"store_code": "b.store"}, REFUSED),
    "portal:eid_consent": ("get", {"store_code": "b.store"}, REFUSED),
    "portal:scan": ("get", {"store_code": "b.store", "scan_id": "b.scan"}, REFUSED),
    "portal:scan_state": ("get", {"store_code": "b.store", "scan_id": "b.scan"}, REFUSED),
    "portal:scan_cancel": ("post", {"store_code": "b.store", "scan_id": "b.scan"}, REFUSED),
    "portal:member": ("get", {"store_code": "b.store", "member_id": "b.member"}, REFUSED),
    "portal:member_earn": ("post", {"store_code": "b.store", "member_id": "b.member"}, REFUSED),
    "portal:member_redeem": ("post", {"store_code": "b.store", "member_id": "b.member"}, REFUSED),
    "portal:member_eid_withdraw": (
        "post",
        {"store_code": "b.store", "member_id": "b.member"},
        REFUSED,
    ),
    "portal:eid_link": ("post", {"store_code": "b.store", "member_id": "b.member"}, REFUSED),
    "portal:member_export": ("post", {"store_code": "b.store", "member_id": "b.member"}, REFUSED),
    "portal:member_erasure": (
        "post",
        {"store_code": "b.store", "member_id": "b.member"},
        REFUSED,
    ),
    "portal:member_card": ("get", {"store_code": "b.store", "member_id": "b.member"}, REFUSED),
}
# The dashboard is head office's (and managers' for their own store): a cashier gets none of it.
_DASHBOARD_KWARGS = {
    "figures_csv": {"key": "stores"},
    "ticket": {"pk": 1},
    "ticket_action": {"pk": 1, "action": "approve"},
    "store": {"code": "b.store"},
    "store_rule": {"code": "b.store"},
    "campaign_create": {"code": "b.store"},
    "device_register": {"code": "b.store"},
    "campaign_end": {"pk": 1},
    "device_revoke": {"pk": "b.device"},
    "staff_tokens_revoke": {"user_id": "b.cashier"},
    "reward_active": {"pk": 1},
    "notice": {"pk": 1},
}
_DASHBOARD_POST = {
    "ticket_action",
    "store_rule",
    "campaign_create",
    "device_register",
    "campaign_end",
    "device_revoke",
    "staff_tokens_revoke",
    "reward_active",
    "consent_verify",
}
DASHBOARD_PAGES = {
    "figures",
    "figures_csv",
    "tickets",
    "tickets_csv",
    "ticket",
    "ticket_action",
    "consent",
    "consent_csv",
    "consent_verify",
    "stores",
    "stores_csv",
    "devices_csv",
    "store",
    "store_rule",
    "campaign_create",
    "device_register",
    "campaign_end",
    "device_revoke",
    "rewards",
    "rewards_csv",
    "reward_active",
    "staff",
    "staff_csv",
    "staff_tokens_revoke",
    "notices",
    "notices_csv",
    "notice",
    "compliance",
    "processing_record",
}
for _name in DASHBOARD_PAGES:
    PAGE_CASES[f"dashboard:{_name}"] = (
        "post" if _name in _DASHBOARD_POST else "get",
        _DASHBOARD_KWARGS.get(_name, {}),
        REFUSED,
    )


def _page_url(name: str, b) -> str:
    _, kwargs, _ = PAGE_CASES[name]
    return reverse(name, kwargs={k: _value(v, b) for k, v in kwargs.items()})


def test_every_page_has_a_case():
    pages = {f"portal:{n}" for n in _names("portal")} | {
        f"dashboard:{n}" for n in _names("dashboard")
    }
    assert pages == set(PAGE_CASES), "add a case for each new portal or dashboard page"


@pytest.mark.parametrize("name", sorted(PAGE_CASES))
def test_store_a_cashier_pages_against_store_b(chain, name):
    a, b = chain
    method, _, expected = PAGE_CASES[name]
    client = Client()
    client.force_login(a.cashier)
    data = {"store": b.store.code} if expected == "pick-b" else {}
    response = getattr(client, method)(_page_url(name, b), data)
    assert response.status_code < 500
    text = response.content.decode(errors="replace")
    if expected in (PUBLIC, OWN):
        assert b.store.name not in text
    elif expected == "pick-b":
        assert response.status_code == 403
        assert client.session.get("portal_store") != b.store.code
    else:
        assert response.status_code in REFUSED, (response.status_code, text[:300])
        assert b.member.surname not in text and b.member.number not in text
        assert b.device.name not in text


@pytest.mark.parametrize("name", sorted(PAGE_CASES))
def test_store_a_reader_token_opens_no_page(chain, name):
    a, b = chain
    method, _, expected = PAGE_CASES[name]
    client = Client(HTTP_AUTHORIZATION="Device " + a.device_token)
    response = getattr(client, method)(_page_url(name, b))
    assert response.status_code < 500
    if expected != PUBLIC:
        # Pages know sessions only: a reader's token is nobody, sent to the login page.
        assert response.status_code == 302, response.status_code
        assert reverse("portal:login") in response["Location"]
