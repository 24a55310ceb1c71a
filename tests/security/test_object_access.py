"""Object-level access from the outside: every role, A's reader and nobody, against every route.

The API cases are one table, (caller, route, target store, expected), built from
`stores.access.ROLE_ACTIONS` and the right each route needs: adding a role or a route is one
edit. Every API route and every portal and dashboard page must have a case; a route added later
without one fails `test_every_*_has_a_case`. Members belong to the chain (a card works in every
store), so a member of store B is served at A's counter; acting *for* store B (its code in the
URL or body), B's readers, B's scans are refused to all but head office.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.core import mail
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from rest_framework.test import APIClient

from loyalty.models import EidScan, LedgerEntry, Member, MemberRead
from privacy.models import ConsentRecord, PrivacyTicket, TicketState
from stores.access import ROLE_ACTIONS, SWITCHED_ACTIONS, Action
from stores.models import ReaderDevice, StaffRole
from stores.services import chain_settings_save, reader_device_revoke
from tests.counter import member_ref
from tests.factories import HeadOfficeFactory, StaffFactory, UserFactory

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
# Every API route, with the right it needs (a `stores.access.Action`, or PUBLIC / STAFF / DEVICE)
# and what it answers when that right is there. Placeholders are filled per case: "store",
# "device", "scan" with the target store's (A's own, or B's); "ref" with a member reference
# issued to the caller at the target store; "member.number" with B's member (a member of the
# chain, served at any store's counter).
STAFF = "staff"  # any staff member: answers about their own stores only
SIGNED_IN = "signed_in"  # any signed-in user, about themselves only (their own API tokens)
DEVICE = "device"  # reader devices only


@dataclass(frozen=True)
class Route:
    method: str
    kwargs: dict
    body: dict | None
    needs: object  # an Action, PUBLIC, STAFF or DEVICE
    ok: int  # the status when allowed
    refused: int = 403  # the status when not (404 where the object is addressed by its id)

    @property
    def targeted(self) -> bool:
        """Whether the call names a store, or a store's device, scan or member reference."""
        values = [*self.kwargs.values(), *(self.body or {}).values()]
        return any(v in ("store", "device", "scan", "ref") for v in values)


