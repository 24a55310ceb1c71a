"""The production stack (`deploy/prod.py`, what `make prod` runs), smoke-tested over HTTP.

gunicorn with production settings, a Celery worker and beat on Redis, PostgreSQL: log in,
join by form, earn, open an erasure at the counter and wait until the real worker did it.
Runs where PostgreSQL and Redis are configured (CI's second pass), on a database of its own.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
DATABASE = "loyalty_smoke"
PASSWORD = "demo-counter-2026"

pytestmark = [pytest.mark.prod_stack, pytest.mark.postgres, pytest.mark.celery_worker]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _admin_url() -> str:
    return urlunsplit(urlsplit(os.environ["DATABASE_URL"])._replace(path="/postgres"))


def _drop_database() -> None:
    import psycopg

    with psycopg.connect(_admin_url(), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """Start deploy/prod.py on a free port and a fresh database; stop it with Ctrl-C after."""
    _drop_database()
    folder = tmp_path_factory.mktemp("prod")
    port = _free_port()
    database_url = urlunsplit(urlsplit(os.environ["DATABASE_URL"])._replace(path=f"/{DATABASE}"))
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "PRIVACY_HASH_KEY")},
        "DATABASE_URL": database_url,
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set by the browser tests in this process
    log = folder / "stack.log"
    queue = f"smoke-{uuid.uuid4().hex[:8]}"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "deploy" / "prod.py"),
                "--port",
                str(port),
                "--env-file",
                str(folder / "prod.env"),
                # A queue of its own: no other worker on this Redis takes the smoke test's tasks.
                "--queue",
                queue,
                "--workers",
                "2",
                "--threads",
                "2",
                "--worker-concurrency",
                "1",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            if proc.poll() is not None:
                pytest.fail("the stack exited:\n" + log.read_text()[-4000:])
            try:
                if requests.get(base + "/healthz", timeout=5).status_code == 200:
                    break
            except requests.RequestException:  # not listening yet, or still loading the app
                pass
            if time.monotonic() > deadline:
                pytest.fail("the stack did not become healthy:\n" + log.read_text()[-4000:])
            time.sleep(0.5)
        yield base, proc, log
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
        _drop_database()
        for leftover in (ROOT / "var").glob(f"celerybeat-{queue}*"):
            leftover.unlink()


def _mailed_code(log: Path, timeout: float = 60) -> str:
    """Return the confirmation code the worker mailed (the stack's mail goes to its log)."""
    import re

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = re.findall(r"^(\d{6})\s*$", log.read_text(errors="replace"), re.MULTILINE)
        if found:
            return found[-1]
        time.sleep(0.5)
    pytest.fail("no confirmation code was mailed:\n" + log.read_text()[-4000:])


def test_counter_flow_and_erasure_through_the_real_worker(stack):
    base, _, log = stack
    http = requests.Session()

    # Health: database and broker both answer, no personal data in the body.
    health = http.get(base + "/healthz", timeout=5)
    assert health.status_code == 200
    assert health.json()["checks"]["database"]["ok"] and health.json()["checks"]["broker"]["ok"]

    # Static files come from whitenoise, pages carry the security headers.
    css = http.get(base + "/static/portal/staff.css", timeout=5)
    assert css.status_code == 200 and "css" in css.headers["Content-Type"]
    page = http.get(base + "/counter/login/", timeout=5)
    assert page.status_code == 200
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Frame-Options"] == "DENY"
    assert "Secure" in page.headers["Set-Cookie"]

    # Log in: an API token for the demo cashier of GNT01.
    login = http.post(
        base + "/api/v1/auth/token/",
        json={"username": "kassa.gent", "password": PASSWORD},
        timeout=10,
    )
    assert login.status_code == 200, login.text
    http.headers["Authorization"] = "Token " + login.json()["token"]

    # Join by form.
    joined = http.post(
        base + "/api/v1/members/",
        json={
            "store": "GNT01",
            "given_name": "Smoke",
            "surname": "Tester",
            "email": f"smoke.{uuid.uuid4().hex[:8]}@example.invalid",
            "phone": "+32470" + str(uuid.uuid4().int)[:6],
        },
        timeout=10,
    )
    assert joined.status_code == 201, joined.text
    member = joined.json()["reference"]  # the counter's calls take the visit's reference

    # Earn.
    earned = http.post(
        f"{base}/api/v1/members/{member}/earn/",
        json={"store": "GNT01", "amount": "12.50"},
        headers={"Idempotency-Key": uuid.uuid4().hex},
        timeout=10,
    )
    assert earned.status_code == 201, earned.text
    detail = http.get(f"{base}/api/v1/members/{member}/?store=GNT01", timeout=10)
    assert detail.json()["points_balance"] > 0

    # Erasure at the counter: it waits for the member, who confirms with the code mailed to
    # them (the worker sends it); then approved and run by the worker.
    ticket = http.post(
        f"{base}/api/v1/members/{member}/erasure/", json={"store": "GNT01"}, timeout=10
    )
    assert ticket.status_code == 201, ticket.text
    assert ticket.json()["confirmation"] == "email_code"
    code = _mailed_code(log)
    confirmed = http.post(
        f"{base}/api/v1/members/{member}/confirm/",
        json={"store": "GNT01", "kind": "erasure", "code": code},
        timeout=10,
    )
    assert confirmed.status_code == 200, confirmed.text
    deadline = time.monotonic() + 60
    while True:
        found = http.get(f"{base}/api/v1/members/{member}/?store=GNT01", timeout=10)
        if found.status_code == 404:
            assert found.json()["code"] == "member_not_found"
            break
        assert found.status_code == 200, found.text
        if time.monotonic() > deadline:
            pytest.fail("the worker did not erase the member:\n" + log.read_text()[-4000:])
        time.sleep(0.5)
    assert "erasure completed" in log.read_text()


def test_ctrl_c_stops_every_process(stack):
    _, proc, log = stack
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=60) == 0, log.read_text()[-3000:]
    text = log.read_text()
    assert "[prod] stopped" in text
