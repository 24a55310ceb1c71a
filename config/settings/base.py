"""Settings shared by every environment, read from the environment through django-environ.

The defaults need no server: SQLite, Celery tasks run eagerly, e-mail to the console.
`DATABASE_URL` switches to PostgreSQL and `REDIS_URL` to a real Celery broker.
"""

import hashlib
from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

SECRET_KEY = env("SECRET_KEY", default="dev-only-insecure-key-change-me")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])

INSTALLED_APPS = [
    "config.admin.OfficeAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "axes",
    "stores",
    "privacy",
    "loyalty",
    "portal",
    "dashboard",
    "membership",
]

MIDDLEWARE = [
    # A request is a scope in which values the cache holds for every call are reused (core.cache).
    "core.middleware.CacheScopeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Before anything reads the request: hostile paths and oversized bodies refused (400/413).
    "core.middleware.RequestGuardMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # After whitenoise (static files keep their long cache): everything else is no-store.
    "core.middleware.NoStoreMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "core.middleware.StaffLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Reports read from the replica when there is one (after the user is known).
    "config.db_router.ReplicaReadsMiddleware",
    # Last: turns a login refused by axes into the lockout answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "stores.context_processors.chain",
            ],
        },
    },
]

# SQLite by default. WAL lets readers go on while one cashier writes, and IMMEDIATE
# transactions take the write lock up front, so concurrent writers queue on busy_timeout
# instead of failing with "database is locked" when a read lock is upgraded.
SQLITE_PATH = env("SQLITE_PATH", default=str(BASE_DIR / "db.sqlite3"))
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{SQLITE_PATH}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=30000;"
        ),
    }
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # The same backend with a health check that costs no round trip (core/db/postgresql).
    DATABASES["default"]["ENGINE"] = "core.db.postgresql"
    # Parameters bound by the server, so that psycopg can prepare a statement the connection
    # runs again and again: PostgreSQL then plans the counter's joins once per connection
    # instead of on every scan and purchase (a lookup's database time fell from 0.52 to 0.16 ms
    # CPU in bench/bench_api.py).
    # DB_PREPARE_THRESHOLD=off never prepares (PgBouncer in transaction mode before 1.21).
    threshold = env("DB_PREPARE_THRESHOLD", default="5").strip().lower()
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        server_side_binding=True,
        prepare_threshold=None if threshold in ("", "off", "none") else int(threshold),
    )
    # Behind PgBouncer in transaction mode a cursor cannot outlive its transaction.
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = env.bool(
        "DB_TRANSACTION_POOLER", default=False
    )
# A streaming read replica for head office's reports, CSV files and exports (config/db_router).
if env("DATABASE_REPLICA_URL", default=""):
    DATABASES["replica"] = {
        **env.db("DATABASE_REPLICA_URL"),
        "ENGINE": "core.db.postgresql",
        "CONN_MAX_AGE": DATABASES["default"].get("CONN_MAX_AGE", 0),
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": {**DATABASES["default"].get("OPTIONS", {}), "connect_timeout": 2},
        "TEST": {"MIRROR": "default"},
    }
DATABASE_ROUTERS = ["config.db_router.ReplicaRouter"]
REPLICA_MAX_LAG_SECONDS = env.float("REPLICA_MAX_LAG_SECONDS", default=30.0)
REPLICA_CHECK_SECONDS = env.float("REPLICA_CHECK_SECONDS", default=2.0)
REPLICA_READ_VIEWS = [
    "dashboard:figures",
    "dashboard:figures_csv",
    "dashboard:tickets_csv",
    "dashboard:consent_csv",
    "dashboard:stores_csv",
    "dashboard:devices_csv",
    "dashboard:rewards_csv",
    "dashboard:staff_csv",
    "dashboard:notices_csv",
    "dashboard:compliance",
    "dashboard:processing_record",
]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Argon2 first: new and changed passwords are hashed with it; older hashes upgrade at login.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Staff login throttling (portal, admin, API token): after AXES_FAILURE_LIMIT failures for
# one username from one address, that pair is refused for AXES_COOLOFF_TIME. The pair, not
# either alone: one cashier's typos never lock the whole store (one address behind the
# shop's router), and nobody can lock a colleague out from elsewhere. The counters live in
# the database, shared by every app server, so signing in never depends on Redis.
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_DISABLE_ACCESS_LOG = True
AXES_CLIENT_IP_CALLABLE = "core.security.client_ip"
AXES_CLIENT_STR_CALLABLE = "core.security.client_str"
AXES_LOCKOUT_CALLABLE = "core.security.lockout_response"
# Behind a load balancer: how many proxies append to X-Forwarded-For (0: use REMOTE_ADDR).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