ROUTES: dict[tuple[str, str], Route] = {
    ("ping", "get"): Route("get", {}, None, PUBLIC, 200),
    ("auth-token", "post"): Route("post", {}, {"username": "x", "password": "y"}, PUBLIC, 401),
    ("auth-tokens", "get"): Route("get", {}, None, SIGNED_IN, 200),
    ("auth-logout", "post"): Route("post", {}, None, SIGNED_IN, 204),
    ("auth-logout-all", "post"): Route("post", {}, None, SIGNED_IN, 200),
    ("staff-tokens-revoke", "post"): Route(
        "post", {"user_id": "cashier"}, None, Action.OFFICE_HEAD, 200
    ),
    ("store-list", "get"): Route("get", {}, None, STAFF, 200),
    ("store-rewards", "get"): Route("get", {"store_code": "store"}, None, Action.MEMBER_READ, 200),
    ("member-enroll", "post"): Route(
        "post",
        {},
        {
            "store": "store",
            "given_name": "Iris",
            "surname": "Outsider",
            "email": "iris.outsider@example.be",
            "phone": "+32470999111",
        },
        Action.MEMBER_ENROLL,
        201,
    ),
    ("member-lookup", "post"): Route(
        "post", {}, {"store": "store", "query": "member.number"}, Action.MEMBER_FIND, 200
    ),
    ("member-detail", "get"): Route(
        "get", {"member_ref": "ref"}, {"store": "store"}, Action.MEMBER_READ, 200
    ),
    ("member-ledger", "get"): Route(
        "get", {"member_ref": "ref"}, {"store": "store"}, Action.MEMBER_READ, 200
    ),
    ("points-earn", "post"): Route(
        "post", {"member_ref": "ref"}, {"store": "store", "amount": "10"}, Action.POINTS_EARN, 201
    ),
    ("points-quote", "post"): Route(
        "post", {"member_ref": "ref"}, {"store": "store", "amount": "10"}, Action.POINTS_EARN, 200
    ),
    # Allowed in, no such sale: 404 sale_not_found.
    ("points-return", "post"): Route(
        "post",
        {"member_ref": "ref"},
        {"store": "store", "sale_reference": "T-404", "amount": "5"},
        Action.POINTS_EARN,
        404,
    ),
    # Allowed in, the code is unknown: 404 coupon_not_found (refused: 403 before the lookup).
    ("coupon-redeem", "post"): Route(
        "post", {}, {"store": "store", "code": "ABCDEFGHJKMN"}, Action.POINTS_REDEEM, 404
    ),
    ("points-redeem", "post"): Route(
        "post", {"member_ref": "ref"}, {"store": "store", "points": 5}, Action.POINTS_REDEEM, 201
    ),
    ("device-list", "get"): Route("get", {"store_code": "store"}, None, Action.MEMBER_READ, 200),
    ("device-list", "post"): Route(
        "post", {"store_code": "store"}, {"name": "Reader 2"}, Action.READERS_MANAGE, 201
    ),
    ("device-revoke", "post"): Route(
        "post", {"store_code": "store", "device_id": "device"}, None, Action.READERS_MANAGE, 200
    ),
    ("eid-scan-arm", "post"): Route(
        "post",
        {},
        {"store": "store", "device": "device", "notice_language": "fr", "consent_given": True},
        Action.EID_SCAN,
        201,
    ),
    ("eid-scan-detail", "get"): Route(
        "get", {"scan_id": "scan"}, None, Action.EID_SCAN, 200, refused=404
    ),
    ("eid-scan-cancel", "post"): Route(
        "post", {"scan_id": "scan"}, None, Action.EID_SCAN, 200, refused=404
    ),
    ("device-scan-next", "get"): Route("get", {}, None, DEVICE, 200),
    ("device-scan-state", "get"): Route("get", {"scan_id": "scan"}, None, DEVICE, 200),
    ("device-scan-read", "post"): Route("post", {"scan_id": "scan"}, None, DEVICE, 200),
    ("device-scan-result", "post"): Route(
        "post",
        {"scan_id": "scan"},
        {"surname": "X", "given_names": "Y", "eid_token": "f" * 64},
        DEVICE,
        200,
    ),
    ("device-scan-failure", "post"): Route(
        "post", {"scan_id": "scan"}, {"code": "card_removed"}, DEVICE, 204
    ),
    ("member-consent", "get"): Route(
        "get", {"member_ref": "ref"}, {"store": "store"}, Action.MEMBER_READ, 200
    ),
    ("member-consent-withdraw", "post"): Route(
        "post",
        {"member_ref": "ref"},
        {"store": "store", "purpose": "marketing_email", "channel": "counter_form"},
        Action.CONSENT_WITHDRAW,
        200,
    ),
    # Opened, not run: the member confirms first (a code goes to their e-mail).
    ("member-erasure", "post"): Route(
        "post", {"member_ref": "ref"}, {"store": "store"}, Action.TICKET_OPEN, 201
    ),
    ("member-export", "post"): Route(
        "post", {"member_ref": "ref"}, {"store": "store"}, Action.TICKET_OPEN, 202
    ),
    # Allowed, there is nothing to confirm yet: the access check let it through to say so.
    ("member-ticket-confirm", "post"): Route(
        "post",
        {"member_ref": "ref"},
        {"store": "store", "kind": "erasure", "code": "123456"},
        Action.TICKET_OPEN,
        409,
    ),
}

# Who calls: every role of the access table, plus those who hold none.
NO_ROLE = "no_role"  # signed in, assigned to no store
READER = "reader"  # store A's reader device token
ANONYMOUS = "anonymous"
CALLERS = [*ROLE_ACTIONS, NO_ROLE, READER, ANONYMOUS]
AT_A, AT_B = "at_a", "at_b"  # acting for store A (where the caller works), or for store B
ALLOW, DENY = "allow", "deny"
# A right head office switches (stores.access.SWITCHED_ACTIONS) is tried off and on.
OFF, ON = "off", "on"


def expected(caller: str, route: Route, target: str, switch: str = OFF) -> str:
    """What the access rule says: the route's right in the caller's role, at the target store.

    A switched right is the role's only while head office has switched it on (`switch`).
    """
    if route.needs == PUBLIC:
        return PUBLIC
    here = target == AT_A or not route.targeted
    if route.needs == DEVICE:
        return ALLOW if caller == READER and here else DENY
    if route.needs in (STAFF, SIGNED_IN):  # answered about the caller's own stores or tokens
        return ALLOW if caller not in (READER, ANONYMOUS) else DENY
    if caller not in ROLE_ACTIONS:
        return DENY
    everywhere = caller == StaffRole.HEAD_OFFICE
    switched_off = route.needs in SWITCHED_ACTIONS and switch == OFF
    granted = route.needs in ROLE_ACTIONS[caller] and (everywhere or not switched_off)
    may = granted and (target == AT_A or everywhere)
    return ALLOW if may else DENY


