#!/usr/bin/env python3
"""A streaming read replica of the local PostgreSQL, for `make prod` (deploy/prod.py).

A second cluster made with `pg_basebackup -R` (a hot standby streaming from the primary, no
replication slot, so a replica left behind never makes the primary keep WAL), in a folder the
stack owns, on a port of its own, started with `pg_ctl` and stopped with it (`-m fast`).
Head office's reports read from it (config/db_router.py).

The primary must accept replication connections from 127.0.0.1 (`host replication ...` in
pg_hba.conf; .ci/run adds one on the CI machine). Standard library and psycopg only.

    deploy/replica.py start --folder /tmp/replica --port 5433
    deploy/replica.py stop --folder /tmp/replica
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

# A hot standby needs at least the primary's values of these.
MATCH_PRIMARY = (
    "max_connections",
    "max_worker_processes",
    "max_wal_senders",
    "max_prepared_transactions",
    "max_locks_per_transaction",
)


def _as_postgres(argv: list[str]) -> list[str]:
    # PostgreSQL's programs refuse to run as root.
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


def _admin(primary_url: str) -> str:
    return urlunsplit(urlsplit(primary_url)._replace(path="/postgres"))


def _primary_settings(primary_url: str) -> tuple[str, dict[str, str]]:
    import psycopg

    with psycopg.connect(_admin(primary_url), autocommit=True, connect_timeout=5) as conn:
        major = str(int(conn.execute("SHOW server_version_num").fetchone()[0]) // 10000)
        values = {name: conn.execute(f"SHOW {name}").fetchone()[0] for name in MATCH_PRIMARY}
    return major, values


def bindir(major: str) -> Path:
    folder = Path(f"/usr/lib/postgresql/{major}/bin")
    if folder.is_dir():
        return folder
    found = shutil.which("pg_ctl")
    if not found:
        raise FileNotFoundError("PostgreSQL's server programs (pg_ctl) are not installed")
    return Path(found).resolve().parent


def replica_url(primary_url: str, port: int) -> str:
    """The primary's URL pointed at the replica (same database and user)."""
    parts = urlsplit(primary_url)
    auth = parts.netloc.rpartition("@")[0]
    netloc = f"{auth}@127.0.0.1:{port}" if auth else f"127.0.0.1:{port}"
    return urlunsplit(parts._replace(netloc=netloc))


def start(*, primary_url: str, folder: Path, port: int, log=print) -> str:
    """Make (if needed) and start the replica; return its URL for the primary's database."""
    major, primary = _primary_settings(primary_url)
    bins = bindir(major)
    data = folder / "data"
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
    if not (data / "PG_VERSION").exists():
        server = urlsplit(primary_url)
        env = {**os.environ}
        if server.password:
            env["PGPASSWORD"] = unquote(server.password)
        log(f"replica: pg_basebackup from {server.hostname}:{server.port or 5432} into {data}")
        done = subprocess.run(
            _as_postgres(
                [
                    str(bins / "pg_basebackup"),
                    "-h",
                    server.hostname or "127.0.0.1",
                    "-p",
                    str(server.port or 5432),
                    "-U",
                    unquote(server.username or "postgres"),
                    "-D",
                    str(data),
                    "-R",  # standby.signal and primary_conninfo
                    "-X",
                    "stream",
                    "--checkpoint=fast",
                    "--no-sync",  # a throwaway copy; the primary keeps the data safe
                ]
            ),
            env=env,
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise RuntimeError(
                "pg_basebackup failed (does pg_hba.conf allow `host replication` from "
                f"127.0.0.1?): {done.stderr.strip()[-400:]}"
            )
    # Debian keeps postgresql.conf and pg_hba.conf outside the data folder: write our own.
    conf = [
        f"port = {port}",
        "listen_addresses = '127.0.0.1'",
        f"unix_socket_directories = '{folder}'",
        "hot_standby = on",
        "hot_standby_feedback = on",
        "shared_buffers = 64MB",
        "max_standby_streaming_delay = 30s",
        f"hba_file = '{data / 'pg_hba.conf'}'",
        *(f"{name} = {value}" for name, value in primary.items()),
    ]
    (data / "postgresql.conf").write_text("\n".join(conf) + "\n")
    (data / "pg_hba.conf").write_text("local all all trust\nhost all all 127.0.0.1/32 trust\n")
    if os.geteuid() == 0:
        for name in ("postgresql.conf", "pg_hba.conf"):
            shutil.chown(data / name, "postgres")
    pg_ctl = [str(bins / "pg_ctl"), "-D", str(data), "-l", str(folder / "replica.log")]
    started = subprocess.run(
        _as_postgres([*pg_ctl, "-w", "-t", "120", "start"]),
        capture_output=True,
        text=True,
    )
    if started.returncode != 0:
        server_log = folder / "replica.log"
        tail = server_log.read_text(errors="replace")[-1500:] if server_log.exists() else ""
        raise RuntimeError(
            f"the replica did not start: {started.stderr.strip()[-400:]}\n{tail.strip()}"
        )
    url = replica_url(primary_url, port)
    wait_streaming(_admin(url))
    log(f"replica: streaming on 127.0.0.1:{port}")
    return url


def wait_streaming(url: str, seconds: float = 60) -> None:
    import psycopg

    deadline = time.monotonic() + seconds
    while True:
        try:
            with psycopg.connect(url, connect_timeout=2) as conn:
                row = conn.execute("SELECT status FROM pg_stat_wal_receiver").fetchone()
                if row and row[0] == "streaming":
                    return
        except psycopg.OperationalError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"the replica did not start streaming in {seconds:.0f} s")
        time.sleep(0.3)


def stop(*, folder: Path, remove: bool = False) -> None:
    """Stop the replica (fast: open report connections are cut); remove its folder if asked."""
    data = folder / "data"
    if (data / "postmaster.pid").exists():
        major = (data / "PG_VERSION").read_text().strip()
        subprocess.run(
            _as_postgres(
                [str(bindir(major) / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]
            ),
            capture_output=True,
        )
    if remove:
        shutil.rmtree(folder, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["start", "stop"])
    parser.add_argument("--folder", required=True)
    parser.add_argument("--port", type=int, default=5433)
    parser.add_argument(
        "--primary", default=os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/")
    )
    parser.add_argument("--remove", action="store_true", help="stop: delete the copy too")
    args = parser.parse_args(argv)
    folder = Path(args.folder).resolve()
    if args.action == "start":
        print(start(primary_url=args.primary, folder=folder, port=args.port))
    else:
        stop(folder=folder, remove=args.remove)
    return 0


if __name__ == "__main__":
    sys.exit(main())
