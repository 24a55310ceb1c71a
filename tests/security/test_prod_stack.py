"""The production stack (`deploy/prod.py`, what `make prod` runs), smoke-tested over HTTP.

gunicorn with production settings, a Celery worker and beat on Redis, PostgreSQL, and a real
SMTP server on this machine (aiosmtpd): log in, join by form, earn, open an erasure at the
counter and wait until the real worker did it; mail a confirmation link through SMTP, and
keep it waiting, not lost, while the mail server is down. No demo login exists: the stack makes
one head-office account with a password it shows once; the test adds its store and cashier.
PostgreSQL is reached through PgBouncer with a streaming read replica for reports.
Runs where PostgreSQL and Redis are configured (CI's second pass), on a database of its own.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests

from tests.smtp_server import SmtpServer

ROOT = Path(__file__).resolve().parents[2]
# Named after the run's own database, so runs against different databases never share it.
DATABASE = urlsplit(os.environ.get("DATABASE_URL", "")).path.lstrip("/") + "_smoke"
PASSWORD = "smoke-counter-2026"

pytestmark = [pytest.mark.prod_stack, pytest.mark.postgres, pytest.mark.celery_worker]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _admin_url() -> str:
    return urlunsplit(urlsplit(os.environ["DATABASE_URL"])._replace(path="/postgres"))


def _production_env(folder: Path, database_url: str, smtp: SmtpServer) -> dict:
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "PRIVACY_HASH_KEY")},
        "DATABASE_URL": database_url,
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp.port}",
        # Quick retries, so the mail-server-down case finishes in seconds, not minutes.
        "PRIVACY_TASK_RETRY_SECONDS": "2",
        "PRIVACY_TASK_SWEEP_SECONDS": "1",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set by the browser tests in this process
    return env


SETUP_STORE = """
from decimal import Decimal
from django.contrib.auth import get_user_model
from stores.models import EarningRule, Store, StaffRole
from stores.services import staff_assign
store = Store.objects.create(code="GNT01", name="Gent Centrum", city="Gent", language="nl")
EarningRule.objects.create(store=store, points_per_euro=Decimal("1.00"))
user = get_user_model().objects.create_user(username="kassa.gent", password="{password}")
staff_assign(user=user, role=StaffRole.CASHIER, store=store)
office = get_user_model().objects.get(username="headoffice")
office.set_password("{password}")
office.save()
"""


def _manage_production(env: dict, folder: Path, *argv: str) -> subprocess.CompletedProcess:
    """Run manage.py with the stack's production settings and secrets."""
    secrets = dict(
        line.split("=", 1)
        for line in (folder / "prod.env").read_text().splitlines()
        if "=" in line and not line.startswith("#")
    )
    run_env = {
        **env,
        **secrets,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "ALLOWED_HOSTS": "127.0.0.1",
    }
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *argv],
        cwd=ROOT,
        env=run_env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