# The one table of cases: (caller, route, target, switch, expected).
CASES = [
    (caller, key, target, switch, expected(caller, route, target, switch))
    for caller in CALLERS
    for key, route in ROUTES.items()
    for target in (AT_A, AT_B)
    for switch in ((OFF, ON) if route.needs in SWITCHED_ACTIONS else (OFF,))
]


def _user(caller: str, a):
    if caller == StaffRole.HEAD_OFFICE:
        return HeadOfficeFactory(username="head.office")
    if caller == NO_ROLE:
        return UserFactory(username="no.role")
    if caller == StaffRole.CASHIER:
        return a.cashier
    if caller == StaffRole.STORE_MANAGER:
        return a.manager
    return StaffFactory(username=f"{caller}.a", store=a.store, store__role=caller)


def _client(caller: str, a):
    """Return (client, the user it acts as): A's staff and readers, or nobody."""
    client = APIClient()
    if caller == READER:
        client.credentials(HTTP_AUTHORIZATION="Device " + a.device_token)
        return client, a.cashier  # a reference the cashier was given, used with a device
    if caller == ANONYMOUS:
        return client, a.cashier
    user = _user(caller, a)
    client.force_authenticate(user)
    return client, user


def _fill(spec, *, side, b, user):
    if not isinstance(spec, str):
        return spec
    return {
        "store": side.store.code,
        "device": side.device.pk,
        "scan": str(side.scan.pk),
        "member.number": b.member.number,
        "cashier": side.cashier.pk,
        "ref": lambda: member_ref(b.member, staff=user, store=side.store),
    }.get(spec, spec)


def _request(client, key, *, side, b, user):
    route = ROUTES[key]

    def fill(spec):
        value = _fill(spec, side=side, b=b, user=user)
        return value() if callable(value) else value

    url = reverse(f"api:{key[0]}", kwargs={k: fill(v) for k, v in route.kwargs.items()})
    data = None if route.body is None else {k: fill(v) for k, v in route.body.items()}
    if route.method == "get":
        return client.get(url, data)
    return client.post(url, data, format="json")


def _written() -> dict:
    """What a refused call must leave as it was."""
    return {
        "members": Member.objects.count(),
        "entries": LedgerEntry.objects.count(),
        "balances": list(Member.objects.order_by("pk").values_list("points_balance", flat=True)),
        "reads": MemberRead.objects.count(),
        "tickets": PrivacyTicket.objects.count(),
        "consents": ConsentRecord.objects.count(),
        "scans": list(EidScan.objects.order_by("pk").values_list("pk", "state")),
        "devices": list(ReaderDevice.objects.order_by("pk").values_list("pk", "revoked_at")),
        "mails": len(mail.outbox),
    }


def test_every_api_route_has_a_case():
    assert _names("api") == {name for name, _ in ROUTES}, "add a case for each new API route"


def test_the_table_covers_every_counter_right():
    """Each action a store role is granted is needed by some route the table tries."""
    granted = set().union(*(ROLE_ACTIONS[r] for r in ROLE_ACTIONS if r != StaffRole.HEAD_OFFICE))
    tried = {route.needs for route in ROUTES.values()}
    # office figures and campaigns: dashboard pages (tests/dashboard/test_campaigns_office.py)
    assert granted - {Action.OFFICE_FIGURES, Action.CAMPAIGNS_MANAGE} <= tried


@pytest.mark.parametrize(
    ("caller", "key", "target", "switch", "outcome"),
    CASES,
    ids=[f"{c}-{k[0]}-{k[1]}-{t}" + (f"-{s}" if s == ON else "") for c, k, t, s, _ in CASES],
)
def test_access_table(chain, caller, key, target, switch, outcome):
    a, b = chain
    if switch == ON:
        _managers_register_readers()
    client, user = _client(caller, a)
    side = a if target == AT_A else b
    before = _written()

    response = _request(client, key, side=side, b=b, user=user)

    route = ROUTES[key]
    if outcome == PUBLIC:
        assert response.status_code == route.ok, response.content[:300]
    elif outcome == DENY:
        if caller == ANONYMOUS:
            assert response.status_code == 401
        elif caller == READER:
            assert response.status_code in REFUSED
        else:
            assert response.status_code == route.refused, (
                response.status_code,
                response.content[:300],
            )
        _assert_refused(response, b)
        assert _written() == before, "a refused call wrote something"
    else:
        assert response.status_code == route.ok, (response.status_code, response.content[:300])
        _assert_allowed(key, response, caller=caller, a=a, b=b)


