"""The whole API fuzzed from its OpenAPI schema (schemathesis) over HTTP, with its conformance
checks: as a cashier, as a reader device, and past the member reference check.

Against the live server (pytest-django's `live_server`: real sockets, the real middleware).
Every check schemathesis has for a single call runs: no server error; every status, header,
content type and body is the one the schema documents (errors in the one `Error` format);
schema-valid input is not refused with a 400 and schema-invalid input is refused; auth that
the schema requires is not ignored; an undocumented method answers 405. Bounded and
deterministic: a fixed number of examples per operation, derandomized, positive and negative.
Formats that only the server can check (a member number's check digit, a dialable phone
number) are generated valid here; the schema names them (`member-number`, `phone`).
"""

from __future__ import annotations

import pytest
import requests
import schemathesis
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st

from loyalty.numbers import luhn_check_digit
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

MAX_EXAMPLES = 12

schemathesis.openapi.format(
    "member-number",
    st.integers(10**10, 10**11 - 1).map(lambda p: str(p) + luhn_check_digit(str(p))),
)
schemathesis.openapi.format("phone", st.integers(0, 9_999_999).map(lambda n: f"+32 47{n:07d}"))
schema = schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True))
# Each test sends its own credentials (a cashier's token, a reader's); `ignored_auth` still
# checks that an operation refuses a call without them.
schema.config.generation.update(with_security_parameters=False)

FUZZ = settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture
def counter(transactional_db, live_server, settings):
    """A store with a cashier, a reader, a member and a reward behind a live server."""
    settings.EID_DEVICE_POLL_MAX_SECONDS = 0
    store = StoreFactory(code="GNT01", name="Gent")
    EarningRuleFactory(store=store)
    cashier = StaffFactory(username="fuzz.cashier", store=store)
    _, device_token = reader_device_register(store=store, name="Fuzz reader")
    member = MemberFactory(home_store=store, points_balance=500)
    RewardFactory(stores=[store])
    with requests.Session() as session:
        yield {
            "url": live_server.url,
            "session": session,
            "cashier": "Token " + staff_token(cashier),
            "device": "Device " + device_token,
            "reference": member_ref(member, staff=cashier, store=store),
        }


def _check(case, counter, authorization: str) -> None:
    case.call_and_validate(
        base_url=counter["url"],
        session=counter["session"],
        headers={"Authorization": authorization},
        timeout=30,
    )


@schema.parametrize()
@FUZZ
def test_api_as_cashier(case, counter):
    _check(case, counter, counter["cashier"])


@schema.parametrize()
@FUZZ
def test_api_as_reader_device(case, counter):
    _check(case, counter, counter["device"])


@schema.include(path_regex=r"\{member_ref\}").parametrize()
@FUZZ
def test_member_routes_with_a_valid_reference(case, counter):
    """Past the reference check: a real reference for this cashier at GNT01, the rest fuzzed."""
    case.path_parameters = {**(case.path_parameters or {}), "member_ref": counter["reference"]}
    if isinstance(case.body, dict) and "store" in case.body:
        case.body = {**case.body, "store": "GNT01"}
    if case.query is not None and "store" in case.query:
        case.query = {**case.query, "store": "GNT01"}
    _check(case, counter, counter["cashier"])
