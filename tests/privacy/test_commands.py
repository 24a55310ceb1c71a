"""Management commands: the record of processing (verify_consent_log is in test_consent)."""

from __future__ import annotations

import io
import json

from django.core.management import call_command

from privacy.registry import ProcessingDeclaration, registry


def run(*args) -> str:
    out = io.StringIO()
    call_command("processing_record", *args, stdout=out)
    return out.getvalue()


def test_processing_record_lists_purposes_data_recipients_retention(db):
    text = run()

    assert text.startswith("Record of processing activities (GDPR Art. 30)")
    for expected in (
        "Recognising a member by their eID card [eid_recognition]",
        "Loyalty membership",
        "Offers by e-mail [marketing_email]",
        "Proof of consent [consent_log]",
        "Stored in loyalty.EidCard: member, token, linked_at",
        "Recipients: outgoing e-mail provider (EMAIL_URL)",
        "Retention: 24 months after the last purchase",
        "Erasure runs, in order: privacy.cache, ",
        ", privacy.consent, privacy.tickets\n",
    ):
        assert expected in text


def test_processing_record_follows_the_code_and_settings(db, settings, monkeypatch):
    settings.PRIVACY_RETENTION_MONTHS = 18
    monkeypatch.setitem(
        registry.declarations,
        "test_app",
        ProcessingDeclaration(
            code="test_app",
            title="A new app's processing",
            legal_basis="consent",
            data_categories=("shoe size",),
            recipients=("nobody",),
            retention="a week",
            app="tests",
            stored_in=("stores.Store",),
        ),
    )

    record = json.loads(run("--format", "json"))

    codes = [a["code"] for a in record["activities"]]
    assert "test_app" in codes
    new = record["activities"][codes.index("test_app")]
    assert new["stored_in"]["stores.Store"][:2] == ["code", "name"]
    membership = record["activities"][codes.index("loyalty_membership")]
    assert membership["retention"].startswith("18 months")
    assert "email" in membership["stored_in"]["loyalty.Member"]


def test_processing_record_in_the_dpo_s_language(db):
    out = io.StringIO()
    call_command("processing_record", "--format", "json", "--language", "fr", stdout=out)

    titles = {a["code"]: a["title"] for a in json.loads(out.getvalue())["activities"]}
    assert titles["eid_recognition"] == "Reconnaître un membre à sa carte eID"


def test_processing_record_names_the_controller_as_head_office_set_it(db, settings):
    # given: head office named the chain in the dashboard (settings hold another name)
    from stores.models import ChainSettings

    settings.CHAIN_NAME = "Demo Chain"
    ChainSettings.objects.create(pk=1, name="Bakkerij Peeters")

    # when
    record = json.loads(run("--format", "json"))

    # then
    assert record["controller"] == "Bakkerij Peeters"