def _assert_allowed(key, response, *, caller, a, b) -> None:
    name = key[0]
    if name == "store-list":
        codes = {s["code"] for s in response.json()}
        mine = {
            StaffRole.HEAD_OFFICE: {a.store.code, b.store.code},
            NO_ROLE: set(),
        }.get(caller, {a.store.code})
        assert codes == mine
    elif name == "member-lookup":
        [found] = response.json()["results"]
        assert found["number"] == b.member.number and found["reference"].startswith("mr_")
    elif name == "device-scan-next":
        assert response.json()["scan_id"] == str(a.scan.pk)
    elif name in ("member-erasure", "member-export"):
        # the cashier's word is not enough: the request waits for the member
        assert response.json()["state"] == TicketState.AWAITING_VERIFICATION
        assert response.json()["confirmation"] == "email_code"
        assert Member.objects.filter(pk=b.member.pk).exists()
        assert b.member.number not in response.content.decode()


def _assert_refused(response, b) -> None:
    assert response.status_code in REFUSED, (response.status_code, response.content[:300])
    body = response.json()
    assert set(body) == {"code", "message", "details"}
    text = response.content.decode()
    for secret in (b.member.surname, b.member.email, b.device.name, str(b.scan.pk)):
        if secret and response.status_code != 404:
            assert secret not in text


def _managers_register_readers() -> None:
    """Head office lets store managers register their own stores' readers."""
    chain_settings_save(name="", privacy_contact="", site_url="", managers_register_readers=True)


def test_the_table_tries_a_manager_registering_readers_both_ways():
    manager = [
        (target, switch, outcome)
        for caller, key, target, switch, outcome in CASES
        if caller == StaffRole.STORE_MANAGER and key == ("device-list", "post")
    ]
    assert sorted(manager) == [
        (AT_A, OFF, DENY),
        (AT_A, ON, ALLOW),
        (AT_B, OFF, DENY),
        (AT_B, ON, DENY),
    ]
    cashier = {o for c, k, _, _, o in CASES if c == StaffRole.CASHIER and k[0] == "device-revoke"}
    assert cashier == {DENY}