LANGUAGE_CODE = "nl"
# German for customers only (the public pages, "my membership", their mails); staff pages
# stay in STAFF_LANGUAGES (core.middleware.StaffLanguageMiddleware).
LANGUAGES = [("nl", "Nederlands"), ("fr", "Français"), ("de", "Deutsch"), ("en", "English")]
STAFF_LANGUAGES = ["nl", "fr", "en"]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Brussels"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"

LOGIN_URL = "portal:login"
LOGIN_REDIRECT_URL = "portal:home"

# Celery: eager without a broker, so a newcomer needs no server.
REDIS_URL = env("REDIS_URL", default="")
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_QUEUE", default="loyalty")
# Privacy, dashboard and outgoing mail each on a queue of its own, named after that one
# (config/queues.py): a worker per queue, so a retention run never delays a cashier's code.
CELERY_TASK_ROUTES = ("config.celery.route_task",)
# The longest task (an erasure of a member with years of purchases, an access export) ends
# well within CELERY_TASK_TIME_LIMIT, or the worker kills it. A task that a dead worker never
# acknowledged goes back to the queue after the broker's visibility timeout, sized just above
# that limit (Celery's default of one hour left an erasure waiting that long); privacy tickets
# are also sent again by the outbox sweeper after PRIVACY_TASK_RETRY_SECONDS.
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=300)
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT - 30
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_TASK_TIME_LIMIT + 60,
    "socket_timeout": 5,
    "socket_connect_timeout": 3,
    # Connecting gives up after a few tries instead of retrying forever inside a web request.
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
# A web request that queues work never waits long on a broker that is down: the outbox keeps
# the work and the sweeper sends it later.
CELERY_BROKER_CONNECTION_TIMEOUT = 3
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
CELERY_BEAT_SCHEDULE = {
    "privacy-ticket-tasks-sweep": {
        "task": "privacy.tasks.ticket_tasks_sweep",
        "schedule": float(env.int("PRIVACY_TASK_SWEEP_SECONDS", default=60)),
    },
    "expire-eid-scans": {
        "task": "loyalty.tasks.expire_eid_scans",
        "schedule": 60.0,
    },
    "expire-points": {
        "task": "loyalty.tasks.expire_points",
        "schedule": crontab(hour=3, minute=15),
    },
    "loyalty-tiers-recompute": {
        "task": "loyalty.tasks.tiers_recompute",
        "schedule": crontab(hour=3, minute=45),
    },
    "loyalty-webhooks-sweep": {
        "task": "loyalty.tasks.webhooks_sweep",
        "schedule": 60.0,
    },
    "loyalty-parity-check": {
        "task": "loyalty.tasks.parity_check",
        "schedule": crontab(hour=4, minute=30),
    },
    "loyalty-anniversaries": {
        "task": "loyalty.tasks.anniversaries_reward",
        "schedule": crontab(hour=6, minute=0),
    },
    "privacy-retention": {
        "task": "privacy.tasks.retention_run",
        "schedule": crontab(hour=2, minute=30),
    },
    "privacy-drop-unverified": {
        "task": "privacy.tasks.tickets_drop_unverified",
        "schedule": crontab(minute=40),
    },
    "dashboard-stats-refresh": {
        "task": "dashboard.tasks.stats_refresh",
        "schedule": crontab(minute="*/10"),
    },
    "dashboard-consent-chain-check": {
        "task": "dashboard.tasks.consent_chain_check",
        "schedule": crontab(minute=5),
    },
    "stores-staff-tokens-purge": {
        "task": "stores.tasks.staff_tokens_purge",
        "schedule": crontab(minute=20),
    },
    "dashboard-tickets-deadline-mail": {
        "task": "dashboard.tasks.tickets_deadline_mail",
        "schedule": crontab(hour=7, minute=30),
    },
}

