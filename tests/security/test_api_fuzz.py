"""The whole API fuzzed from its OpenAPI schema (schemathesis), as a cashier and as a reader.

Bounded and deterministic: a fixed number of examples per operation, derandomized. Whatever
comes in, the API answers without a server error, and every 4xx is in the one error format.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, Phase, settings

from stores.services import reader_device_register
from tests.counter import member_ref
from tests.factories import (
    EarningRuleFactory,
    MemberFactory,
    RewardFactory,
    StaffFactory,
    StoreFactory,
    staff_token,
)

MAX_EXAMPLES = 20

schema = schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True))
app = get_wsgi_application()

FUZZ = settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture
def counter(db, settings):
    """A store with a cashier, a reader, a member and a reward; no device long-poll waits."""
    settings.EID_DEVICE_POLL_MAX_SECONDS = 0
    # Requests go through the real WSGI app: keep it from closing the test's connection after
    # each one (what Django's test client does too).
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    store = StoreFactory(code="GNT01", name="Gent")
    EarningRuleFactory(store=store)
    cashier = StaffFactory(username="fuzz.cashier", store=store)
    _, device_token = reader_device_register(store=store, name="Fuzz reader")
    member = MemberFactory(home_store=store, points_balance=500)
    RewardFactory(stores=[store])
    yield {
        "cashier": "Token " + staff_token(cashier),
        "device": "Device " + device_token,
        "reference": member_ref(member, staff=cashier, store=store),
    }
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def _check(case, authorization: str) -> None:
    response = case.call(app=app, headers={"Authorization": authorization})
    where = f"{case.method} {case.formatted_path}"
    assert response.status_code < 500, f"{where}: {response.status_code} {response.text[:300]}"
    if 400 <= response.status_code < 500:
        body = response.json()
        assert isinstance(body, dict) and set(body) == {"code", "message", "details"}, (
            f"{where}: {response.status_code} not in the error format: {response.text[:300]}"
        )
        assert isinstance(body["code"], str) and body["code"]
        assert isinstance(body["details"], dict)


@schema.parametrize()
@FUZZ
def test_api_as_cashier(case, counter):
    _check(case, counter["cashier"])


@schema.parametrize()
@FUZZ
def test_api_as_reader_device(case, counter):
    _check(case, counter["device"])


@schema.include(path_regex=r"\{member_ref\}").parametrize()
@FUZZ
def test_member_routes_with_a_valid_reference(case, counter):
    """Past the reference check: a real reference for this cashier at GNT01, the rest fuzzed."""
    case.path_parameters = {**(case.path_parameters or {}), "member_ref": counter["reference"]}
    if isinstance(case.body, dict) and "store" in case.body:
        case.body = {**case.body, "store": "GNT01"}
    if case.query is not None and "store" in case.query:
        case.query = {**case.query, "store": "GNT01"}
    _check(case, counter["cashier"])
