"""Consent: give, require, withdraw, carry over from an armed scan; notices; the hash chain."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from core.errors import (
    ChannelInvalid,
    ConsentMissing,
    InvalidInput,
    NoticeImmutable,
    NoticeMissing,
    PurposeInvalid,
)
from loyalty.privacy import member_subject_key
from loyalty.purposes import Channel, Purpose
from privacy import services
from privacy.chain import consent_log_verify
from privacy.models import Channel as PrivacyChannel
from privacy.models import (
    ConsentAction,
    ConsentLogHead,
    ConsentRecord,
    NoticeVersion,
    TicketKind,
    TicketState,
)
from privacy.selectors import consent_state, notice_current
from tests.privacy.conftest import erase_at_counter

EID = Purpose.EID_RECOGNITION


def give(key, purpose=EID, *, store=None, staff=None, language="nl"):
    return services.consent_give(
        subject_key=key,
        purpose=purpose,
        channel=Channel.COUNTER_EID,
        language=language,
        store=store,
        staff=staff,
    )


@pytest.mark.parametrize("purpose", Purpose.values)
@pytest.mark.parametrize("language", ["nl", "fr", "en"])
def test_every_purpose_has_a_published_notice_in_every_language(db, purpose, language):
    notice = notice_current(purpose=purpose, language=language)

    # the eID notice is at version 2: it tells which fields leave which cards
    assert notice.version == (2 if purpose == EID else 1)
    assert len(notice.content_hash) == 64


def test_a_new_text_is_a_new_version_and_the_old_one_is_immutable(db):
    first = notice_current(purpose=EID, language="en")

    second = services.notice_publish(purpose=EID, language="en", text="A clearer text.")
    again = services.notice_publish(purpose=EID, language="en", text="A clearer text.")

    assert second.version == first.version + 1
    assert again == second
    assert notice_current(purpose=EID, language="en") == second
    assert second.content_hash != first.content_hash
    first.text = "Changed behind everyone's back"
    with pytest.raises(NoticeImmutable):
        first.save()


def test_consent_records_what_was_shown_where_and_by_whom(store, cashier):
    record = give("scan:abc", store=store, staff=cashier, language="fr")

    assert record.notice == notice_current(purpose=EID, language="fr")
    assert (record.language, record.channel, record.store, record.staff) == (
        "fr",
        "counter_eid",
        store,
        cashier,
    )
    assert record.subject_digest != "scan:abc"


def test_require_raises_without_consent_and_after_withdrawal(db):
    with pytest.raises(ConsentMissing) as raised:
        services.consent_require(subject_key="scan:abc", purpose=EID)
    assert raised.value.code == "consent_missing"

    give("scan:abc")
    assert services.consent_require(subject_key="scan:abc", purpose=EID).action == "given"

    services.consent_withdraw(
        subject_key="scan:abc", purpose=EID, channel=PrivacyChannel.WEB, language="nl"
    )
    with pytest.raises(ConsentMissing):
        services.consent_require(subject_key="scan:abc", purpose=EID)


def test_consent_for_one_purpose_is_not_consent_for_another(db):
    give("scan:abc", Purpose.LOYALTY_MEMBERSHIP)

    with pytest.raises(ConsentMissing):
        services.consent_require(subject_key="scan:abc", purpose=EID)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"purpose": "spying"}, PurposeInvalid),
        ({"channel": "carrier pigeon"}, ChannelInvalid),
        ({"language": "lb"}, InvalidInput),
        ({"subject_key": "no-prefix"}, InvalidInput),
        ({"subject_key": "x:" + "9" * 100}, InvalidInput),
    ],
)
def test_bad_consent_input_is_refused(db, kwargs, error):
    arguments = {
        "subject_key": "scan:abc",
        "purpose": EID,
        "channel": Channel.COUNTER_EID,
        "language": "nl",
        **kwargs,
    }
    with pytest.raises(error):
        services.consent_give(**arguments)
    assert not ConsentRecord.objects.exists()


def test_consent_given_before_the_member_exists_is_carried_over(member, store, cashier):
    # given: the cashier arms a scan for a customer not yet known
    scan = services.consent_subject_new()
    first = give(scan, store=store, staff=cashier)
    services.consent_require(subject_key=scan, purpose=EID)

    # when: the card turns out to be this member's
    [carried] = services.consent_attach(from_key=scan, to_key=member_subject_key(member))
    again = services.consent_attach(from_key=scan, to_key=member_subject_key(member))

    # then: a new record refers to the first; nothing was changed
    assert again == [carried]
    assert carried.refers_to == first
    assert (carried.notice, carried.store, carried.staff) == (first.notice, store, cashier)
    assert services.consent_require(subject_key=member_subject_key(member), purpose=EID)
    assert ConsentRecord.objects.count() == 2
    assert consent_log_verify().ok


def test_attaching_without_consent_raises(db):
    with pytest.raises(ConsentMissing):
        services.consent_attach(from_key="scan:none", to_key="member:1", purposes=[EID])


def test_withdrawing_eid_consent_unlinks_the_card_and_keeps_points(member, store, cashier):
    key = member_subject_key(member)
    give(key, store=store)
    balance = member.points_balance

    result = services.consent_withdraw(
        subject_key=key, purpose=EID, channel=Channel.COUNTER_FORM, language="nl", store=store
    )

    member.refresh_from_db()
    assert not hasattr(member, "eid_card")
    assert (member.points_balance, member.number) == (balance, member.number)
    assert result.erasure_ticket is None
    assert [r.action for r in result.records] == [ConsentAction.WITHDRAWN]
    assert consent_state(subject_key=key)[EID].action == ConsentAction.WITHDRAWN


def test_withdrawing_everything_opens_an_erasure(member, store, cashier, run_on_commit):
    key = member_subject_key(member)
    give(key, store=store)
    give(key, Purpose.MARKETING_EMAIL, store=store)

    with run_on_commit():
        result = services.consent_withdraw(
            subject_key=key,
            purpose=services.ALL_PURPOSES,
            channel=Channel.COUNTER_FORM,
            language="nl",
            store=store,
            staff=cashier,
        )

    assert {r.purpose for r in result.records} == set(Purpose.values)
    ticket = result.erasure_ticket
    ticket.refresh_from_db()
    assert (ticket.kind, ticket.state) == (TicketKind.ERASURE, TicketState.COMPLETED)
    assert consent_log_verify().ok


# The chain
@pytest.fixture
def log(member, store, cashier):
    """A consent log of five records, one carried over from a scan."""
    scan = services.consent_subject_new()
    give(scan, store=store, staff=cashier)
    services.consent_attach(from_key=scan, to_key=member_subject_key(member))
    give(member_subject_key(member), Purpose.MARKETING_EMAIL, store=store)
    give("scan:other", store=store, language="fr")
    services.consent_withdraw(
        subject_key="scan:other", purpose=EID, channel=PrivacyChannel.WEB, language="fr"
    )
    return list(ConsentRecord.objects.order_by("seq"))


def test_an_intact_log_verifies(log, capsys):
    call_command("verify_consent_log")

    assert "intact: 5 record(s)" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"action": "withdrawn"}, "content was altered"),
        ({"purpose": "loyalty_membership"}, "content was altered"),
        ({"channel": "web"}, "content was altered"),
        ({"store": None}, "content was altered"),
        ({"subject_digest": "0" * 64}, "content was altered"),
        ({"subject_key": "member:999999"}, "subject key does not match"),
        ({"prev_hash": "f" * 64}, "link to the previous record"),
    ],
)
def test_tampering_is_reported_at_the_record(log, change, reason):
    target = log[2]
    ConsentRecord.objects.filter(pk=target.pk).update(**change)

    with pytest.raises(CommandError) as raised:
        call_command("verify_consent_log")

    assert f"record #{target.seq} (id {target.pk})" in str(raised.value)
    assert reason in str(raised.value)


def test_a_changed_created_at_is_reported(log):
    from datetime import timedelta

    ConsentRecord.objects.filter(pk=log[1].pk).update(
        created_at=log[1].created_at - timedelta(days=1)
    )

    report = consent_log_verify()

    assert (report.ok, report.broken_seq, report.reason) == (
        False,
        2,
        "record content was altered",
    )


def test_a_deleted_record_is_reported(log):
    ConsentRecord.objects.filter(pk=log[3].pk).delete()

    report = consent_log_verify()

    assert (report.ok, report.broken_seq) == (False, 5)
    assert "missing before" in report.reason


def test_a_deleted_tail_is_reported(log):
    ConsentRecord.objects.filter(pk=log[-1].pk).delete()

    report = consent_log_verify()

    assert not report.ok
    assert "missing at the end" in report.reason


def test_an_altered_notice_text_is_reported(log):
    NoticeVersion.objects.filter(pk=log[0].notice_id).update(text="Something else entirely")

    report = consent_log_verify()

    assert (report.ok, report.broken_seq) == (False, 1)
    assert "notice" in report.reason


def test_a_rewritten_chain_without_the_key_does_not_verify(log, settings):
    # Someone with database access recomputes every hash, but without PRIVACY_HASH_KEY.
    from privacy.chain import GENESIS_HASH, record_hash, record_payload

    original_key = settings.PRIVACY_HASH_KEY
    settings.PRIVACY_HASH_KEY = "attacker-guess"
    ConsentRecord.objects.filter(pk=log[0].pk).update(channel="web")
    previous = GENESIS_HASH
    seqs = {}
    for record in ConsentRecord.objects.select_related("notice").order_by("seq"):
        payload = record_payload(
            record,
            notice_hash=record.notice.content_hash,
            refers_to_seq=seqs.get(record.refers_to_id),
        )
        new = record_hash(previous, payload)
        ConsentRecord.objects.filter(pk=record.pk).update(prev_hash=previous, record_hash=new)
        seqs[record.pk] = record.seq
        previous = new
    ConsentLogHead.objects.update(last_hash=previous)
    settings.PRIVACY_HASH_KEY = original_key

    assert not consent_log_verify().ok


def test_the_chain_still_verifies_after_erasure(log, member, store, cashier, run_on_commit):
    with run_on_commit():
        erase_at_counter(member, store, cashier)

    assert not ConsentRecord.objects.filter(subject_key=member_subject_key(member)).exists()
    # The scan record carried over to the member lost its key too.
    assert ConsentRecord.objects.filter(subject_key__isnull=True).count() == 3
    assert ConsentRecord.objects.count() == 5
    call_command("verify_consent_log")


def test_consent_needs_a_published_notice(db):
    NoticeVersion.objects.filter(purpose=Purpose.MARKETING_EMAIL, language="en").delete()

    with pytest.raises(NoticeMissing):
        give("scan:abc", Purpose.MARKETING_EMAIL, language="en")
    assert not ConsentRecord.objects.exists()
