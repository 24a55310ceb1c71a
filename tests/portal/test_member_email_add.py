"""An eID member may add an e-mail address at the counter, with their consent recorded."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from loyalty.models import Member
from loyalty.privacy import member_subject_key
from privacy.selectors import consent_latest
from tests.counter import member_ref
from tests.factories import EidMemberFactory, MemberFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def eid_member(store):
    return EidMemberFactory(home_store=store)


def _url(store, cashier, member):
    ref = member_ref(member, staff=cashier, store=store)
    return ref, reverse("portal:member_email_add", args=[store.code, ref])


def test_the_address_is_added_with_the_consent_and_opens_my_membership(
    client, store, cashier, eid_member, django_capture_on_commit_callbacks
):
    client.force_login(cashier)
    ref, url = _url(store, cashier, eid_member)
    assert (
        "Add an e-mail address"
        in client.get(
            reverse("portal:member", args=[store.code, ref]), HTTP_ACCEPT_LANGUAGE="en"
        ).content.decode()
    )

    response = client.post(url, {"email": "Eva.Maes@Example.be", "language": "de"})

    assert response.status_code == 302
    eid_member.refresh_from_db()
    assert eid_member.email == "Eva.Maes@example.be"
    record = consent_latest(
        subject_key=member_subject_key(eid_member), purpose="loyalty_membership"
    )
    assert (record.action, record.channel, record.language) == ("given", "counter_form", "de")
    assert record.store == store and record.staff == cashier
    # then: the member can sign in online with it
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/de/membership/", {"email": "eva.maes@example.be"})
    assert [m.to for m in mail.outbox] == [["Eva.Maes@example.be"]]


def test_an_address_already_in_use_or_a_second_one_is_refused(client, store, cashier, eid_member):
    MemberFactory(email="taken@example.be")
    client.force_login(cashier)
    _ref, url = _url(store, cashier, eid_member)

    taken = client.post(url, {"email": "TAKEN@example.be", "language": "nl"})
    client.post(url, {"email": "mine@example.be", "language": "nl"})
    second = client.post(url, {"email": "other@example.be", "language": "nl"})

    assert taken.status_code == 400 and second.status_code == 400
    assert Member.objects.get(pk=eid_member.pk).email == "mine@example.be"
