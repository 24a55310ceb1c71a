"""Backups do not bring erased people back (rule 9b): the erasure log and its re-application."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.core.management import call_command

from loyalty.models import Member
from loyalty.privacy import member_subject_key
from privacy.models import ErasureRecord, PrivacyTicket, TicketSource, TicketState
from tests.factories import MemberFactory
from tests.privacy.conftest import erase_at_counter

ROOT = Path(__file__).resolve().parents[2]


def _export() -> str:
    out = io.StringIO()
    call_command("erasure_log_export", stdout=out)
    return out.getvalue()


def test_an_erasure_is_logged_with_a_keyed_hash_and_nothing_personal(
    member, store, cashier, run_on_commit
):
    key = member_subject_key(member)
    with run_on_commit():
        erase_at_counter(member, store, cashier)
    record = ErasureRecord.objects.get()
    assert len(record.subject_hash) == 64 and key not in record.subject_hash
    text = _export()
    entry = json.loads(text)
    assert set(entry) == {"subject_hash", "erased_at", "ticket"}
    for personal in (member.email, member.surname, member.number, key, str(member.pk) + '"'):
        assert personal not in text


def test_reapply_erases_a_member_a_restore_brought_back_and_nobody_else(
    member, store, cashier, run_on_commit, tmp_path
):
    # given: a member erased, and a bystander
    bystander = MemberFactory(home_store=store)
    pk, number = member.pk, member.number
    with run_on_commit():
        erase_at_counter(member, store, cashier)
    log = tmp_path / "erasures.jsonl"
    log.write_text(_export())
    # when: a restore brings the member back (same row, as in the old dump), log and all gone
    ErasureRecord.objects.all().delete()
    MemberFactory(pk=pk, number=number, home_store=store, email="back@example.be")
    out = io.StringIO()
    with run_on_commit():
        call_command("erasures_reapply", "--input", str(log), stdout=out)
    # then
    assert not Member.objects.filter(pk=pk).exists()
    assert Member.objects.filter(pk=bystander.pk).exists()
    assert "1 subject(s) erased again" in out.getvalue()
    assert (
        PrivacyTicket.objects.filter(
            source=TicketSource.RESTORE, state=TicketState.COMPLETED
        ).count()
        == 1
    )
    assert ErasureRecord.objects.count() == 1
    # and a second run finds nobody
    out = io.StringIO()
    call_command("erasures_reapply", "--input", str(log), stdout=out)
    assert "0 subject(s) erased again" in out.getvalue()


def test_reapply_refuses_a_file_that_is_not_an_erasure_log(db, tmp_path):
    bad = tmp_path / "log.jsonl"
    bad.write_text('{"subject": "member:1"}\n')
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="line 1"):
        call_command("erasures_reapply", "--input", str(bad))


def _pg_url(name: str) -> str:
    return urlunsplit(urlsplit(os.environ["DATABASE_URL"])._replace(path=f"/{name}"))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_restoring_an_old_pg_dump_and_reapplying_finds_the_member_gone_again(
    member, store, cashier, tmp_path
):
    import psycopg
    from django.db import connection

    live = connection.settings_dict["NAME"]
    scratch = f"{live}_restore"
    pk = member.pk
    # given: a dump taken while the member was still there
    dump = tmp_path / "before.dump"
    subprocess.run(["pg_dump", "-Fc", "-f", str(dump), _pg_url(live)], check=True)
    # when: the member is erased, the log exported, and the old dump restored elsewhere
    erase_at_counter(member, store, cashier)
    # in-process, or on the session's real worker once a test has started it (tests/conftest.py)
    deadline = time.monotonic() + 60
    while Member.objects.filter(pk=pk).exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not Member.objects.filter(pk=pk).exists()
    log = tmp_path / "erasures.jsonl"
    call_command("erasure_log_export", "--output", str(log))
    with psycopg.connect(_pg_url("postgres"), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{scratch}"')
    try:
        subprocess.run(["pg_restore", "--no-owner", "-d", _pg_url(scratch), str(dump)], check=True)
        with psycopg.connect(_pg_url(scratch)) as restored:
            back = restored.execute("SELECT count(*) FROM loyalty_member WHERE id = %s", [pk])
            assert back.fetchone()[0] == 1  # the old dump brought the member back
        # then: one command, on the restored database, erases them again
        env = {
            **os.environ,
            "DATABASE_URL": _pg_url(scratch),
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
        }
        env.pop("REDIS_URL", None)  # tasks in-process: the command erases there and then
        result = subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), "erasures_reapply", "--input", str(log)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr[-2000:]
        assert "1 subject(s) erased again" in result.stdout
        with psycopg.connect(_pg_url(scratch)) as restored:
            gone = restored.execute("SELECT count(*) FROM loyalty_member WHERE id = %s", [pk])
            assert gone.fetchone()[0] == 0
            logged = restored.execute("SELECT count(*) FROM privacy_erasurerecord")
            assert logged.fetchone()[0] == 1
    finally:
        with psycopg.connect(_pg_url("postgres"), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
