"""PgBouncer in transaction pooling (deploy/pgbouncer.py): what it means for prepared statements.

A real PgBouncer (Debian's) with one server connection in front of the test PostgreSQL. Two
clients that let psycopg prepare statements trip over each other's on that one connection
unless PgBouncer tracks them (1.21+); the settings the stack gives the app behind it
(`pooled_env`) never prepare there, and keep working.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.postgres


def _module(name: str):
    spec = importlib.util.spec_from_file_location(f"deploy_{name}", ROOT / "deploy" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


pgbouncer = _module("pgbouncer")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def pooler():
    """PgBouncer with a single server connection; yield (its URL for postgres, its version)."""
    if pgbouncer.pgbouncer_binary() is None:
        pytest.fail("pgbouncer is not installed (Debian package pgbouncer, see .ci/run)")
    server = urlunsplit(urlsplit(os.environ["DATABASE_URL"])._replace(path="/postgres"))
    version = pgbouncer.pgbouncer_version()
    port = _free_port()
    # Not under pytest's own temporary folder: PgBouncer runs as postgres when we are root.
    folder = Path(tempfile.mkdtemp(prefix="pgbouncer-test-"))
    ini = pgbouncer.write_config(
        server_url=server, folder=folder, port=port, version=version, pool_size=1
    )
    proc = subprocess.Popen(
        pgbouncer.command(ini), stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    url = pgbouncer.pooled_url(server, port)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    out = proc.stdout.read().decode() if proc.poll() is not None else ""
                    pytest.fail(f"PgBouncer did not start: {out[-2000:]}")
                time.sleep(0.1)
        yield url, version
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)


def _clients(url: str, prepare_threshold):
    import psycopg

    return [
        psycopg.connect(url, autocommit=True, prepare_threshold=prepare_threshold) for _ in range(2)
    ]


def _interleave(clients, rounds: int = 5) -> None:
    """Run the same statements from both clients by turns, as two app threads would."""
    for n in range(rounds):
        for client in clients:
            assert client.execute("SELECT %s::int + 1", [n]).fetchone() == (n + 1,)
            client.execute("SELECT count(*) FROM pg_class WHERE relname = %s", ["pg_type"])


def test_prepared_statements_through_the_pooler_need_pgbouncer_1_21(pooler):
    import psycopg

    url, version = pooler
    clients = _clients(url, prepare_threshold=0)  # prepare every statement at once
    try:
        if pgbouncer.tracks_prepared_statements(version):
            _interleave(clients)
        else:
            # The second client's statement lands on the server connection the first one
            # prepared its own under the same name.
            with pytest.raises(psycopg.errors.DatabaseError, match="prepared statement"):
                _interleave(clients)
    finally:
        for client in clients:
            client.close()


def test_the_app_behind_this_pooler_does_not_prepare_and_keeps_working(pooler):
    url, version = pooler
    env = pgbouncer.pooled_env(os.environ["DATABASE_URL"], 6432, version)
    assert env["DB_TRANSACTION_POOLER"] == "true"
    assert urlsplit(env["DATABASE_URL"]).port == 6432
    assert urlsplit(env["DATABASE_URL"]).path == urlsplit(os.environ["DATABASE_URL"]).path

    # The settings Django gets from that environment.
    settings = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; "
            "db = settings.DATABASES['default']; "
            "print(db['OPTIONS']['prepare_threshold'], db['DISABLE_SERVER_SIDE_CURSORS'])",
        ],
        cwd=ROOT,
        env={**os.environ, **env, "DJANGO_SETTINGS_MODULE": "config.settings.local"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    expected = "5" if pgbouncer.tracks_prepared_statements(version) else "None"
    assert settings == [expected, "True"]

    threshold = None if expected == "None" else int(expected)
    clients = _clients(url, prepare_threshold=threshold)
    try:
        _interleave(clients, rounds=20)  # well past the threshold: nothing breaks
    finally:
        for client in clients:
            client.close()
