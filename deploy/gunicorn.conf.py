"""gunicorn settings for the app servers; the command line (deploy/prod.py) adds bind/workers.

Each value can be set from the environment without editing this file.
"""

import os

# Sync workers with threads: a counter request waits on PostgreSQL, not on the CPU.
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", 2 * (os.cpu_count() or 1) + 1))
threads = int(os.environ.get("GUNICORN_THREADS", 4))
# The reader device long-polls for up to EID_DEVICE_POLL_MAX_SECONDS (20 s by default).
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 60))
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then: a slow leak never grows without bound.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", 5000))
max_requests_jitter = 500
# No access log by default: a confirmation link carries its token in the URL. The load
# balancer logs requests if the chain wants them (strip the path of /privacy/confirm/).
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
if os.environ.get("GUNICORN_ACCESS_LOG_FORMAT"):
    access_log_format = os.environ["GUNICORN_ACCESS_LOG_FORMAT"]
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# The proxy in front terminates TLS and sets X-Forwarded-Proto.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
