"""privacy.registry: apps register purposes, channels and withdrawals; privacy names none."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.utils import timezone, translation

from loyalty.purposes import EID_WITHDRAWAL, Channel, Purpose
from privacy.models import ConsentRecord, NoticeVersion, PrivacyTicket
from privacy.registry import PrivacyRegistry, ProcessingDeclaration, purpose_choices, registry

PRIVACY = Path(settings.BASE_DIR) / "privacy"


def _declaration(code: str) -> ProcessingDeclaration:
    return ProcessingDeclaration(
        code=code,
        title="Test",
        legal_basis="consent",
        data_categories=("nothing",),
        recipients=(),
        retention="none",
        app="tests",
    )


def test_privacy_code_names_no_loyalty_purpose_channel_or_ticket_kind():
    # Loyalty's codes may appear in privacy's migrations (history), nowhere else in its code.
    codes = [*Purpose.values, *Channel.values, EID_WITHDRAWAL]
    pattern = re.compile("|".join(re.escape(c) for c in codes))
    found = [
        f"{path.relative_to(PRIVACY)}: {match.group(0)}"
        for path in sorted(PRIVACY.rglob("*.py"))
        if "migrations" not in path.parts
        for match in pattern.finditer(path.read_text())
    ]

    assert found == []


def test_a_purpose_must_be_declared_under_its_own_code():
    own = PrivacyRegistry()

    with pytest.raises(ImproperlyConfigured):
        own.register_purpose("newsletter", label="Newsletter", declaration=_declaration("other"))
    assert own.purposes == {}


def test_registering_the_same_purpose_again_is_harmless_and_another_one_under_its_code_is_not():
    own = PrivacyRegistry()
    declaration = _declaration("newsletter")
    own.register_purpose("newsletter", label="Newsletter", declaration=declaration)

    own.register_purpose("newsletter", label="Newsletter", declaration=declaration)
    with pytest.raises(ImproperlyConfigured):
        own.register_purpose("newsletter", label="Letters", declaration=declaration)

    assert list(own.purposes) == ["newsletter"]
    assert own.declarations == {"newsletter": declaration}


def test_a_withdrawal_kind_is_a_ticket_kind():
    own = PrivacyRegistry()

    own.register_withdrawal_kind(
        "sms_withdrawal", purpose="sms", label="No more texts", path="sms/", url_name="sms"
    )

    assert own.ticket_kinds == {"sms_withdrawal": "No more texts"}
    assert own.withdrawal_kinds["sms_withdrawal"].purpose == "sms"


def _erase_many(subject_keys):
    return {key: {"rows": len(key), "batch": len(subject_keys)} for key in subject_keys}


def test_an_eraser_given_its_batch_form_only_erases_one_subject_as_a_batch_of_one():
    own = PrivacyRegistry()

    # when: only the batch forms are registered
    own.register_eraser("app", erase_many=_erase_many, preview_many=_erase_many)
    again = own.erasers["app"]
    own.register_eraser("app", erase_many=_erase_many, preview_many=_erase_many)

    # then: one subject is a batch of one, and registering it again is harmless
    assert own.erasers["app"] == again
    assert again.erase("member:42") == {"rows": 9, "batch": 1}
    assert again.preview("member:7") == {"rows": 8, "batch": 1}
    assert again.erase_batch(["a:1", "b:22"]) == {
        "a:1": {"rows": 3, "batch": 2},
        "b:22": {"rows": 4, "batch": 2},
    }
    with pytest.raises(ImproperlyConfigured):
        own.register_eraser("nothing")
    assert "nothing" not in own.erasers


def test_model_fields_take_their_choices_from_the_registry():
    assert NoticeVersion._meta.get_field("purpose").choices is not None
    assert dict(NoticeVersion._meta.get_field("purpose").flatchoices) == dict(purpose_choices())
    assert set(dict(ConsentRecord._meta.get_field("channel").flatchoices)) == set(registry.channels)
    assert set(dict(PrivacyTicket._meta.get_field("kind").flatchoices)) == set(
        registry.ticket_kinds
    )


@pytest.mark.parametrize(
    ("field", "value"), [("purpose", "spying"), ("channel", "fax"), ("kind", "gossip")]
)
def test_a_value_nobody_registered_does_not_validate(field, value):
    model = PrivacyTicket if field == "kind" else ConsentRecord

    with pytest.raises(ValidationError) as invalid:
        model._meta.get_field(field).clean(value, None)

    assert invalid.value.code == "invalid_choice"


def test_a_registered_label_is_what_the_record_displays():
    notice = NoticeVersion(
        purpose=Purpose.EID_RECOGNITION, language="nl", version=1, published_at=timezone.now()
    )

    with translation.override("nl"):
        assert notice.get_purpose_display() == "De eID-kaart lezen om een lid te herkennen"
    assert registry.purpose_label("unknown") == "unknown"
