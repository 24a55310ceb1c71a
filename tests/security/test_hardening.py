"""Production hardening: `check --deploy` is clean, passwords are Argon2, headers and health."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.hashers import identify_hasher, make_password
from django.test import override_settings

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "SECRET_KEY": "tests-only-4fQ9zR2mK7pX1vB8nL3cH6jW0sD5gT2yU9eA4iO7rE1qZ8wN3xM6kJ",
    "PRIVACY_HASH_KEY": "k" * 64,
    "ALLOWED_HOSTS": "loyalty.example.be",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/loyalty_prod",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "EMAIL_URL": "smtp+tls://mailer:secret@smtp.example.be:587",
}


def _production(*code: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in PRODUCTION}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set by the browser tests in this process
    env.update(PRODUCTION)
    return subprocess.run(
        [sys.executable, *code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_check_deploy_reports_nothing_with_production_settings():
    result = _production("manage.py", "check", "--deploy", "--fail-level", "DEBUG")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_production_security_settings():
    script = (
        "import django, json; django.setup(); from django.conf import settings as s; "
        "print(json.dumps([s.PASSWORD_HASHERS[0], s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, "
        "s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.AXES_ENABLED, s.AXES_HANDLER]))"
    )
    result = _production("-c", script)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        '["django.contrib.auth.hashers.Argon2PasswordHasher", true, true, true, 31536000, '
        'true, "axes.handlers.database.AxesDatabaseHandler"]'
    )


def test_passwords_are_hashed_with_argon2_outside_tests():
    from config.settings import base

    with override_settings(PASSWORD_HASHERS=base.PASSWORD_HASHERS):
        assert identify_hasher(make_password("correct horse")).algorithm == "argon2"


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/counter/login/", "/nl/privacy/erasure/", "/api/docs/"])
def test_pages_carry_the_security_headers(client, path):
    response = client.get(path)
    assert response.status_code == 200
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


@pytest.mark.django_db
def test_swagger_ui_has_no_inline_script(client):
    page = client.get("/api/docs/").content.decode()
    assert "<script>" not in page
    assert client.get("/api/docs/?script=").status_code == 200


@pytest.mark.django_db
def test_healthz_answers_ok_with_database_and_broker(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "broker"}
    assert response["Cache-Control"].startswith("max-age=0")


@pytest.mark.django_db
def test_healthz_answers_503_when_the_broker_is_down(client, monkeypatch):
    monkeypatch.setattr(settings, "REDIS_URL", "redis://127.0.0.1:1/0")
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["broker"] == {"ok": False}
    assert response.json()["checks"]["database"]["ok"] is True


@pytest.mark.django_db
def test_healthz_answers_503_when_the_database_is_down(client, monkeypatch):
    from core import health

    def broken():
        raise OSError("connection refused")

    monkeypatch.setitem(health.CHECKS, "database", broken)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
