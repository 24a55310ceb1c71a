"""Production settings: refuse to start without a real secret key, hosts and database."""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import DATABASES, EMAIL_BACKEND, env

DEBUG = False

SECRET_KEY = env("SECRET_KEY", default="")
if len(SECRET_KEY) < 50 or SECRET_KEY.startswith("dev-only"):
    raise ImproperlyConfigured("SECRET_KEY must be set to a random value of 50+ characters.")
if len(env("PRIVACY_HASH_KEY", default="")) < 32:
    # Keyed hashes in the consent log need a key of their own that never rotates with SECRET_KEY.
    raise ImproperlyConfigured("PRIVACY_HASH_KEY must be set to a random value of 32+ characters.")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[])
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must name the hosts this site is served on.")
if not env("DATABASE_URL", default="") or DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    raise ImproperlyConfigured("DATABASE_URL must point at PostgreSQL in production.")
if not env("REDIS_URL", default=""):
    # The broker for erasures and mail, the cache every app server shares (login throttling,
    # the privacy forms' rate limits): without it tasks would run inside web requests.
    raise ImproperlyConfigured("REDIS_URL must point at Redis in production.")
if not env("EMAIL_URL", default=""):
    # Confirmation links and access exports go to customers by mail; the console backend the
    # defaults use would write them into the worker's log instead.
    raise ImproperlyConfigured("EMAIL_URL must point at the mail server (smtp+tls://...).")
if EMAIL_BACKEND != "django.core.mail.backends.smtp.EmailBackend":
    raise ImproperlyConfigured(
        "EMAIL_URL must name an SMTP server (smtp://, smtp+tls:// or smtp+ssl://): a console, "
        "file or in-memory mail backend would keep customers' mail, links and exports on this "
        "machine or in its logs."
    )
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Only for a run on one machine without TLS (`make prod`): SECURE_SSL_REDIRECT=false. Cookies
# stay Secure (browsers accept them from http://127.0.0.1 and localhost), HSTS is ignored there.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
# The load balancer probes app servers over plain HTTP, inside the private network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