def _drop_database() -> None:
    import psycopg

    with psycopg.connect(_admin_url(), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")


@pytest.fixture(scope="module")
def smtp():
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def stack(tmp_path_factory, smtp):
    """Start deploy/prod.py on a free port and a fresh database; stop it with Ctrl-C after."""
    _drop_database()
    folder = tmp_path_factory.mktemp("prod")
    # The replica's data: outside pytest's folder (0700), which postgres cannot enter.
    replica_dir = Path(tempfile.mkdtemp(prefix="loyalty-smoke-replica-"))
    port = _free_port()
    database_url = urlunsplit(urlsplit(os.environ["DATABASE_URL"])._replace(path=f"/{DATABASE}"))
    env = _production_env(folder, database_url, smtp)
    # A tight lag bound, checked often, so the fallback shows within seconds.
    env["REPLICA_MAX_LAG_SECONDS"] = "3"
    env["REPLICA_CHECK_SECONDS"] = "0.2"
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
                "--pooler-port",
                str(_free_port()),
                "--replica-port",
                str(_free_port()),
                "--replica-dir",
                str(replica_dir),
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
        # No demo chain on a production stack: the test adds the store and cashier it uses.
        _manage_production(env, folder, "shell", "-c", SETUP_STORE.format(password=PASSWORD))
        yield base, proc, log, replica_dir
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
        replica = [sys.executable, str(ROOT / "deploy" / "replica.py"), "stop", "--remove"]
        subprocess.run([*replica, "--folder", str(replica_dir)], timeout=60)
        _drop_database()
        for leftover in (ROOT / "var").glob(f"celerybeat-{queue}*"):
            leftover.unlink()


def _mailed_code(smtp: SmtpServer, address: str, log: Path) -> str:
    """Return the confirmation code the worker mailed to `address` through the SMTP server."""
    import re

    code = r"^\s*(\d{6})\s*$"
    found = re.search(code, _wait_for_mail(smtp, address, 60, log, code), re.MULTILINE)
    assert found, "the mail holds no six-digit code"
    return found.group(1)


def test_counter_flow_and_erasure_through_the_real_worker(stack, smtp):
    base, _, log, _ = stack
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
    email = f"smoke.{uuid.uuid4().hex[:8]}@example.invalid"
    joined = http.post(
        base + "/api/v1/members/",
        json={
            "store": "GNT01",
            "given_name": "Smoke",
            "surname": "Tester",
            "email": email,
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
    code = _mailed_code(smtp, email, log)
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


def _sql(url: str, statement: str, params=()):
    import psycopg

    with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
        cursor = conn.execute(statement, params)
        return cursor.fetchall() if cursor.description else []


def _pooler_stats(port: int) -> dict[str, int]:
    """PgBouncer's SHOW STATS for the smoke database (its console speaks simple queries only)."""
    import psycopg

    with psycopg.connect(
        f"postgres://postgres@127.0.0.1:{port}/pgbouncer", autocommit=True
    ) as conn:
        result = conn.pgconn.exec_(b"SHOW STATS")
        names = [result.fname(i).decode() for i in range(result.nfields)]
        for row in range(result.ntuples):
            values = {n: result.get_value(row, i) for i, n in enumerate(names)}
            if values["database"] == DATABASE.encode():
                return {n: int(v) for n, v in values.items() if n.startswith("total_")}
    return {}


def _office(base: str) -> requests.Session:
    """Head office signed in through the login form (cookies are Secure: sent by hand)."""
    page = requests.get(base + "/counter/login/", timeout=10)
    token = page.cookies["csrftoken"]
    signed_in = requests.post(
        base + "/counter/login/",
        data={"username": "headoffice", "password": PASSWORD, "csrfmiddlewaretoken": token},
        headers={"Cookie": f"csrftoken={token}"},
        allow_redirects=False,
        timeout=10,
    )
    assert signed_in.status_code == 302, signed_in.text[:300]
    office = requests.Session()
    office.headers["Cookie"] = f"sessionid={signed_in.cookies['sessionid']}"
    return office


def _store_name(office: requests.Session, base: str) -> str:
    rows = office.get(base + "/office/stores/stores.csv", timeout=30)
    assert rows.status_code == 200, rows.text[:300]
    line = next(row for row in rows.text.splitlines() if row.startswith("GNT01,"))
    return line.split(",")[1]


def test_pooler_and_replica_reports_fall_back_to_the_primary(stack):
    base, _, log, folder = stack
    text = log.read_text()
    assert "transaction pooling" in text and "reports read from the replica" in text
    pooler_port = int(text.split("PgBouncer ", 1)[1].split("127.0.0.1:", 1)[1].split(",")[0])
    primary = urlunsplit(urlsplit(os.environ["DATABASE_URL"])._replace(path=f"/{DATABASE}"))
    replica = urlunsplit(
        urlsplit(primary)._replace(
            netloc=f"postgres@127.0.0.1:{text.split('replica on 127.0.0.1:', 1)[1].split()[0]}"
        )
    )
    office = _office(base)

    # The app's transactions go through PgBouncer.
    before = _pooler_stats(pooler_port).get("total_xact_count", 0)
    assert office.get(base + "/office/", timeout=30).status_code == 200
    assert _pooler_stats(pooler_port)["total_xact_count"] > before

    def rename(name: str) -> None:
        _sql(primary, "UPDATE stores_store SET name = %s WHERE code = 'GNT01'", [name])

    def replayed() -> bool:
        (lsn,) = _sql(primary, "SELECT pg_current_wal_lsn()::text")[0]
        return _sql(replica, "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [lsn])[0][0]

    def wait(check, seconds: float = 30) -> None:
        deadline = time.monotonic() + seconds
        while not check():
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.2)

    # given: the replica current, then its replay paused and a change on the primary
    rename("Gent Replica Check 1")
    wait(replayed)
    wait(lambda: _store_name(office, base) == "Gent Replica Check 1")
    _sql(replica, "SELECT pg_wal_replay_pause()")
    try:
        rename("Gent Replica Check 2")
        # then: within the lag bound the export reads the replica (the old name)
        assert _store_name(office, base) == "Gent Replica Check 1"
        # and past the bound (3 s) it reads the primary
        wait(lambda: _store_name(office, base) == "Gent Replica Check 2", seconds=20)
    finally:
        _sql(replica, "SELECT pg_wal_replay_resume()")
    wait(replayed)

    # when: the replica is stopped
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "deploy" / "replica.py"),
            "stop",
            "--folder",
            str(folder),
        ],
        check=True,
        timeout=60,
    )
    rename("Gent Replica Check 3")

    # then: reports and exports still answer, from the primary
    assert _store_name(office, base) == "Gent Replica Check 3"
    assert office.get(base + "/office/", timeout=30).status_code == 200
    assert office.get(base + "/office/figures/stores.csv", timeout=30).status_code == 200


