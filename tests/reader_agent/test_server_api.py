import pytest

from reader_agent.eid_card import ScanResult
from reader_agent.errors import DeviceTokenRefused, ServerBusy, ServerError, ServerUnavailable
from reader_agent.server_api import DeviceApi
from tests.reader_agent.fake_device_server import error

RESULT = ScanResult(
    surname="Peeters",
    given_names="Alice",
    eid_token="a" * 64,
    read_method="read_record",
    child_card=False,
)


def test_next_scan_returns_none_when_nothing_is_armed(device_server):
    assert DeviceApi(device_server.url, device_server.token).next_scan(wait=0) is None

    request = device_server.requests[0]
    assert request.path == "/api/v1/device/scans/next/?wait=0"
    assert request.headers["Authorization"] == f"Device {device_server.token}"


@pytest.mark.parametrize(("header", "seconds"), [("3", 3), ("120", 30)])
def test_a_busy_server_asks_the_reader_to_come_back_later(device_server, header, seconds):
    # The server holds all the waits it serves at once: 204 with Retry-After (at most 30 s).
    device_server.next_answers = [(204, None, {"Retry-After": header})]

    with pytest.raises(ServerBusy) as busy:
        DeviceApi(device_server.url, device_server.token).next_scan(wait=20)

    assert busy.value.retry_after == seconds


def test_a_retry_after_that_is_no_number_is_an_ordinary_204(device_server):
    device_server.next_answers = [(204, None, {"Retry-After": "soon"})]

    assert DeviceApi(device_server.url, device_server.token).next_scan(wait=20) is None


def test_next_scan_returns_the_armed_scan_with_an_aware_expiry(device_server):
    scan_id = device_server.arm_scan()

    scan = DeviceApi(device_server.url, device_server.token).next_scan(wait=1)

    assert scan.scan_id == scan_id
    assert scan.expires_at.tzinfo is not None


def test_result_and_failure_bodies_follow_the_contract(device_server):
    api = DeviceApi(device_server.url + "/", device_server.token)

    outcome = api.post_result("1b4e28ba-2fa1-11d2-883f-0016d3cca427", RESULT)
    api.post_failure("1b4e28ba-2fa1-11d2-883f-0016d3cca427", "card_removed", "pulled out")

    assert (outcome.member_id, outcome.created) == (7, True)
    result, failure = device_server.requests
    assert result.path == "/api/v1/device/scans/1b4e28ba-2fa1-11d2-883f-0016d3cca427/result/"
    assert result.json() == {
        "surname": "Peeters",
        "given_names": "Alice",
        "eid_token": "a" * 64,
        "read_method": "read_record",
        "child_card": False,
    }
    assert failure.json() == {"code": "card_removed", "message": "pulled out"}


def test_refused_token_raises_device_token_refused(device_server):
    with pytest.raises(DeviceTokenRefused) as caught:
        DeviceApi(device_server.url, "wrong").next_scan(wait=0)

    assert caught.value.code == "device_revoked"


@pytest.mark.parametrize(
    ("status", "body", "error_type", "code"),
    [
        (500, error("boom"), ServerUnavailable, "server_unavailable"),
        (503, None, ServerUnavailable, "server_unavailable"),
        (409, error("scan_expired"), ServerError, "scan_expired"),
        (403, error("consent_missing"), ServerError, "consent_missing"),
        (400, error("forbidden_personal_field"), ServerError, "forbidden_personal_field"),
        (400, None, ServerError, "server_error"),
    ],
)
def test_error_answers_map_to_typed_errors(device_server, status, body, error_type, code):
    device_server.result_answers = [(status, body)]

    with pytest.raises(error_type) as caught:
        DeviceApi(device_server.url, device_server.token).post_result(
            "1b4e28ba-2fa1-11d2-883f-0016d3cca427", RESULT
        )

    assert caught.value.code == code
    assert caught.value.status == status


def test_unreachable_server_raises_server_unavailable():
    with pytest.raises(ServerUnavailable):
        DeviceApi("http://127.0.0.1:9", "t", timeout=0.5).next_scan(wait=0)


def test_scan_without_a_valid_id_is_refused(device_server):
    device_server.next_answers = [(200, {"scan_id": "../../admin", "expires_at": None})]

    with pytest.raises(ServerError):
        DeviceApi(device_server.url, device_server.token).next_scan(wait=0)
