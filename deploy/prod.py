#!/usr/bin/env python3
"""Run the product on this machine the way a chain runs it: `make prod`.

PostgreSQL and Redis (started here if they are local and not running), production settings,
gunicorn serving the app and its static files (whitenoise), a Celery worker per queue (the
base queue, privacy, dashboard, webhooks: config/queues.py; `--one-worker` for one consuming
them all) and Celery beat. Ctrl-C stops them all. See docs/deploy.md for several machines.

Steps, each safe to repeat:
1. start the local PostgreSQL and Redis if they do not answer;
2. read the secrets from the environment, or from `--env-file` (made once, mode 600, under
   var/, never committed): SECRET_KEY and PRIVACY_HASH_KEY; and EMAIL_URL (the mail server:
   from the environment, the file, or an SMTP server on this machine, port 25);
3. create the database if it is missing, migrate, collectstatic;
4. create the first head-office account, with a password generated and shown once (never a
   demo login: those exist on a developer's machine only, `make run`);
5. start gunicorn, the workers and beat; stop them all when one dies or on Ctrl-C / SIGTERM.

Standard library only (and psycopg, redis from the project's requirements), so the script
never imports Django in the supervising process.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import stack_db  # PgBouncer and the read replica (deploy/stack_db.py)

ROOT = Path(__file__).resolve().parent.parent


def _queues_module():
    """config/queues.py by its path: importing the `config` package would load Celery here."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("config_queues", ROOT / "config" / "queues.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


queues = _queues_module()
VENV_BIN = Path(sys.executable).parent
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", ""}


def log(message: str) -> None:
    print(f"[prod] {message}", flush=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument(
        "--database",
        default="loyalty_prod",
        help="PostgreSQL database name, used when DATABASE_URL is not set.",
    )
    parser.add_argument("--env-file", default=str(ROOT / "var" / "prod.env"))
    parser.add_argument("--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", 0)))
    parser.add_argument("--threads", type=int, default=int(os.environ.get("GUNICORN_THREADS", 4)))
    parser.add_argument("--worker-concurrency", type=int, default=2)
    parser.add_argument(
        "--queue",
        default=os.environ.get("CELERY_QUEUE", "loyalty"),
        help="The base queue; the privacy, dashboard and webhooks queues are named after it.",
    )
    parser.add_argument(
        "--one-worker",
        action="store_true",
        help="One Celery worker consuming every queue, instead of one worker per queue.",
    )
    parser.add_argument("--no-beat", action="store_true", help="Do not start Celery beat.")
    parser.add_argument(
        "--quiet", action="store_true", help="Send the processes' output to var/ log files."
    )
    stack_db.add_arguments(parser)
    return parser.parse_args(argv)


# Services ----------------------------------------------------------------------------------


def postgres_up(url: str) -> bool:
    import psycopg

    parts = urlsplit(url)
    admin = urlunsplit(parts._replace(path="/postgres"))
    try:
        psycopg.connect(admin, connect_timeout=3).close()
    except psycopg.OperationalError:
        return False
    return True


def redis_up(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=2).ping())
    except redis.RedisError:
        return False


def wait_for(check, what: str, seconds: int = 30) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            sys.exit(f"[prod] {what} did not come up in {seconds} s")
        time.sleep(0.5)


def ensure_postgres(url: str) -> None:
    if postgres_up(url):
        return
    if urlsplit(url).hostname not in LOCAL_HOSTS or not Path("/etc/postgresql").is_dir():
        sys.exit(f"[prod] PostgreSQL at {urlsplit(url).hostname} does not answer")
    version = sorted(os.listdir("/etc/postgresql"))[0]
    log(f"starting PostgreSQL {version}")
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"], check=True
    )
    wait_for(lambda: postgres_up(url), "PostgreSQL")


