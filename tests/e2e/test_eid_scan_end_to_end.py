"""An eID scan through the whole real stack: live server, reader agent, pcscd + vpcd, emulator.

The test proves the privacy promises where they matter: the member exists with the card's
name, the card saw only the identity file selected, and none of the card's national number,
birth date, birth place, address or photo reached the database or the agent's output.
"""

from __future__ import annotations

import io
import subprocess
import sys
import time

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from eid_emulator import CARDS
from loyalty.models import EidScan, JoinChannel, Member, ScanState
from stores.services import reader_device_register
from tests.factories import StaffFactory, StoreFactory
from tests.pcsc_support import (
    agent_key_file,
    agent_start_once,
    missing_requirements,
    pcsc_stack,
)

pytestmark = [pytest.mark.pcsc, pytest.mark.django_db(transaction=True)]

SELECT_BELPIC = "00 A4 04 0C 0F A0 00 00 00 30 29 05 70 00 AD 13 10 01 01 FF"
ALLOWED_APDUS = (SELECT_BELPIC, "00 A4 08 0C 04 DF 01 40 31", "00 B0", "80 B2", "00 C0")


@pytest.fixture
def pcsc_available():
    reason = missing_requirements()
    if reason:
        pytest.skip(reason)


def _wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.parametrize("card", ["alice", "chloe"])
def test_scan_through_pcscd(pcsc_available, live_server, tmp_path, card):
    person = CARDS[card]
    # a city that is not the cardholder's birth place, so a match would mean a leak
    store = StoreFactory(code="GNT01", city="Teststad")
    cashier = StaffFactory(username="kassa", store=store)
    device, token = reader_device_register(store=store, name="Kassa 1")
    (tmp_path / "token").write_text(token)
    key_file = agent_key_file(tmp_path)
    staff = APIClient()
    staff.force_authenticate(cashier)

    with pcsc_stack(card=card, apdu_log=tmp_path / "apdu.log") as stack:
        stack.clear_apdu_log()
        agent = agent_start_once(
            server=live_server.url,
            token_file=tmp_path / "token",
            key_file=key_file,
            reader=stack.reader,
            verbose=True,
        )
        try:
            # the customer agreed to the notice in French; staff arm the reader
            armed = staff.post(
                "/api/v1/eid/scans/",
                {
                    "store": "GNT01",
                    "device": device.pk,
                    "notice_language": "fr",
                    "consent_given": True,
                },
                format="json",
            )
            assert armed.status_code == 201, armed.content
            scan_id = armed.json()["scan_id"]
            output, _ = agent.communicate(timeout=60)
        finally:
            if agent.poll() is None:
                agent.kill()
        apdus = stack.apdu_lines()
        sent_tags = stack.sent_tags()

    agent_output = output.decode("utf-8", "replace")
    assert agent.returncode == 0, agent_output
    scan = EidScan.objects.get(pk=scan_id)
    assert scan.state == ScanState.COMPLETED, agent_output
    member = Member.objects.get()
    assert (member.given_name, member.surname) == (
        person.given_names.split()[0],
        person.surname,
    )
    assert member.joined_via == JoinChannel.EID and member.eid_card.token
    assert scan.member == member and scan.member_created

    # the card was asked for the Belpic applet and the identity file only, in at most 6 commands
    assert apdus and apdus[0] == SELECT_BELPIC
    assert all(line.startswith(ALLOWED_APDUS) for line in apdus), apdus
    assert sum("A4" in line.split()[1:2] for line in apdus) == 2
    assert len(apdus) <= 6
    if person.applet == 0x18:
        assert scan.read_method == "read_record"
        assert sent_tags == [0x01, 0x07, 0x08, 0x0F]  # 06, 0C, 0D never left the chip
    else:
        assert scan.read_method == "read_binary"

    # nothing the card keeps to itself is in the database or the agent's output
    dump = io.StringIO()
    call_command("dumpdata", stdout=dump)
    database = dump.getvalue().encode()
    # (a 4-digit postal code could turn up by chance inside a random token: checked as text)
    for secret in person.secrets():
        if len(secret) >= 5:
            assert secret not in database
        assert secret not in output
    assert f'"{person.postal_code}"'.encode() not in database
    assert person.card_number.encode() not in database + output
    assert person.given_names.encode() not in output and person.surname.encode() not in output


def test_a_refused_result_ends_the_scan_and_the_card_is_read_once(
    pcsc_available, live_server, tmp_path
):
    # given: the card is already linked to another member, and staff link it to this one
    from loyalty.eid_rules import eid_token_digest
    from reader_agent.eid_token import EidTokeniser
    from tests.counter import member_ref
    from tests.factories import EidCardFactory, MemberFactory

    store = StoreFactory(code="GNT01")
    cashier = StaffFactory(username="kassa", store=store)
    device, token = reader_device_register(store=store, name="Kassa 1")
    (tmp_path / "token").write_text(token)
    key_file = agent_key_file(tmp_path)
    agent_token = EidTokeniser.from_key_file(key_file).token_for(CARDS["chloe"].card_number)
    EidCardFactory(token=eid_token_digest(agent_token))
    member = MemberFactory(home_store=store)
    staff = APIClient()
    staff.force_authenticate(cashier)

    with pcsc_stack(card="chloe", apdu_log=tmp_path / "apdu.log") as stack:
        stack.clear_apdu_log()
        agent = subprocess.Popen(
            [
                sys.executable, "-m", "reader_agent", "--server", live_server.url,
                "--token-file", str(tmp_path / "token"), "--key-file", str(key_file),
                "--reader", stack.reader, "--poll-wait", "1",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            armed = staff.post(
                "/api/v1/eid/scans/",
                {
                    "store": "GNT01",
                    "device": device.pk,
                    "notice_language": "nl",
                    "consent_given": True,
                    "link_member": member_ref(member, staff=cashier, store=store),
                },
                format="json",
            )
            assert armed.status_code == 201, armed.content
            scan_id = armed.json()["scan_id"]
            scan = _wait_for(
                lambda: EidScan.objects.filter(pk=scan_id).exclude(state="armed").first(),
                30,
                "the scan to end",
            )
            time.sleep(3)  # the card stays in: the old agent read it ten times a second
        finally:
            agent.terminate()
            output, _ = agent.communicate(timeout=20)
        apdus = stack.apdu_lines()

    assert scan.state == ScanState.FAILED
    assert scan.failure_code == "eid_card_linked_elsewhere"
    assert sum(line.startswith("80 B2 01 01") for line in apdus) == 1, apdus
    assert b"eid_card_linked_elsewhere" in output
