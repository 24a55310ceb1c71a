"""manage.py seed_demo at size: batches, and a run that was interrupted continues to its target."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.db.models import Sum

from loyalty.management.commands.seed_demo import Command
from loyalty.models import LedgerEntry, Member

pytestmark = pytest.mark.django_db


def _seed(tmp_path, *extra: str) -> str:
    out = io.StringIO()
    call_command(
        "seed_demo",
        "--batch-size",
        "10",
        "--entries-per-member",
        "2",
        "--seed",
        "7",
        "--quiet-logins",
        "--progress-file",
        str(tmp_path / "progress.json"),
        "--reader-token-file",
        str(tmp_path / "reader.token"),
        *extra,
        stdout=out,
    )
    return out.getvalue()


def _books_balance() -> bool:
    ledger = dict(
        LedgerEntry.objects.values("member_id")
        .annotate(s=Sum("points"))
        .values_list("member_id", "s")
    )
    return all(ledger.get(m.pk, 0) == m.points_balance for m in Member.objects.all())


def test_an_interrupted_run_continues_to_its_target(tmp_path, monkeypatch):
    # given: a run of 50 members cut off (Ctrl-C) in its third batch of 10
    calls = {"n": 0}
    batch = Command._batch

    def interrupted(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return batch(self, *args, **kwargs)

    monkeypatch.setattr(Command, "_batch", interrupted)
    with pytest.raises(KeyboardInterrupt):
        _seed(tmp_path, "--members", "50")
    assert Member.objects.count() == 20  # two whole batches, nothing of the third
    assert (tmp_path / "progress.json").exists()
    monkeypatch.undo()

    # when: the same command again
    out = _seed(tmp_path, "--members", "50")

    # then: it adds the 30 missing, not 50 more, and forgets the run
    assert "Resuming an unfinished run: 20 of 50 members present." in out
    assert Member.objects.count() == 50
    assert not (tmp_path / "progress.json").exists()
    assert LedgerEntry.objects.filter(member__isnull=False).exists()
    assert _books_balance()
    assert Member.objects.values("number").distinct().count() == 50

    # and a finished run adds what is asked, also after members were erased
    Member.objects.filter(pk__in=Member.objects.order_by("pk").values("pk")[:5]).delete()
    _seed(tmp_path, "--members", "5")
    assert Member.objects.count() == 50


def test_restart_forgets_an_unfinished_run(tmp_path):
    (tmp_path / "progress.json").write_text('{"target": 1000, "per_member": 2}')

    _seed(tmp_path, "--members", "12", "--restart")

    assert Member.objects.count() == 12


def test_an_unfinished_run_of_a_database_made_again_is_forgotten(tmp_path):
    # given: the progress of a run on a database since dropped and made again (another id)
    (tmp_path / "progress.json").write_text(
        '{"target": 1000, "per_member": 2, "database": "postgresql:1"}'
    )

    # when: seeding this one
    out = _seed(tmp_path, "--members", "12")

    # then: it adds what is asked, not the old run's 1,000
    assert "An unfinished run of an earlier database is forgotten." in out
    assert Member.objects.count() == 12
    assert not (tmp_path / "progress.json").exists()
