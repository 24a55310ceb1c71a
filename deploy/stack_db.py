"""The pooler and the replica of `make prod`: what deploy/prod.py asks for, in one place.

- PgBouncer (deploy/pgbouncer.py) in transaction pooling: web, worker and beat connect
  through it; migrations and the demo seeding go straight to PostgreSQL.
- A streaming replica (deploy/replica.py) in a folder of its own: head office's reports read
  from it (`DATABASE_REPLICA_URL`, config/db_router.py).

Both only for a PostgreSQL on this machine, and only if their programs are installed; without
them the stack runs as before (logged). `--no-pooler` and `--no-replica` leave them out.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import tempfile
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import pgbouncer
import replica

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", ""}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-pooler", action="store_true", help="No PgBouncer in front.")
    parser.add_argument("--no-replica", action="store_true", help="No read replica.")
    parser.add_argument("--pooler-port", type=int, default=0, help="PgBouncer's (default: free).")
    parser.add_argument("--replica-port", type=int, default=0, help="Replica's (default: free).")
    parser.add_argument(
        "--replica-dir", default="", help="Folder for the replica (default: a temporary one)."
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare(
    args: argparse.Namespace, database_url: str, log: Callable[[str], None]
) -> tuple[dict[str, str], dict[str, list[str]], Callable[[], None]]:
    """Start the replica and configure PgBouncer.

    Returns the environment for web/worker/beat, the processes to supervise (PgBouncer, in
    the foreground) and what to call on the way out (stop and remove the replica).
    """
    env: dict[str, str] = {}
    procs: dict[str, list[str]] = {}
    cleanups: list[Callable[[], None]] = []
    local = urlsplit(database_url).hostname in LOCAL_HOSTS

    if not args.no_replica and local:
        folder = Path(args.replica_dir) if args.replica_dir else None
        own_folder = folder is None
        folder = folder or Path(tempfile.mkdtemp(prefix="loyalty-replica-"))
        port = args.replica_port or _free_port()
        try:
            env["DATABASE_REPLICA_URL"] = replica.start(
                primary_url=database_url, folder=folder, port=port, log=log
            )
            log(f"reports read from the replica on 127.0.0.1:{port} (data in {folder})")
        except (OSError, RuntimeError) as failed:
            log(f"no read replica: {failed}")
        cleanups.append(lambda f=folder, own=own_folder: replica.stop(folder=f, remove=own))

    binary = pgbouncer.pgbouncer_binary()
    if not args.no_pooler and local and binary is None:
        log("no pooler: PgBouncer is not installed (Debian: apt-get install pgbouncer)")
    elif not args.no_pooler and local:
        version = pgbouncer.pgbouncer_version(binary)
        port = args.pooler_port or _free_port()
        pool_folder = Path(tempfile.mkdtemp(prefix="loyalty-pgbouncer-"))
        ini = pgbouncer.write_config(
            server_url=database_url, folder=pool_folder, port=port, version=version
        )
        procs["pgbouncer"] = pgbouncer.command(ini, binary)
        env.update(pgbouncer.pooled_env(database_url, port, version))
        prepared = (
            "PgBouncer keeps prepared statements"
            if pgbouncer.tracks_prepared_statements(version)
            else "statements not prepared (DB_PREPARE_THRESHOLD=off: PgBouncer before 1.21)"
        )
        log(
            f"PgBouncer {'.'.join(map(str, version))} on 127.0.0.1:{port}, transaction "
            f"pooling; {prepared}"
        )
        cleanups.append(lambda: shutil.rmtree(pool_folder, ignore_errors=True))

    def cleanup() -> None:
        for step in reversed(cleanups):
            step()

    return env, procs, cleanup
