"""The public erasure form and its confirmation link under a burst from one address.

Past the limit: a clear 429 page, the same for a member and a stranger, never a server error.
"""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from tests.factories import MemberFactory, StoreFactory

BURST = 30
ATTACKER = "203.0.113.66"
LINK = re.compile(r"/(nl|fr|en)/privacy/confirm/([A-Za-z0-9_-]+)/")


@pytest.fixture
def member(db):
    return MemberFactory(
        home_store=StoreFactory(code="GNT01"), email="known.member@example.be", given_name="Known"
    )


def _burst(identifier: str) -> list[tuple[int, bytes]]:
    client = Client(REMOTE_ADDR=ATTACKER)
    url = reverse("privacy:erasure-request")
    answers = []
    for _ in range(BURST):
        response = client.post(url, {"identifier": identifier}, follow=True)
        answers.append((response.status_code, response.content))
    return answers


def test_request_form_burst_is_limited_identically_for_member_and_stranger(
    member, settings, django_capture_on_commit_callbacks
):
    from django.core.cache import cache

    with django_capture_on_commit_callbacks(execute=True):
        for_member = _burst(member.email)
    cache.clear()
    with django_capture_on_commit_callbacks(execute=True):
        for_stranger = _burst("nobody.at.all@example.be")

    statuses = [status for status, _ in for_member]
    assert all(status in (200, 429) for status in statuses)
    assert 429 in statuses, "a burst must be rate limited"
    assert statuses == [status for status, _ in for_stranger]
    assert [body for _, body in for_member] == [body for _, body in for_stranger]
    limited = next(body for status, body in for_member if status == 429)
    assert b"<h1>" in limited and b"known.member" not in limited
    assert len(mail.outbox) == 1, "one link for the member, nothing for the stranger"


def test_rate_limited_page_says_when_to_come_back(db, settings):
    settings.PRIVACY_RATE_LIMIT_PER_IP = 1
    client = Client(REMOTE_ADDR=ATTACKER)
    url = reverse("privacy:erasure-request")
    client.post(url, {"identifier": "someone@example.be"})
    response = client.post(url, {"identifier": "someone.else@example.be"})
    assert response.status_code == 429
    assert response["Retry-After"] == str(settings.PRIVACY_RATE_LIMIT_WINDOW_SECONDS)
    assert "Content-Security-Policy" in response


def test_confirmation_link_burst_is_limited_and_never_fails(
    member, settings, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        Client(REMOTE_ADDR="198.51.100.1").post(
            reverse("privacy:erasure-request"), {"identifier": member.email}
        )
    token = LINK.search(mail.outbox[-1].body).group(2)
    attacker = Client(REMOTE_ADDR=ATTACKER)
    statuses = []
    for i in range(BURST):
        guess = f"guess{i:02d}" + "A" * 38
        url = reverse("privacy:confirm", kwargs={"token": guess})
        statuses.append((attacker.get(url) if i % 2 else attacker.post(url)).status_code)
    assert all(status in (400, 429) for status in statuses)
    assert statuses[-1] == 429
    real = reverse("privacy:confirm", kwargs={"token": token})
    # The attacker's address is limited even with the right token ...
    assert attacker.get(real).status_code == 429
    # ... the member, from their own address, is not.
    owner = Client(REMOTE_ADDR="198.51.100.1")
    assert owner.get(real).status_code == 200
    assert owner.post(real).status_code == 200


def test_behind_a_proxy_the_forwarded_address_is_limited_not_the_proxy(db, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.PRIVACY_RATE_LIMIT_PER_IP = 2
    url = reverse("privacy:erasure-request")
    proxy = "10.0.0.5"
    for i in range(3):
        Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR=ATTACKER).post(
            url, {"identifier": f"a{i}@example.be"}
        )
    blocked = Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR=ATTACKER).post(
        url, {"identifier": "a9@example.be"}
    )
    other = Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="198.51.100.9").post(
        url, {"identifier": "b@example.be"}
    )
    assert blocked.status_code == 429
    assert other.status_code == 302
