"""The public form tells nobody whether an identifier is a member's: same answer, no look-up.

Not timing (bench/bench_public_forms.py measures that): the request itself never reads the
member table; the look-up and the mail run in a task once the answer is out.
"""

from __future__ import annotations

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from privacy.models import PrivacyTicket, TicketTask

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "path", ["/fr/privacy/erasure/", "/en/privacy/access/", "/nl/privacy/eid/"]
)
def test_a_member_and_a_stranger_get_the_same_answer_and_nobody_is_looked_up(
    client, member, path, django_capture_on_commit_callbacks
):
    answers = []
    for identifier in (member.email, "stranger@example.be", member.number, "123456789012"):
        with (
            django_capture_on_commit_callbacks() as callbacks,
            CaptureQueriesContext(connection) as queries,
        ):
            response = client.post(path, {"identifier": identifier})
        looked_up = [q["sql"] for q in queries if "loyalty_member" in q["sql"]]
        answers.append((response.status_code, response["Location"], response.content, looked_up))
        assert TicketTask.objects.filter(sealed__gt="").count() == 1
        with django_capture_on_commit_callbacks(execute=True):
            for callback in callbacks:
                callback()

    assert len(set(map(repr, answers))) == 1
    assert answers[0][3] == []
    # the task did the work: one ticket for the member, one mail to the address on file
    assert PrivacyTicket.objects.count() == 1
    assert [m.to for m in mail.outbox] == [[member.email]]
    assert not TicketTask.objects.filter(sealed__gt="").exists()


def test_in_process_tasks_wait_for_the_end_of_the_request(
    member, django_capture_on_commit_callbacks
):
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    from privacy.models import TicketKind
    from privacy.services import ticket_request_queue

    # The test's connection stays open, as the test client keeps it.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        # given: a request under way, with tasks run in-process (no broker, as on `make run`)
        request_started.send(sender=None)
        with django_capture_on_commit_callbacks(execute=True):
            ticket_request_queue(
                kind=TicketKind.ERASURE, identifier=member.email, language="nl", client_ip="1"
            )

        # then: nothing looked up or sent yet
        assert mail.outbox == [] and not PrivacyTicket.objects.exists()

        # when: the answer is written
        with django_capture_on_commit_callbacks(execute=True):
            request_finished.send(sender=None)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)

    # then: the task ran, after the answer
    assert [m.to for m in mail.outbox] == [[member.email]]
    assert PrivacyTicket.objects.count() == 1
