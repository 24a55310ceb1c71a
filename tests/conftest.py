"""Fixtures shared by the whole suite."""

from __future__ import annotations

import os

import pytest
from django.core.servers.basehttp import WSGIRequestHandler
from rest_framework.test import APIClient

from tests.factories import StaffFactory, StoreFactory

# The live server (pytest-django's live_server) writes a response's headers and body in two
# sends over a kept-alive connection; with Nagle's algorithm the body then waits for the
# client's delayed ACK, about 40 ms per request. Real servers (gunicorn) set TCP_NODELAY too.
WSGIRequestHandler.disable_nagle_algorithm = True


def database_is_postgres() -> bool:
    from django.db import connection

    return connection.vendor == "postgresql"


def pytest_collection_modifyitems(config, items):
    """Skip PostgreSQL-only and real-worker tests where those servers are not configured."""
    on_postgres = os.environ.get("DATABASE_URL", "").startswith(("postgres", "pgsql"))
    has_broker = bool(os.environ.get("REDIS_URL"))
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(
                pytest.mark.skip(
                    reason="needs PostgreSQL: set DATABASE_URL=postgres://... (CI's second pass)"
                )
            )
        if "celery_worker" in item.keywords and not has_broker:
            item.add_marker(
                pytest.mark.skip(
                    reason="needs a Celery worker on Redis: set REDIS_URL (CI's second pass)"
                )
            )


_DB_FIXTURES = {"db", "transactional_db", "live_server", "django_db_reset_sequences"}


# Every data migration that publishes notices, in their order (each publishes only what is
# missing): after a flush the database holds the notices a migrated one does, eID v2 included.
NOTICE_MIGRATIONS = ("0002_first_notices", "0006_consent_given_by_eid_notice_v2", "0016_german")


@pytest.fixture(autouse=True)
def _published_notices(request):
    """Keep the privacy notices the data migration publishes, for every database test.

    Transactional tests empty the database afterwards, data migrations included; without
    this, a test that records consent would find no notice depending on the order tests ran.
    """
    if request.node.get_closest_marker("django_db") is None and not (
        _DB_FIXTURES & set(request.fixturenames)
    ):
        return
    import importlib

    from django.apps import apps

    request.getfixturevalue("_django_db_helper")
    for migration in NOTICE_MIGRATIONS:
        importlib.import_module(f"privacy.migrations.{migration}").publish(apps, None)