def ensure_redis(url: str) -> None:
    if redis_up(url):
        return
    if urlsplit(url).hostname not in LOCAL_HOSTS or not shutil.which("redis-server"):
        sys.exit(f"[prod] Redis at {urlsplit(url).hostname} does not answer")
    log("starting Redis")
    for folder in ("/var/lib/redis", "/var/log/redis"):
        Path(folder).mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            "redis-server",
            "--daemonize",
            "yes",
            "--bind",
            "127.0.0.1",
            "-::1",
            "--port",
            str(urlsplit(url).port or 6379),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            "/var/lib/redis",
            "--logfile",
            "/var/log/redis/ci.log",
        ],
        check=True,
    )
    wait_for(lambda: redis_up(url), "Redis")


def ensure_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            return
        log(f"creating database {name}")
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


# Secrets and environment -------------------------------------------------------------------


def read_env_file(path: Path) -> dict[str, str]:
    values = {}
    if path.exists():
        for line in path.read_text().splitlines():
            line = line.strip()
            if line and not line.startswith("#") and "=" in line:
                key, _, value = line.partition("=")
                values[key.strip()] = value.strip()
    return values


def secrets_for(path: Path) -> dict[str, str]:
    """Return SECRET_KEY and PRIVACY_HASH_KEY: from the environment, or the file (made once)."""
    if os.environ.get("SECRET_KEY") and os.environ.get("PRIVACY_HASH_KEY"):
        return {k: os.environ[k] for k in ("SECRET_KEY", "PRIVACY_HASH_KEY")}
    stored = read_env_file(path)
    if not (stored.get("SECRET_KEY") and stored.get("PRIVACY_HASH_KEY")):
        stored = {
            "SECRET_KEY": secrets.token_urlsafe(64),
            # Never rotate this one casually: the consent log is verified with it.
            "PRIVACY_HASH_KEY": secrets.token_hex(32),
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.chmod(0o600)
        path.write_text(
            "# Made by deploy/prod.py for this machine. Keep it secret; never commit it.\n"
            + "".join(f"{k}={v}\n" for k, v in stored.items())
        )
        log(f"secrets written to {path}")
    return {
        "SECRET_KEY": os.environ.get("SECRET_KEY") or stored["SECRET_KEY"],
        "PRIVACY_HASH_KEY": os.environ.get("PRIVACY_HASH_KEY") or stored["PRIVACY_HASH_KEY"],
    }


def production_env(args: argparse.Namespace, database_url: str, redis_url: str) -> dict:
    site = f"http://{args.host}:{args.port}"
    env = {
        **os.environ,
        **secrets_for(Path(args.env_file)),
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "CELERY_QUEUE": args.queue,
        "PYTHONUNBUFFERED": "1",
    }
    if not env.get("EMAIL_URL"):
        # Production settings refuse a console or in-memory backend: mail goes to an SMTP
        # server. Without one here, tickets wait (their mail is retried) until one answers.
        env["EMAIL_URL"] = read_env_file(Path(args.env_file)).get("EMAIL_URL") or (
            "smtp://127.0.0.1:25"
        )
        log(f"mail through {urlsplit(env['EMAIL_URL']).hostname} (set EMAIL_URL for another)")
    env.setdefault("ALLOWED_HOSTS", f"{args.host},127.0.0.1,localhost")
    if not env.get("PRIVACY_SITE_URL"):
        env.setdefault("SITE_URL", site)
    env.setdefault("CSRF_TRUSTED_ORIGINS", site)
    # No TLS in front of a single-machine run: do not redirect to https. Cookies stay Secure.
    env.setdefault("SECURE_SSL_REDIRECT", "false")
    return env


# Processes ---------------------------------------------------------------------------------


def manage(env: dict, *argv: str) -> None:
    subprocess.run([sys.executable, str(ROOT / "manage.py"), *argv], cwd=ROOT, env=env, check=True)


def prepare(env: dict) -> None:
    """What the stack needs before it serves: the schema migrated, the static files collected
    (production settings serve pages from whitenoise's manifest)."""
    manage(env, "migrate", "--noinput", "-v0")
    manage(env, "collectstatic", "--noinput", "-v0")


def commands(args: argparse.Namespace) -> dict[str, list[str]]:
    workers = args.workers or (2 * (os.cpu_count() or 1) + 1)
    procs = {
        "web": [
            str(VENV_BIN / "gunicorn"),
            "config.wsgi",
            "--config",
            str(ROOT / "deploy" / "gunicorn.conf.py"),
            "--bind",
            f"{args.host}:{args.port}",
            "--workers",
            str(workers),
            "--threads",
            str(args.threads),
        ],
        **workers_for(args),
        "beat": [
            str(VENV_BIN / "celery"),
            "-A",
            "config",
            "beat",
            "--loglevel",
            "INFO",
            "--schedule",
            str(ROOT / "var" / f"celerybeat-{args.queue}"),
        ],
    }
    if args.no_beat:
        del procs["beat"]
    return procs


def workers_for(args: argparse.Namespace) -> dict[str, list[str]]:
    """Return the Celery workers' commands: one per queue (`worker` for the base queue,
    `worker-privacy`, `worker-dashboard`, `worker-webhooks`), or with `--one-worker` a single
    `worker` consuming them all (the routing is the same either way)."""

    def worker(consumes: list[str], name: str) -> list[str]:
        return [
            str(VENV_BIN / "celery"),
            "-A",
            "config",
            "worker",
            "--loglevel",
            "INFO",
            "--concurrency",
            str(args.worker_concurrency),
            "-Q",
            ",".join(consumes),
            "-n",
            f"{name}-worker@%h",
        ]

    if args.one_worker:
        return {"worker": worker(queues.queue_names(args.queue), args.queue)}
    procs = {"worker": worker([args.queue], args.queue)}
    for kind in queues.KINDS:
        name = queues.queue_name(args.queue, kind)
        procs[f"worker-{kind}"] = worker([name], name)
    return procs


def supervise(procs: dict[str, list[str]], env: dict, quiet: bool) -> int:
    running: dict[str, subprocess.Popen] = {}
    stopping = False

    def stop(signum, frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    logs = ROOT / "var" / "log"
    logs.mkdir(parents=True, exist_ok=True)
    for name, argv in procs.items():
        out = open(logs / f"prod-{name}.log", "ab") if quiet else None  # noqa: SIM115
        # A process group of its own: Ctrl-C reaches us once, and we stop the children in order.
        running[name] = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT if quiet else None,
            start_new_session=True,
        )
        log(f"{name} started (pid {running[name].pid})")
    status = 0
    while not stopping:
        for name, proc in running.items():
            if proc.poll() is not None:
                log(f"{name} exited with {proc.returncode}; stopping the others")
                status = proc.returncode or 1
                stopping = True
                break
        time.sleep(0.5)
    for proc in running.values():
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 30
    for name, proc in running.items():
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            log(f"{name} did not stop in time; killing it")
            proc.kill()
            proc.wait()
    log("stopped")
    return status


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    database_url = os.environ.get("DATABASE_URL") or (
        f"postgres://postgres@127.0.0.1:5432/{args.database}"
    )
    redis_url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    ensure_postgres(database_url)
    ensure_redis(redis_url)
    ensure_database(database_url)
    env = production_env(args, database_url, redis_url)
    log("migrate, collectstatic")
    prepare(env)
    # The first head-office account, password shown once; nothing when one exists.
    manage(env, "headoffice_create")
    log(f"serving on http://{args.host}:{args.port}/  (health: /healthz, API docs: /api/docs/)")
    pooled, pooler, cleanup = stack_db.prepare(args, database_url, log)
    try:
        return supervise({**pooler, **commands(args)}, {**env, **pooled}, args.quiet)
    finally:
        cleanup()


if __name__ == "__main__":
    sys.exit(main())
