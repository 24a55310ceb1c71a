"""`manage.py headoffice_create`: the first head-office account on a production stack."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command

from stores.models import StaffAssignment, StaffRole


def _run(*args, stdin: str | None = None, monkeypatch=None) -> str:
    out = io.StringIO()
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    call_command("headoffice_create", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_creates_one_head_office_account_with_a_generated_password_shown_once():
    # when
    first = _run()
    # then: the password printed works, and is not printed again
    password = first.split("Password (shown this once; sign in and change it): ")[1].split()[0]
    assert len(password) >= 20
    user = authenticate(username="headoffice", password=password)
    assert user is not None and user.is_superuser
    assert StaffAssignment.objects.get(user=user).role == StaffRole.HEAD_OFFICE
    second = _run()
    assert "exists already" in second and password not in second
    assert StaffAssignment.objects.filter(role=StaffRole.HEAD_OFFICE).count() == 1


@pytest.mark.django_db
def test_password_from_stdin_is_validated_and_never_printed(monkeypatch):
    with pytest.raises(CommandError):
        _run("--password-stdin", stdin="12345\n", monkeypatch=monkeypatch)
    assert not StaffAssignment.objects.exists()
    out = _run(
        "--username",
        "office",
        "--password-stdin",
        stdin="a-long enough pass 91\n",
        monkeypatch=monkeypatch,
    )
    assert "a-long enough pass 91" not in out
    assert authenticate(username="office", password="a-long enough pass 91") is not None


def test_seed_demo_refuses_production_settings(settings):
    settings.SETTINGS_MODULE = "config.settings.production"
    with pytest.raises(CommandError, match="does not run in production"):
        call_command("seed_demo")
