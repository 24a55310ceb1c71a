"""Consents recorded in bulk (data loads, the demo) chain exactly as one by one."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from loyalty.purposes import Channel, Purpose
from privacy import services
from privacy.chain import consent_log_verify
from privacy.models import ConsentLogHead, ConsentRecord
from privacy.selectors import consent_latest, notice_current

pytestmark = pytest.mark.django_db


def test_bulk_consents_chain_with_single_ones_and_verify(store, cashier):
    # given: one consent the usual way
    services.consent_give(
        subject_key="member:1",
        purpose=Purpose.EID_RECOGNITION,
        channel=Channel.COUNTER_EID,
        language="nl",
        store=store,
        staff=cashier,
    )

    # when: five in bulk, in batches of two, then one more the usual way
    grants = [
        services.ConsentGrant(
            subject_key=f"member:{n}",
            purpose=Purpose.EID_RECOGNITION.value,
            channel=Channel.COUNTER_EID.value,
            language="fr" if n % 2 else "nl",
            store=store,
            staff=cashier,
        )
        for n in range(2, 7)
    ]
    assert services.consent_give_many(grants=grants, batch_size=2) == 5
    services.consent_give(
        subject_key="member:7",
        purpose=Purpose.LOYALTY_MEMBERSHIP,
        channel=Channel.COUNTER_FORM,
        language="nl",
        store=store,
    )

    # then
    report = consent_log_verify()
    assert report.ok and report.checked == 7
    assert ConsentLogHead.objects.get().seq == 7
    assert list(ConsentRecord.objects.order_by("seq").values_list("seq", flat=True)) == list(
        range(1, 8)
    )
    record = consent_latest(subject_key="member:3", purpose=Purpose.EID_RECOGNITION)
    assert record.notice == notice_current(purpose=Purpose.EID_RECOGNITION, language="fr")
    assert (record.store, record.staff, record.channel) == (store, cashier, "counter_eid")
    call_command("verify_consent_log", stdout=io.StringIO())


def test_a_tampered_bulk_record_breaks_the_chain(store):
    services.consent_give_many(
        grants=[
            services.ConsentGrant(
                subject_key=f"member:{n}",
                purpose=Purpose.EID_RECOGNITION.value,
                channel=Channel.COUNTER_EID.value,
                language="nl",
                store=store,
            )
            for n in range(3)
        ]
    )
    ConsentRecord.objects.filter(seq=2).update(channel="web")

    assert consent_log_verify().broken_seq == 2
