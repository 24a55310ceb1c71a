#!/usr/bin/env python3
"""PgBouncer in transaction pooling in front of PostgreSQL, for `make prod` (deploy/prod.py).

The app servers and workers connect to PgBouncer; each transaction borrows one of a few
server connections. What that means for the app:

- a server-side cursor cannot outlive its transaction: `DB_TRANSACTION_POOLER=true` makes
  Django read `.iterator()` querysets client-side;
- a statement psycopg prepared on one server connection does not exist on the next one.
  PgBouncer 1.21 and later track prepared statements themselves (`max_prepared_statements`),
  so the app keeps `DB_PREPARE_THRESHOLD`; before 1.21 (Debian 12 ships 1.18) the app must
  not prepare: `DB_PREPARE_THRESHOLD=off`. `pooled_env` sets both from the version found.

Standard library only. Run alone for a look: `deploy/pgbouncer.py --port 6432`.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

PREPARED_STATEMENTS_SINCE = (1, 21)


def pgbouncer_binary() -> str | None:
    return shutil.which("pgbouncer") or (
        "/usr/sbin/pgbouncer" if Path("/usr/sbin/pgbouncer").exists() else None
    )


def pgbouncer_version(binary: str | None = None) -> tuple[int, int, int]:
    """Return PgBouncer's version, e.g. (1, 18, 0)."""
    binary = binary or pgbouncer_binary()
    if binary is None:
        raise FileNotFoundError("pgbouncer is not installed (Debian: apt-get install pgbouncer)")
    out = subprocess.run([binary, "--version"], capture_output=True, text=True, check=True)
    found = re.search(r"PgBouncer (\d+)\.(\d+)\.(\d+)", out.stdout + out.stderr)
    if not found:
        raise RuntimeError(f"unexpected pgbouncer --version output: {out.stdout[:80]!r}")
    return tuple(int(n) for n in found.groups())


def tracks_prepared_statements(version: tuple[int, ...]) -> bool:
    return tuple(version[:2]) >= PREPARED_STATEMENTS_SINCE


def _quote(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


def write_config(
    *,
    server_url: str,
    folder: Path,
    port: int,
    version: tuple[int, ...],
    pool_size: int = 20,
    max_client_conn: int = 500,
) -> Path:
    """Write pgbouncer.ini and its user list into `folder`; return the ini's path."""
    server = urlsplit(server_url)
    user = unquote(server.username or "postgres")
    password = unquote(server.password or "")
    folder.mkdir(parents=True, exist_ok=True)
    users = folder / "userlist.txt"
    users.write_text(f"{_quote(user)} {_quote(password)}\n")
    users.chmod(0o600)
    lines = [
        "[databases]",
        # Every database name a client asks for, on the one PostgreSQL behind.
        f"* = host={server.hostname or '127.0.0.1'} port={server.port or 5432}",
        "",
        "[pgbouncer]",
        "listen_addr = 127.0.0.1",
        f"listen_port = {port}",
        f"unix_socket_dir = {folder}",
        f"pidfile = {folder / 'pgbouncer.pid'}",
        f"auth_file = {users}",
        # Same policy as the server for 127.0.0.1: a password when the URL carries one.
        f"auth_type = {'plain' if password else 'trust'}",
        "pool_mode = transaction",
        f"default_pool_size = {pool_size}",
        f"max_client_conn = {max_client_conn}",
        # Django and psycopg send these in the startup packet.
        "ignore_startup_parameters = extra_float_digits,options",
        "server_reset_query =",
        "log_connections = 0",
        "log_disconnections = 0",
        "admin_users = " + user,
    ]
    if tracks_prepared_statements(version):
        lines.append("max_prepared_statements = 200")
    ini = folder / "pgbouncer.ini"
    ini.write_text("\n".join(lines) + "\n")
    if os.geteuid() == 0:
        # PgBouncer will not run as root; it switches to postgres (-u) and reads these as it.
        shutil.chown(folder, "postgres")
        for path in (ini, users):
            shutil.chown(path, "postgres")
    return ini


def command(ini: Path, binary: str | None = None) -> list[str]:
    """The foreground PgBouncer process for a supervisor."""
    argv = [binary or pgbouncer_binary() or "pgbouncer"]
    if os.geteuid() == 0:
        argv += ["-u", "postgres"]
    return [*argv, str(ini)]


def pooled_url(server_url: str, port: int) -> str:
    """The DATABASE_URL the app uses: the same database and user, through PgBouncer."""
    parts = urlsplit(server_url)
    auth = parts.netloc.rpartition("@")[0]
    netloc = f"{auth}@127.0.0.1:{port}" if auth else f"127.0.0.1:{port}"
    return urlunsplit(parts._replace(netloc=netloc))


def pooled_env(server_url: str, port: int, version: tuple[int, ...]) -> dict[str, str]:
    """Environment for processes that connect through PgBouncer (web, worker, beat)."""
    env = {"DATABASE_URL": pooled_url(server_url, port), "DB_TRANSACTION_POOLER": "true"}
    if not tracks_prepared_statements(version):
        env["DB_PREPARE_THRESHOLD"] = "off"
    return env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=6432)
    parser.add_argument("--folder", default="var/pgbouncer")
    parser.add_argument(
        "--server", default=os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/")
    )
    args = parser.parse_args(argv)
    version = pgbouncer_version()
    ini = write_config(
        server_url=args.server, folder=Path(args.folder).resolve(), port=args.port, version=version
    )
    print(f"PgBouncer {'.'.join(map(str, version))}: {ini}", flush=True)
    return subprocess.run(command(ini), check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
