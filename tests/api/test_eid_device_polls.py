"""Reader long-polls do not starve the counter: a capped number of waits per process, one per
reader, the rest told when to ask again (issue 17). Over HTTP, as the agent sees it."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connections
from rest_framework.test import APIClient

from loyalty.api_eid import poll_slots
from stores.services import reader_device_register
from tests.api.test_eid_channel_limits import arm

NEXT = "/api/v1/device/scans/next/"


def reader_client(store, name):
    device, token = reader_device_register(store=store, name=name)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Device {token}")
    return device, client


def poll_in_thread(client, wait, answers):
    def poll():
        try:
            started = time.monotonic()
            response = client.get(f"{NEXT}?wait={wait}")
            answers.append((response, time.monotonic() - started))
        finally:
            connections.close_all()

    thread = threading.Thread(target=poll)
    thread.start()
    return thread


def wait_until(condition, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


@pytest.mark.django_db
def test_a_reader_finding_every_wait_taken_is_told_at_once_when_to_ask_again(store, settings):
    settings.EID_DEVICE_POLL_SLOTS = 0
    settings.EID_DEVICE_POLL_BUSY_SECONDS = 3
    _device, client = reader_client(store, "Kassa 1")

    started = time.monotonic()
    response = client.get(f"{NEXT}?wait=20")

    assert response.status_code == 204
    assert response["Retry-After"] == "3"
    assert time.monotonic() - started < 1.0


@pytest.mark.django_db
def test_a_busy_server_still_hands_out_a_scan_that_is_already_armed(store, settings, api):
    settings.EID_DEVICE_POLL_SLOTS = 0
    device, client = reader_client(store, "Kassa 1")
    scan_id = arm(api, device)

    response = client.get(f"{NEXT}?wait=20")

    assert response.status_code == 200
    assert response.json()["scan_id"] == scan_id


@pytest.mark.django_db
def test_asking_without_waiting_is_never_turned_away(store, settings):
    settings.EID_DEVICE_POLL_SLOTS = 0
    _device, client = reader_client(store, "Kassa 1")

    response = client.get(f"{NEXT}?wait=0")

    assert response.status_code == 204
    assert not response.has_header("Retry-After")


@pytest.mark.django_db(transaction=True)
def test_waits_beyond_the_cap_are_turned_away_and_the_slot_comes_back(store, settings):
    # given: one wait per process, held by reader 1
    settings.EID_DEVICE_POLL_SLOTS = 1
    _one, first = reader_client(store, "Kassa 1")
    _two, second = reader_client(store, "Kassa 2")
    answers = []
    thread = poll_in_thread(first, 2, answers)
    wait_until(lambda: poll_slots.taken == 1)

    # when: reader 2 asks meanwhile, then again once reader 1's wait ended
    busy = second.get(f"{NEXT}?wait=2")
    thread.join(timeout=10)
    after = second.get(f"{NEXT}?wait=1")

    # then: reader 2 was told to come back, reader 1 waited its time, reader 2 waited later
    assert busy.status_code == 204 and busy.has_header("Retry-After")
    [(held, seconds)] = answers
    assert held.status_code == 204 and not held.has_header("Retry-After")
    assert seconds >= 1.9
    assert after.status_code == 204 and not after.has_header("Retry-After")
    assert poll_slots.taken == 0


@pytest.mark.django_db(transaction=True)
def test_a_newer_wait_of_the_same_reader_ends_the_older_one(store, settings, api):
    # given: a reader's wait left behind (its agent restarted) and the new agent's wait
    settings.EID_DEVICE_POLL_SLOTS = 4
    device, client = reader_client(store, "Kassa 1")
    old, new = [], []
    old_thread = poll_in_thread(client, 10, old)
    wait_until(lambda: poll_slots.taken == 1)
    new_thread = poll_in_thread(client, 10, new)

    # then: the older wait ends at its next look, without a scan, long before its 10 s
    old_thread.join(timeout=5)
    assert not old_thread.is_alive()
    [(ended, seconds)] = old
    assert ended.status_code == 204 and seconds < 3

    # and the newer one gets the scan staff arm now
    scan_id = arm(api, device)
    new_thread.join(timeout=10)
    [(picked, _seconds)] = new
    assert picked.status_code == 200 and picked.json()["scan_id"] == scan_id
    assert poll_slots.taken == 0


@pytest.mark.django_db(transaction=True)
def test_a_scan_armed_during_the_wait_reaches_the_reader_at_its_next_look(store, api):
    device, client = reader_client(store, "Kassa 1")
    answers = []
    thread = poll_in_thread(client, 10, answers)
    wait_until(lambda: poll_slots.taken == 1)

    armed = time.monotonic()
    scan_id = arm(api, device)
    thread.join(timeout=10)

    [(picked, _seconds)] = answers
    assert picked.status_code == 200 and picked.json()["scan_id"] == scan_id
    # the arm's flag woke the wait: well before the database look every 2 s
    assert time.monotonic() - armed < 1.0


@pytest.mark.django_db(transaction=True)
def test_a_scan_whose_flag_was_lost_is_still_found_in_the_database(store, api):
    from django.core.cache import cache

    from loyalty.eid_services import eid_armed_key

    device, client = reader_client(store, "Kassa 1")
    answers = []
    thread = poll_in_thread(client, 10, answers)
    wait_until(lambda: poll_slots.taken == 1)

    scan_id = arm(api, device)
    cache.delete(eid_armed_key(device.pk))  # the cache lost it (evicted, restarted)
    thread.join(timeout=10)

    [(picked, seconds)] = answers
    assert picked.status_code == 200 and picked.json()["scan_id"] == scan_id
    assert seconds < 4
