"""Settings for the test suite: fast hashing, quiet e-mail, the same database rules as base."""

from .base import *  # noqa: F403
from .base import DATABASES

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Login throttling off: tests that log in with wrong passwords would lock each other out.
# tests/security/test_login_throttling.py switches it on for itself.
AXES_ENABLED = False
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not memory: concurrency tests need several connections to one database.
    DATABASES["default"]["TEST"] = {"NAME": DATABASES["default"]["NAME"] + ".test"}

# Tasks run in-process in tests; the tests marked `celery_worker` switch to the real worker.
CELERY_TASK_ALWAYS_EAGER = True

WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# Per-account throttles high enough for tests that look members up in a loop; tests of the
# throttles set their own rates.
REST_FRAMEWORK = {
    **REST_FRAMEWORK,  # noqa: F405
    "DEFAULT_THROTTLE_RATES": {"member_find": "100000/min", "member_read": "100000/min"},
}