def _staff_client(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token " + token)
    return client


def _device_client(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Device " + token)
    return client


def test_a_reader_sees_only_its_own_stores_scan(chain):
    a, _b = chain
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Device " + a.device_token)
    response = client.get(reverse("api:device-scan-next"))
    assert response.status_code == 200
    assert response.json()["scan_id"] == str(a.scan.pk)


def test_store_a_manager_cannot_revoke_store_b_reader_through_own_store(chain):
    a, b = chain
    _managers_register_readers()
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
    "portal:member": ("get", {"store_code": "b.store", "member_ref": "b.member"}, REFUSED),
    "portal:member_earn": ("post", {"store_code": "b.store", "member_ref": "b.member"}, REFUSED),
    "portal:member_redeem": ("post", {"store_code": "b.store", "member_ref": "b.member"}, REFUSED),
    "portal:member_email_add": (
        "post",
        {"store_code": "b.store", "member_ref": "b.member"},
        REFUSED,
    ),
    "portal:member_eid_withdraw": (
        "post",
        {"store_code": "b.store", "member_ref": "b.member"},
        REFUSED,
    ),
    "portal:eid_link": ("post", {"store_code": "b.store", "member_ref": "b.member"}, REFUSED),
    "portal:member_export": ("post", {"store_code": "b.store", "member_ref": "b.member"}, REFUSED),
    "portal:member_erasure": (
        "post",
        {"store_code": "b.store", "member_ref": "b.member"},
        REFUSED,
    ),
    "portal:member_request_confirm": (
        "post",
        {"store_code": "b.store", "member_ref": "b.member"},
        REFUSED,
    ),
    "portal:member_card": ("get", {"store_code": "b.store", "member_ref": "b.member"}, REFUSED),
    "portal:member_receipt": ("get", {"store_code": "b.store", "member_ref": "b.member"}, REFUSED),
    "portal:member_receipt_json": (
        "get",
        {"store_code": "b.store", "member_ref": "b.member"},
        REFUSED,
    ),
    "portal:member_wallet_apple": (
        "get",
        {"store_code": "b.store", "member_ref": "b.member"},
        REFUSED,
    ),
    "portal:member_wallet_google": (
        "get",
        {"store_code": "b.store", "member_ref": "b.member"},
        REFUSED,
    ),
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
    "reader_register": {"code": "b.store"},
    "reader_revoke": {"pk": "b.device"},
    "campaign_end": {"pk": 1},
    "webhook_active": {"pk": 1},
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
    "reader_register",
    "reader_revoke",
    "campaign_end",
    "tiers",
    "coupons",
    "webhooks",
    "webhook_active",
    "device_revoke",
    "staff_tokens_revoke",
    "reward_active",
    "consent_verify",
    "chain",
    "parity_run",
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
    "campaigns",
    "tiers",
    "coupons",
    "webhooks",
    "webhook_active",
    "device_revoke",
    "readers",
    "reader_register",
    "reader_revoke",
    "rewards",
    "rewards_csv",
    "reward_active",
    "staff",
    "staff_csv",
    "staff_tokens_revoke",
    "chain",
    "notices",
    "notices_csv",
    "notice",
    "member_reads",
    "compliance",
    "processing_record",
    "dpia",
    "dpia_odt",
    "parity_run",
}
for _name in DASHBOARD_PAGES:
    PAGE_CASES[f"dashboard:{_name}"] = (
        "post" if _name in _DASHBOARD_POST else "get",
        _DASHBOARD_KWARGS.get(_name, {}),
        REFUSED,
    )


def _page_value(spec, a, b):
    if not isinstance(spec, str) or not spec.startswith("b."):
        return spec
    if spec == "b.member":  # the best A's cashier can hold: a reference for B's counter
        return member_ref(b.member, staff=a.cashier, store=b.store)
    return {
        "b.store": b.store.code,
        "b.device": b.device.pk,
        "b.scan": str(b.scan.pk),
        "b.cashier": b.cashier.pk,
    }[spec]


def _page_url(name: str, a, b) -> str:
    _, kwargs, _ = PAGE_CASES[name]
    return reverse(name, kwargs={k: _page_value(v, a, b) for k, v in kwargs.items()})


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
    response = getattr(client, method)(_page_url(name, a, b), data)
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
    response = getattr(client, method)(_page_url(name, a, b))
    assert response.status_code < 500
    if expected != PUBLIC:
        # Pages know sessions only: a reader's token is nobody, sent to the login page.
        assert response.status_code == 302, response.status_code
        assert reverse("portal:login") in response["Location"]


# A manager's readers page: their own stores only, and only while head office lets them.
def _page_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("switch", [OFF, ON])
@pytest.mark.parametrize("who", ["a.manager", "a.cashier"])
def test_readers_pages_against_store_b(chain, who, switch):
    a, b = chain
    if switch == ON:
        _managers_register_readers()
    client = _page_client(a.manager if who == "a.manager" else a.cashier)
    before = _written()

    register = client.post(
        reverse("dashboard:reader_register", kwargs={"code": b.store.code}), {"name": "Mine now"}
    )
    revoke = client.post(reverse("dashboard:reader_revoke", kwargs={"pk": b.device.pk}))
    page = client.get(reverse("dashboard:readers"))

    for response in (register, revoke, page if who == "a.cashier" or switch == OFF else None):
        if response is not None:
            assert response.status_code in REFUSED, response.status_code
    text = "".join(r.content.decode() for r in (register, revoke, page))
    assert b.device.name not in text and b.store.name not in text
    assert _written() == before, "a refused call wrote something"


@pytest.mark.parametrize("who", ["a.manager", "a.cashier"])
def test_readers_of_ones_own_store_are_refused_while_head_office_has_not_allowed_it(chain, who):
    a, _b = chain
    client = _page_client(a.manager if who == "a.manager" else a.cashier)
    before = _written()

    register = client.post(
        reverse("dashboard:reader_register", kwargs={"code": a.store.code}), {"name": "New one"}
    )
    revoke = client.post(reverse("dashboard:reader_revoke", kwargs={"pk": a.device.pk}))

    assert register.status_code == 403 and revoke.status_code == 403
    assert "rd_" not in register.content.decode()
    assert _written() == before