# Redis when there is one, through a backend that keeps working (in-process) while Redis is
# down and goes back to it by itself (core/cache.py).
CACHES = {
    "default": (
        {"BACKEND": "core.cache.ResilientRedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# The console by default (a developer's machine); production settings require an SMTP server.
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="loyalty@example.be")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "stores.authentication.StaffTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "core.api.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "core.parsing.LimitOffsetPagination",
    "DEFAULT_PARSER_CLASSES": [
        "core.parsing.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # Per staff account (ScopedRateThrottle keys by user): a stolen cashier login cannot walk
    # the members. A busy counter finds a member every few seconds; "off" lifts a limit.
    "DEFAULT_THROTTLE_RATES": {
        "member_find": env("THROTTLE_MEMBER_FIND", default="30/min"),
        "member_read": env("THROTTLE_MEMBER_READ", default="120/min"),
    },
}

# Staff API tokens (django-rest-knox, model stores.StaffToken): hashed at rest, shown once at
# login, one per login or per device named at login. They expire after a working day; 0 means
# never (the compliance page flags it). No refresh on use: the counter's calls are hot and a
# write per call would cost more than the rest of a lookup. Past the limit per user, a login
# revokes that user's oldest tokens rather than refusing the till that logs in.
STAFF_TOKEN_TTL_HOURS = env.float("STAFF_TOKEN_TTL_HOURS", default=10)
STAFF_TOKEN_LIMIT_PER_USER = env.int("STAFF_TOKEN_LIMIT_PER_USER", default=10)
KNOX_TOKEN_MODEL = "stores.StaffToken"  # noqa: S105 (a model name)
REST_KNOX = {
    "TOKEN_TTL": timedelta(hours=STAFF_TOKEN_TTL_HOURS) if STAFF_TOKEN_TTL_HOURS > 0 else None,
    "AUTO_REFRESH": False,
    "AUTH_HEADER_PREFIX": "Token",
    "TOKEN_LIMIT_PER_USER": None,  # enforced at login by stores.services.staff_token_create
}
# knox's own migrations create its AuthToken table even when the model is swapped for ours;
# without them nothing of knox's goes into the database.
MIGRATION_MODULES = {"knox": None}

SPECTACULAR_SETTINGS = {
    "TITLE": "eID loyalty API",
    "DESCRIPTION": "Counter API for store staff and reader devices.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Bodies are documented as JSON, the API's format (forms are parsed for tests and tools).
    "PARSER_WHITELIST": ["core.parsing.JSONParser"],
    # Swagger UI from the sidecar package: served by us, no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# Loyalty rules the chain configures. One deployment serves one chain.
CHAIN_NAME = env("CHAIN_NAME", default="Demo Chain")
# The member card in the phone (loyalty/wallet.py). Paths to PEM files; unset: no wallet buttons.
WALLET_APPLE_PASS_TYPE_ID = env("WALLET_APPLE_PASS_TYPE_ID", default="")
WALLET_APPLE_TEAM_ID = env("WALLET_APPLE_TEAM_ID", default="")
WALLET_APPLE_CERT = env("WALLET_APPLE_CERT", default="")  # the chain's pass certificate
WALLET_APPLE_KEY = env("WALLET_APPLE_KEY", default="")  # its private key
WALLET_APPLE_KEY_PASSWORD = env("WALLET_APPLE_KEY_PASSWORD", default="")
WALLET_APPLE_WWDR = env("WALLET_APPLE_WWDR", default="")  # Apple's WWDR intermediate
WALLET_GOOGLE_ISSUER_ID = env("WALLET_GOOGLE_ISSUER_ID", default="")
WALLET_GOOGLE_CLASS = env("WALLET_GOOGLE_CLASS", default="")  # the loyalty class's id suffix
WALLET_GOOGLE_SERVICE_ACCOUNT = env("WALLET_GOOGLE_SERVICE_ACCOUNT", default="")  # JSON key
# How long the link to their pass a member receives by mail stays valid.
WALLET_LINK_DAYS = env.int("WALLET_LINK_DAYS", default=30)
LOYALTY_POINTS_EXPIRY_MONTHS = env.int("LOYALTY_POINTS_EXPIRY_MONTHS", default=24)
LOYALTY_MAX_PURCHASE_AMOUNT = env.int("LOYALTY_MAX_PURCHASE_AMOUNT", default=100_000)
LOYALTY_TIER_GRACE_DAYS = env.int("LOYALTY_TIER_GRACE_DAYS", default=60)
# Webhooks: a failed delivery is tried again after 30 s, 1 min, 2 min ... (doubling, at most
# 6 h apart), WEBHOOK_MAX_ATTEMPTS times in all (about a day and a half), then given up.
WEBHOOK_RETRY_BASE_SECONDS = env.int("WEBHOOK_RETRY_BASE_SECONDS", default=30)
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=12)

SESSION_COOKIE_AGE = int(timedelta(hours=12).total_seconds())

# Security headers on every answer; production.py adds HTTPS-only cookies, HSTS, SSL redirect.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
# No inline script or style anywhere: every script and stylesheet is a static file.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    # Django logs the path of every 4xx/5xx answer; a confirmation link's path holds its token.
    "filters": {"redact_link_tokens": {"()": "core.logging.RedactLinkTokens"}},
    "loggers": {"django.request": {"filters": ["redact_link_tokens"]}},
}

# Privacy
# Keyed hashes (consent subjects, requester addresses, rate-limit keys) and the consent chain's
# HMAC use this key. Set it explicitly in production and never rotate it casually: the consent
# log's verification needs the key it was written with.
PRIVACY_HASH_KEY = (
    env("PRIVACY_HASH_KEY", default="")
    or hashlib.sha256(("privacy-hash-key:" + SECRET_KEY).encode()).hexdigest()
)
PRIVACY_RETENTION_MONTHS = env.int("PRIVACY_RETENTION_MONTHS", default=24)
# Members erased together by retention: one transaction, every eraser given the batch.
PRIVACY_RETENTION_BATCH = env.int("PRIVACY_RETENTION_BATCH", default=1000)

# How long the dashboard's refresh waits for ledger writers that started before it (seconds);
# past that it leaves the figures for the next run (dashboard.services).
DASHBOARD_REFRESH_WAIT_SECONDS = env.float("DASHBOARD_REFRESH_WAIT_SECONDS", default=10.0)
PRIVACY_LINK_EXPIRY_HOURS = env.int("PRIVACY_LINK_EXPIRY_HOURS", default=48)
PRIVACY_UNVERIFIED_DROP_DAYS = env.int("PRIVACY_UNVERIFIED_DROP_DAYS", default=7)
# A ticket's task not done this long after it was sent is sent again (then after twice as
# long, up to an hour). Above the task time limit, so a slow run is not doubled.
PRIVACY_TASK_RETRY_SECONDS = env.int(
    "PRIVACY_TASK_RETRY_SECONDS", default=CELERY_TASK_TIME_LIMIT + 60
)
# Verified erasure requests are scheduled at once; False leaves approval to head office.
PRIVACY_ERASURE_AUTO_APPROVE = env.bool("PRIVACY_ERASURE_AUTO_APPROVE", default=True)
PRIVACY_RATE_LIMIT_WINDOW_SECONDS = env.int("PRIVACY_RATE_LIMIT_WINDOW_SECONDS", default=3600)
PRIVACY_RATE_LIMIT_PER_IP = env.int("PRIVACY_RATE_LIMIT_PER_IP", default=20)
PRIVACY_RATE_LIMIT_PER_IDENTIFIER = env.int("PRIVACY_RATE_LIMIT_PER_IDENTIFIER", default=3)
# Counter access (stores.access, loyalty.references): how long a member found at the counter
# stays reachable by the reference the lookup handed out, and when head office is warned.
MEMBER_REFERENCE_SECONDS = env.int("MEMBER_REFERENCE_SECONDS", default=30 * 60)
# A counter request counts as confirmed by the card when a scan recognised the member this
# long ago at most.
EID_PRESENTED_SECONDS = env.int("EID_PRESENTED_SECONDS", default=5 * 60)
MEMBER_READS_ALERT_PER_HOUR = env.int("MEMBER_READS_ALERT_PER_HOUR", default=120)
# "My membership": how long a mailed sign-in link works, and a signed-in visit lasts.
MEMBERSHIP_LINK_MINUTES = env.int("MEMBERSHIP_LINK_MINUTES", default=30)
MEMBERSHIP_SESSION_MINUTES = env.int("MEMBERSHIP_SESSION_MINUTES", default=30)
PRIVACY_CONFIRMATION_CODE_MINUTES = env.int("PRIVACY_CONFIRMATION_CODE_MINUTES", default=15)
# The public site's address for links in e-mails and on the member card, when head office has
# not set one (dashboard: Chain). `make run` sets it from its HOST and PORT. PRIVACY_SITE_URL
# is its former name.
SITE_URL = env("SITE_URL", default="") or env("PRIVACY_SITE_URL", default="http://127.0.0.1:8000")

# The server keeps a keyed hash of each eID token an agent sends, never the token itself, so
# no value an agent sends (honest, old or tampered with) lands in the database verbatim.
# Derived from PRIVACY_HASH_KEY unless set; like it, never rotate it casually: every card link
# was stored under it (a new key means every member re-links their card).
EID_TOKEN_HASH_KEY = (
    env("EID_TOKEN_HASH_KEY", default="")
    or hashlib.sha256(("eid-token-hash-key:" + PRIVACY_HASH_KEY).encode()).hexdigest()
)

# eID channel: how long an armed scan waits for the card, and the longest device long-poll.
EID_SCAN_TTL_SECONDS = env.int("EID_SCAN_TTL_SECONDS", default=120)
EID_DEVICE_POLL_MAX_SECONDS = env.int("EID_DEVICE_POLL_MAX_SECONDS", default=20)
# A waiting reader holds a web thread: at most this many waits at once per server process
# (half of gunicorn's threads by default), so the cashiers always keep the other threads. A
# reader that finds them taken is answered 204 at once with Retry-After, and asks again then.
EID_DEVICE_POLL_SLOTS = env.int(
    "EID_DEVICE_POLL_SLOTS", default=max(1, env.int("GUNICORN_THREADS", default=4) // 2)
)
EID_DEVICE_POLL_BUSY_SECONDS = env.int("EID_DEVICE_POLL_BUSY_SECONDS", default=3)
