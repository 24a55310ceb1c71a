"""Faults injected on the production stack: nothing lost, everything recovers by itself.

gunicorn, a Celery worker and beat with production settings (the commands and environment
deploy/prod.py builds), PostgreSQL and Redis each behind a TCP proxy this test controls, and a
real SMTP server. One fault at a time: Redis cut during a login, an earn and an erasure
approval; the worker SIGKILLed mid-erasure; the app's PostgreSQL connections terminated;
PostgreSQL unreachable; the mail server down. Each prints one line: what was running, what the
user saw, whether anything was lost (tests/faults/conftest.py prints the table at the end).
Runs in CI's PostgreSQL + Redis pass; bounded to a few minutes.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import time
import uuid
from argparse import Namespace
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests

from tests.faults.conftest import fault_line
from tests.faults.proxy import TcpProxy
from tests.smtp_server import SmtpServer, _free_port

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "faults-counter-2026"
DATABASE = urlsplit(os.environ.get("DATABASE_URL", "")).path.lstrip("/") + "_faults"

pytestmark = [pytest.mark.faults, pytest.mark.postgres, pytest.mark.celery_worker]

SETUP = """
from decimal import Decimal
from django.contrib.auth import get_user_model
from stores.models import EarningRule, Store, StaffRole
from stores.services import staff_assign
store = Store.objects.create(code="GNT01", name="Gent Centrum", city="Gent", language="nl")
EarningRule.objects.create(store=store, points_per_euro=Decimal("1.00"))
user = get_user_model().objects.create_user(username="kassa.gent", password="{password}")
staff_assign(user=user, role=StaffRole.CASHIER, store=store)
"""


def _prod_module():
    # deploy/prod.py imports its sibling deploy/stack_db.py, as when run as a script.
    if str(ROOT / "deploy") not in sys.path:
        sys.path.insert(0, str(ROOT / "deploy"))
    spec = importlib.util.spec_from_file_location("deploy_prod", ROOT / "deploy" / "prod.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _url(name: str) -> str:
    return urlunsplit(urlsplit(os.environ["DATABASE_URL"])._replace(path=f"/{name}"))


def _sql(sql: str, params=(), *, database: str = DATABASE):
    import psycopg

    with psycopg.connect(_url(database), autocommit=True) as conn:
        cursor = conn.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


class Stack:
    """The processes, started and restarted by the test (not by deploy/prod.py's supervisor,
    which would stop everything when the worker dies: here the worker dying is the point)."""

    def __init__(self, folder: Path, smtp: SmtpServer, pg: TcpProxy, redis: TcpProxy):
        prod = _prod_module()
        self.port = _free_port()
        self.queue = f"faults-{uuid.uuid4().hex[:8]}"
        args = Namespace(
            host="127.0.0.1",
            port=self.port,
            env_file=str(folder / "prod.env"),
            workers=1,
            threads=4,
            worker_concurrency=1,
            queue=self.queue,
            # One worker for every queue (the routing as in production): the faults kill it.
            one_worker=True,
            no_beat=False,
        )
        self.env = {
            **prod.production_env(args, pg.url(_url(DATABASE)), redis.url(os.environ["REDIS_URL"])),
            "EMAIL_URL": f"smtp://127.0.0.1:{smtp.port}",
            # Quick retries and sweeps: each fault recovers in seconds, not minutes.
            "PRIVACY_TASK_RETRY_SECONDS": "2",
            "PRIVACY_TASK_SWEEP_SECONDS": "1",
        }
        self.env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set by the browser tests
        self.direct_env = {**self.env, "DATABASE_URL": _url(DATABASE)}
        self.prod = prod
        self.commands = prod.commands(args)
        self.commands["beat"][-1] = str(folder / "celerybeat")
        self.folder = folder
        self.procs: dict[str, subprocess.Popen] = {}
        self.base = f"http://127.0.0.1:{self.port}"

    def manage(self, *argv: str) -> None:
        subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), *argv],
            cwd=ROOT,
            env=self.direct_env,
            check=True,
            capture_output=True,
            timeout=300,
        )

    def start(self, name: str) -> None:
        log = open(self.folder / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
        self.procs[name] = subprocess.Popen(
            self.commands[name],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def kill(self, name: str) -> None:
        """SIGKILL the process and every child (the worker's pool): no chance to clean up."""
        proc = self.procs.pop(name)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()

    def log(self, name: str) -> str:
        return (self.folder / f"{name}.log").read_text(errors="replace")[-3000:]


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    if not os.environ.get("REDIS_URL"):
        pytest.skip("needs Redis: set REDIS_URL (CI's second pass)")
    _sql(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)', database="postgres")
    _sql(f'CREATE DATABASE "{DATABASE}"', database="postgres")
    folder = tmp_path_factory.mktemp("faults")
    pg_target = urlsplit(os.environ["DATABASE_URL"])
    redis_target = urlsplit(os.environ["REDIS_URL"])
    pg = TcpProxy(pg_target.hostname or "127.0.0.1", pg_target.port or 5432)
    redis = TcpProxy(redis_target.hostname or "127.0.0.1", redis_target.port or 6379)
    smtp = SmtpServer()
    smtp.start()
    stack = Stack(folder, smtp, pg, redis)
    try:
        stack.prod.prepare(stack.direct_env)
        stack.manage("shell", "-c", SETUP.format(password=PASSWORD))
        for name in ("web", "worker", "beat"):
            stack.start(name)
        deadline = time.monotonic() + 120
        while True:
            try:
                if requests.get(stack.base + "/healthz", timeout=3).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                pytest.fail("the stack did not become healthy:\n" + stack.log("web"))
            time.sleep(0.5)
        yield Namespace(stack=stack, pg=pg, redis=redis, smtp=smtp)
    finally:
        stack.stop()
        smtp.stop()
        pg.close()
        redis.close()
        _sql(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)', database="postgres")


def _session(base: str) -> requests.Session:
    http = requests.Session()
    login = http.post(
        base + "/api/v1/auth/token/",
        json={"username": "kassa.gent", "password": PASSWORD},
        timeout=20,
    )
    assert login.status_code == 200, login.text
    http.headers["Authorization"] = "Token " + login.json()["token"]
    return http


def _join(http: requests.Session, base: str) -> tuple[str, str]:
    """Join a member by form; return how the API names them in URLs, and their e-mail."""
    email = f"f.{uuid.uuid4().hex[:8]}@example.invalid"
    joined = http.post(
        base + "/api/v1/members/",
        json={
            "store": "GNT01",
            "given_name": "Fault",
            "surname": "Tester",
            "email": email,
            "phone": "+32472" + str(uuid.uuid4().int)[:6],
        },
        timeout=20,
    )
    assert joined.status_code == 201, joined.text
    body = joined.json()
    return str(body.get("reference") or body["id"]), email


def _erasure_asked(stack, http, ref: str, email: str) -> str:
    """Ask for the member's erasure at the counter; return the code mailed to them."""
    import re

    s = stack.stack
    asked = http.post(
        f"{s.base}/api/v1/members/{ref}/erasure/", json={"store": "GNT01"}, timeout=20
    )
    assert asked.status_code == 201, asked.text
    assert asked.json()["confirmation"] == "email_code", asked.text
    found = []

    def mailed():
        for rcpt, body in stack.smtp.mailbox.messages:
            codes = re.findall(r"^\s*(\d{6})\s*$", body, re.MULTILINE)
            if email in rcpt and codes:
                found[:] = codes
        return bool(found)

    _wait(mailed, 60, "the code mail never went out", s.log("worker"))
    return found[-1]


def _link_mailed(stack, email: str) -> bool:
    """Whether a confirmation link went to `email` (not any mail: joining sends a receipt)."""
    return any(
        email in rcpt and "/privacy/confirm/" in body for rcpt, body in stack.smtp.mailbox.messages
    )


def _erasure_confirmed(s, http, ref: str, code: str) -> requests.Response:
    return http.post(
        f"{s.base}/api/v1/members/{ref}/confirm/",
        json={"store": "GNT01", "kind": "erasure", "code": code},
        timeout=20,
    )


def _form_token(s, path: str) -> str:
    """Open a public form page; return its CSRF token (the web log's tail if it did not open)."""
    page = requests.get(s.base + path, timeout=20)
    assert page.status_code == 200 and "csrftoken" in page.cookies, (
        f"{path} answered {page.status_code}\n"
        + (s.folder / "web.log").read_text(errors="replace")[-12000:]
    )
    return page.cookies["csrftoken"]


def _wait(condition, seconds: float, what: str, log: str = "") -> float:
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > seconds:
            pytest.fail(f"{what} within {seconds} s\n{log}")
        time.sleep(0.3)
    return time.monotonic() - started


def _gone(http, base, ref) -> bool:
    return http.get(f"{base}/api/v1/members/{ref}/?store=GNT01", timeout=20).status_code == 404


def _members() -> int:
    return _sql("SELECT count(*) FROM loyalty_member")[0][0]


def test_redis_cut_during_a_login(stack):
    s = stack.stack
    stack.redis.cut()
    try:
        answer = requests.post(
            s.base + "/api/v1/auth/token/",
            json={"username": "kassa.gent", "password": PASSWORD},
            timeout=20,
        )
    finally:
        stack.redis.restore()
    assert answer.status_code == 200, answer.text
    fault_line("Redis cut", "token login", f"{answer.status_code}, signed in", "nothing")


def test_redis_cut_during_an_earn(stack):
    s = stack.stack
    http = _session(s.base)
    ref, _ = _join(http, s.base)
    stack.redis.cut()
    try:
        earned = http.post(
            f"{s.base}/api/v1/members/{ref}/earn/",
            json={"store": "GNT01", "amount": "12.50"},
            headers={"Idempotency-Key": uuid.uuid4().hex},
            timeout=20,
        )
    finally:
        stack.redis.restore()
    assert earned.status_code == 201, earned.text
    rows = _sql("SELECT count(*) FROM loyalty_ledgerentry WHERE kind = 'earn'")[0][0]
    assert rows >= 1
    fault_line("Redis cut", "earn at the counter", "201, points credited", "nothing")


def test_redis_cut_during_an_erasure_approval(stack):
    s = stack.stack
    http = _session(s.base)
    ref, email = _join(http, s.base)
    # The member is at the counter without their card: a code goes to their e-mail.
    code = _erasure_asked(stack, http, ref, email)
    stack.redis.cut()
    try:
        confirmed = _erasure_confirmed(s, http, ref, code)
        # The answer is true: the ticket is saved, its work waits in the outbox.
        assert confirmed.status_code == 200, confirmed.text
        waiting = _sql(
            "SELECT count(*) FROM privacy_tickettask WHERE task = 'privacy.tasks.erasure_run'"
        )[0][0]
        assert waiting == 1
        time.sleep(2)  # beat's sweeper cannot reach Redis either: still waiting, not lost
        assert not _gone(http, s.base, ref)
    finally:
        stack.redis.restore()
    took = _wait(lambda: _gone(http, s.base, ref), 60, "the erasure did not run", s.log("worker"))
    fault_line(
        "Redis cut",
        "erasure confirmed with the code at the counter",
        "200 code confirmed, ticket saved",
        f"nothing: erased {took:.0f} s after Redis came back",
    )


def test_worker_sigkilled_mid_erasure(stack):
    import psycopg

    s = stack.stack
    http = _session(s.base)
    ref, email = _join(http, s.base)
    member_id = _sql("SELECT id FROM loyalty_member WHERE email = %s", [email])[0][0]
    code = _erasure_asked(stack, http, ref, email)
    # given: the member's row locked, so the worker's erasure stops half way and waits
    blocker = psycopg.connect(_url(DATABASE))
    blocker.execute("SELECT id FROM loyalty_member WHERE id = %s FOR UPDATE", [member_id])
    try:
        confirmed = _erasure_confirmed(s, http, ref, code)
        assert confirmed.status_code == 200, confirmed.text
        _wait(
            lambda: (
                _sql(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = %s "
                    "AND wait_event_type = 'Lock'",
                    [DATABASE],
                )[0][0]
                >= 1
            ),
            30,
            "the worker did not start the erasure",
            s.log("worker"),
        )
        # when: the whole worker is SIGKILLed mid-task
        s.kill("worker")
    finally:
        blocker.rollback()
        blocker.close()
    s.start("worker")
    # then: the task is sent again and completes, once
    took = _wait(lambda: _gone(http, s.base, ref), 90, "the erasure was lost", s.log("worker"))
    completed = _sql(
        "SELECT count(*) FROM privacy_tickettransition t JOIN privacy_privacyticket p "
        "ON p.id = t.ticket_id WHERE t.to_state = 'completed' AND p.kind = 'erasure' "
        "AND p.completed_at > now() - interval '5 minutes'"
    )[0][0]
    assert completed >= 1
    fault_line(
        "worker SIGKILLed",
        "erasure half done",
        "200 code confirmed, ticket saved",
        f"nothing: redone and completed {took:.0f} s after the new worker started",
    )


def test_app_postgresql_connections_terminated(stack):
    s = stack.stack
    http = _session(s.base)
    ref, _ = _join(http, s.base)
    before = _sql("SELECT count(*) FROM loyalty_ledgerentry")[0][0]
    terminated = _sql(
        "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE datname = %s AND pid <> pg_backend_pid()) t",
        [DATABASE],
    )[0][0]
    answers = []
    for _ in range(3):
        earned = http.post(
            f"{s.base}/api/v1/members/{ref}/earn/",
            json={"store": "GNT01", "amount": "5.00"},
            headers={"Idempotency-Key": uuid.uuid4().hex},
            timeout=20,
        )
        answers.append(earned.status_code)
        if earned.status_code == 503:
            assert earned.json()["code"] == "service_unavailable"
            assert earned.headers["Retry-After"]
    assert set(answers) <= {201, 503} and answers[-1] == 201, answers
    after = _sql("SELECT count(*) FROM loyalty_ledgerentry")[0][0]
    assert after - before == answers.count(201)  # every 201 is written, nothing else
    fault_line(
        "PostgreSQL connections terminated",
        "earn at the counter",
        f"{'/'.join(map(str, answers))} ({terminated} connections cut)",
        "nothing: each 201 written once, no 500",
    )


def test_smtp_down(stack):
    s = stack.stack
    http = _session(s.base)
    _, email = _join(http, s.base)
    stack.smtp.stop()
    try:
        token = _form_token(s, "/nl/privacy/access/")
        sent = requests.post(
            f"{s.base}/nl/privacy/access/",
            data={"identifier": email, "csrfmiddlewaretoken": token},
            headers={"Cookie": f"csrftoken={token}"},
            allow_redirects=False,
            timeout=20,
        )
        assert sent.status_code == 302, sent.text[:300]
        _wait(
            lambda: (
                _sql(
                    "SELECT count(*) FROM privacy_tickettask "
                    "WHERE task = 'privacy.tasks.ticket_link_send' AND attempts >= 2"
                )[0][0]
                >= 1
            ),
            30,
            "the link mail was not retried",
            s.log("worker"),
        )
    finally:
        stack.smtp.start()
    took = _wait(
        lambda: _link_mailed(stack, email),
        60,
        "the mail never went out",
        s.log("worker"),
    )
    fault_line(
        "SMTP server down",
        "public access request (confirmation mail)",
        "302, request taken",
        f"nothing: mail retried, delivered {took:.0f} s after the server came back",
    )


def test_redis_cut_during_a_public_form_request(stack):
    s = stack.stack
    http = _session(s.base)
    _, email = _join(http, s.base)
    token = _form_token(s, "/nl/privacy/erasure/")
    stack.redis.cut()
    try:
        sent = requests.post(
            f"{s.base}/nl/privacy/erasure/",
            data={"identifier": email, "csrfmiddlewaretoken": token},
            headers={"Cookie": f"csrftoken={token}"},
            allow_redirects=False,
            timeout=20,
        )
    finally:
        stack.redis.restore()
    assert sent.status_code == 302, sent.text[:300]
    took = _wait(
        lambda: _link_mailed(stack, email),
        60,
        "the confirmation mail never went out",
        s.log("worker"),
    )
    fault_line(
        "Redis cut",
        "public erasure request (rate limit, mail)",
        "302, request taken",
        f"nothing: link mailed {took:.0f} s after Redis came back",
    )


def _staff_page_cookie(base: str) -> str:
    """Sign the cashier in on the counter's pages; return the Cookie header of that session.

    By hand: the production cookies are Secure, which requests keeps from plain http.
    """
    page = requests.get(base + "/counter/login/", timeout=20)
    csrf = page.cookies["csrftoken"]
    signed_in = requests.post(
        base + "/counter/login/",
        data={"username": "kassa.gent", "password": PASSWORD, "csrfmiddlewaretoken": csrf},
        headers={"Cookie": f"csrftoken={csrf}"},
        allow_redirects=False,
        timeout=20,
    )
    assert signed_in.status_code == 302, signed_in.text[:300]
    return f"csrftoken={csrf}; sessionid={signed_in.cookies['sessionid']}"


# Last: it leaves the app's connections to be remade.
def test_postgresql_unreachable(stack):
    s = stack.stack
    http = _session(s.base)
    ref, _ = _join(http, s.base)
    cookie = _staff_page_cookie(s.base)
    stack.pg.cut()
    try:
        answer = http.get(f"{s.base}/api/v1/members/{ref}/?store=GNT01", timeout=30)
        health = requests.get(s.base + "/healthz", timeout=30)
        # A signed-in page needs the session and the user: the outage page, not a 500.
        page = requests.get(s.base + "/counter/", headers={"Cookie": cookie}, timeout=30)
        # A page that needs no database (the sign-in form) still serves.
        login_page = requests.get(s.base + "/counter/login/", timeout=30)
    finally:
        stack.pg.restore()
    assert answer.status_code == 503, answer.text
    assert answer.json()["code"] == "service_unavailable" and answer.headers["Retry-After"]
    assert health.status_code == 503
    assert page.status_code == 503, page.text[:300]
    assert page.headers["Content-Type"].startswith("text/html") and page.headers["Retry-After"]
    assert "De dienst is even niet beschikbaar" in page.text
    assert login_page.status_code == 200, login_page.text[:300]
    _wait(
        lambda: (
            http.get(f"{s.base}/api/v1/members/{ref}/?store=GNT01", timeout=20).status_code == 200
        ),
        30,
        "the app did not recover",
    )
    # Pages recover as the API does: every thread's connection is remade, none answers 500.
    _wait(
        lambda: all(
            requests.get(s.base + "/counter/", headers={"Cookie": cookie}, timeout=20).status_code
            in (200, 302)
            for _ in range(8)
        ),
        30,
        "the pages did not recover",
    )
    fault_line(
        "PostgreSQL unreachable",
        "member look-up, a cashier's page",
        "503 service_unavailable + Retry-After; 503 page",
        "nothing (nothing written); recovered by itself",
    )