def _db(sql: str, params=()):
    import psycopg

    url = urlunsplit(urlsplit(os.environ["DATABASE_URL"])._replace(path=f"/{DATABASE}"))
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(sql, params).fetchall()


def _join(base: str) -> tuple[requests.Session, str]:
    """Sign in as the test's cashier and join a member by form; return the session and e-mail."""
    http = requests.Session()
    login = http.post(
        base + "/api/v1/auth/token/",
        json={"username": "kassa.gent", "password": PASSWORD},
        timeout=10,
    )
    assert login.status_code == 200, login.text
    http.headers["Authorization"] = "Token " + login.json()["token"]
    email = f"mail.{uuid.uuid4().hex[:8]}@example.invalid"
    joined = http.post(
        base + "/api/v1/members/",
        json={
            "store": "GNT01",
            "given_name": "Mail",
            "surname": "Tester",
            "email": email,
            "phone": "+32471" + str(uuid.uuid4().int)[:6],
        },
        timeout=10,
    )
    assert joined.status_code == 201, joined.text
    return http, email


def _public_request(base: str, kind: str, email: str) -> None:
    """Send the public privacy form as a browser would (CSRF cookie and token)."""
    page = requests.get(f"{base}/nl/privacy/{kind}/", timeout=10)
    token = page.cookies["csrftoken"]
    sent = requests.post(
        f"{base}/nl/privacy/{kind}/",
        data={"identifier": email, "csrfmiddlewaretoken": token},
        headers={"Cookie": f"csrftoken={token}"},
        allow_redirects=False,
        timeout=10,
    )
    assert sent.status_code == 302, sent.text[:500]


def _wait_for_mail(
    smtp: SmtpServer, address: str, seconds: float, log: Path, holding: str = ""
) -> str:
    """Return the first mail to `address` whose text matches `holding` (a regular expression):
    a member gets other mail too (the consent receipt after joining)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for rcpt, content in smtp.mailbox.messages:
            if address in rcpt and re.search(holding, content, re.MULTILINE):
                return content
        time.sleep(0.3)
    pytest.fail(f"no mail to the member within {seconds} s:\n" + log.read_text()[-3000:])


def test_no_demo_login_and_the_head_office_password_is_shown_once(stack):
    base, _, log, _ = stack
    text = log.read_text()
    assert "Head-office account created: headoffice" in text
    password = text.split("Password (shown this once; sign in and change it): ", 1)[1].split()[0]
    assert len(password) >= 20  # generated (the test then sets its own, to sign in below)
    demo = requests.post(
        base + "/api/v1/auth/token/",
        json={"username": "headoffice", "password": "demo-counter-2026"},
        timeout=10,
    )
    assert demo.status_code in (400, 401)
    names = {row[0] for row in _db("SELECT username FROM auth_user")}
    assert names == {"headoffice", "kassa.gent"}


def test_confirmation_link_goes_through_smtp_and_waits_while_the_mail_server_is_down(stack, smtp):
    base, _, log, _ = stack
    _, email = _join(base)

    # The mail server answers: the confirmation link arrives by SMTP, and no log holds it.
    _public_request(base, "access", email)
    content = _wait_for_mail(smtp, email, 30, log, "/nl/privacy/confirm/")
    assert "/nl/privacy/confirm/" in content
    link = content.split("/nl/privacy/confirm/", 1)[1].split("/", 1)[0]
    assert link not in log.read_text()

    # The mail server is down: the request is taken, its mail waits in the outbox, retried.
    smtp.stop()
    _, other = _join(base)
    _public_request(base, "erasure", other)
    deadline = time.monotonic() + 30
    while not _db(
        "SELECT attempts FROM privacy_tickettask WHERE task = %s AND attempts >= 2",
        ["privacy.tasks.ticket_link_send"],
    ):
        if time.monotonic() > deadline:
            pytest.fail("the link mail was not retried:\n" + log.read_text()[-3000:])
        time.sleep(0.5)
    assert not any(
        other in rcpt and "/privacy/confirm/" in text for rcpt, text in smtp.mailbox.messages
    )

    # The mail server is back: the mail goes out without anyone doing anything.
    smtp.start()
    content = _wait_for_mail(smtp, other, 60, log, "/nl/privacy/confirm/")
    assert "/nl/privacy/confirm/" in content
    deadline = time.monotonic() + 10
    while _db("SELECT 1 FROM privacy_tickettask WHERE task = 'privacy.tasks.ticket_link_send'"):
        if time.monotonic() > deadline:
            pytest.fail("the sent mail's outbox row was not cleared")
        time.sleep(0.3)


def test_ctrl_c_stops_every_process(stack):
    _, proc, log, folder = stack
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=60) == 0, log.read_text()[-3000:]
    text = log.read_text()
    assert "[prod] stopped" in text
    assert not (folder / "data" / "postmaster.pid").exists()