@pytest.fixture(autouse=True)
def _chain_settings_forgotten(request):
    """Forget the cached chain identity after a database test: its row is rolled back."""
    yield
    if request.node.get_closest_marker("django_db") is not None or (
        _DB_FIXTURES & set(request.fixturenames)
    ):
        from stores.selectors import chain_settings_forget

        chain_settings_forget()


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks):
    """Run what services send "on commit" (Celery tasks, eager in tests) when the block ends."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def store(db):
    return StoreFactory(code="GNT01", name="Gent Centrum", city="Gent", language="nl")


@pytest.fixture
def cashier(store):
    return StaffFactory(username="cashier", store=store)


@pytest.fixture
def api(cashier) -> APIClient:
    """An API client signed in as a cashier of `store`."""
    client = APIClient()
    client.force_authenticate(cashier)
    return client


def _database_url_for_worker() -> str:
    """Return a DATABASE_URL naming the test database this run created."""
    from django.db import connection

    cfg = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{cfg['NAME']}"
    host = cfg.get("HOST") or "127.0.0.1"
    port = cfg.get("PORT") or 5432
    auth = cfg.get("USER") or "postgres"
    if cfg.get("PASSWORD"):
        auth += ":" + cfg["PASSWORD"]
    return f"postgres://{auth}@{host}:{port}/{cfg['NAME']}"


@pytest.fixture(scope="session")
def celery_worker(django_db_setup, django_db_blocker, tmp_path_factory):
    """Start a real Celery worker on Redis against this run's test database; stop it after.

    Queues of its own (a base queue and the privacy, dashboard and webhooks queues named
    after it) keep the worker from taking anyone else's tasks, and the test process stops
    running tasks in-process while the worker is up.
    """
    import subprocess
    import sys
    import time
    import uuid

    from config.celery import app
    from config.queues import queue_names

    if not os.environ.get("REDIS_URL"):
        pytest.skip("needs a Celery worker on Redis: set REDIS_URL (CI's second pass)")
    queue = f"test-{uuid.uuid4().hex[:8]}"
    with django_db_blocker.unblock():
        database_url = _database_url_for_worker()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "CELERY_QUEUE": queue,
        "CONN_MAX_AGE": "0",
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DEBUG": "false",
    }
    log = tmp_path_factory.mktemp("celery") / "worker.log"
    with open(log, "wb") as out:
        worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "-P",
                "solo",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                # Every queue of the stack (config/queues.py): a task routed to one the
                # worker does not consume would wait forever.
                "-Q",
                ",".join(queue_names(queue)),
                "-n",
                f"{queue}@%h",
                "--loglevel",
                "INFO",
            ],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    previous = (app.conf.task_always_eager, app.conf.task_default_queue)
    app.conf.task_always_eager = False
    app.conf.task_default_queue = queue
    try:
        deadline = time.monotonic() + 60
        while not app.control.ping(destination=[f"{queue}@{os.uname().nodename}"], timeout=1):
            if worker.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("Celery worker did not start:\n" + log.read_text()[-3000:])
        yield worker
    finally:
        app.conf.task_always_eager, app.conf.task_default_queue = previous
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()


# Browser tests (Playwright driving Debian's Chromium against a live server).
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Point Playwright at the system Chromium; it must never download a browser."""
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"needs Chromium for browser tests: apt-get install chromium ({CHROMIUM})")
    # Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
    # around it are still plain synchronous calls.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture
def screenshot(page, request):
    """Return a function saving a full-page screenshot under test-artifacts/screenshots/."""
    from pathlib import Path

    folder = Path(__file__).resolve().parent.parent / "test-artifacts" / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)

    def take(name: str) -> Path:
        path = folder / f"{request.node.name}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def pcsc(tmp_path):
    """A running pcscd whose vpcd reader is empty; insert cards with pcsc.insert('alice')."""
    from tests.pcsc_support import missing_requirements, pcsc_stack

    reason = missing_requirements()
    if reason:
        pytest.skip(reason)
    with pcsc_stack(card=None, apdu_log=tmp_path / "apdu.log") as stack:
        yield stack


@pytest.fixture(autouse=True)
def _cache_cleared():
    """Start every test with an empty cache: cached staff access and store terms are keyed by
    primary keys, which a database rolled back between tests hands out again."""
    from django.core.cache import caches
    from django.core.cache.backends.redis import RedisCache

    from core.cache import ResilientRedisCache, memo_clear

    memo_clear()
    # The backend itself: `django.core.cache.cache` is a proxy, an instance of no backend class.
    cache = caches["default"]
    redis = cache.primary if isinstance(cache, ResilientRedisCache) else cache
    if isinstance(cache, ResilientRedisCache):
        cache.fallback.clear()
    if isinstance(redis, RedisCache):
        # The broker may share this Redis database (its bindings, the worker's queue): drop
        # only what the app caches, never FLUSHDB.
        client = redis._cache.get_client(write=True)
        patterns = (
            "*stores.*",
            "*loyalty.webhooks*",
            "*core.cache.*",
            "*throttle_*",
            "*privacy:rl:*",
        )
        for pattern in patterns:
            keys = list(client.scan_iter(match=pattern))
            if keys:
                client.delete(*keys)
    else:
        cache.clear()
    yield


def private_cache(settings, name: str):
    """Give the test an empty local-memory cache of its own, emptied again after it.

    Never the Redis database the Celery broker uses, even when REDIS_URL is set. A sub-suite's
    conftest uses it as its autouse `_own_cache`: `yield from private_cache(settings, name)`.
    """
    from django.core.cache import cache

    from core.cache import memo_clear

    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": name}
    }
    cache.clear()
    memo_clear()
    yield
    cache.clear()
    memo_clear()
