"""Check an API error answer: the one `{"code", "message", "details"}` body with its status."""

from __future__ import annotations


def assert_error(response, status: int, code: str) -> dict:
    """Assert the answer is error `code` with `status` in the one error format; return the body."""
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "message", "details"}
    assert body["code"] == code, body
    assert body["message"]
    return body
