"""Production settings refuse to start without a real secret key, hosts, database and hash key."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GOOD = {
    "SECRET_KEY": "s" * 64,
    "PRIVACY_HASH_KEY": "k" * 48,
    "ALLOWED_HOSTS": "loyalty.example.be",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/test",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "EMAIL_URL": "smtp+tls://mailer:secret@smtp.example.be:587",
}


def _check(**overrides) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in GOOD}
    env.update({k: v for k, v in {**GOOD, **overrides}.items() if v is not None})
    env["DJANGO_SETTINGS_MODULE"] = "config.settings.production"
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_complete_configuration_starts():
    result = _check()
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("SECRET_KEY", None, "SECRET_KEY"),
        ("SECRET_KEY", "short", "SECRET_KEY"),
        ("PRIVACY_HASH_KEY", None, "PRIVACY_HASH_KEY"),
        ("ALLOWED_HOSTS", None, "ALLOWED_HOSTS"),
        ("DATABASE_URL", None, "DATABASE_URL"),
        ("DATABASE_URL", "sqlite:////tmp/x.sqlite3", "DATABASE_URL"),
        ("REDIS_URL", None, "REDIS_URL"),
        ("EMAIL_URL", None, "EMAIL_URL"),
        ("EMAIL_URL", "consolemail://", "EMAIL_URL"),
        ("EMAIL_URL", "filemail:///tmp/mail", "EMAIL_URL"),
        ("EMAIL_URL", "memorymail://", "EMAIL_URL"),
        ("EMAIL_URL", "dummymail://", "EMAIL_URL"),
    ],
)
def test_missing_or_unsafe_setting_refuses_to_start(name, value, says):
    result = _check(**{name: value})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and says in result.stderr


@pytest.mark.parametrize(("value", "expected"), [(None, "5"), ("2", "2"), ("off", "None")])
def test_postgresql_gets_the_project_backend_and_prepared_statements(value, expected):
    env = {k: v for k, v in os.environ.items() if k != "DB_PREPARE_THRESHOLD"}
    env.update(GOOD, DJANGO_SETTINGS_MODULE="config.settings.production")
    if value is not None:
        env["DB_PREPARE_THRESHOLD"] = value
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "db = settings.DATABASES['default']; options = db['OPTIONS']; "
        "print(db['ENGINE'], options['server_side_binding'], options['prepare_threshold'])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["core.db.postgresql", "True", expected]


@pytest.mark.parametrize(
    "code",
    [
        "import config.wsgi",
        "from config.celery import app; app.loader.import_default_modules()",
    ],
    ids=["wsgi", "celery"],
)
def test_entry_points_without_a_settings_module_refuse_instead_of_using_development_ones(code):
    # given: none of the production secrets, and no DJANGO_SETTINGS_MODULE
    env = {k: v for k, v in os.environ.items() if k not in GOOD and k != "DJANGO_SETTINGS_MODULE"}
    # when
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    # then: production settings, which refuse to start without their secrets
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and "SECRET_KEY" in result.stderr
