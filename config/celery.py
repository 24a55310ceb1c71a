"""Celery application: `celery -A config worker` and `celery -A config beat`.

Production settings unless DJANGO_SETTINGS_MODULE names others (a developer's machine:
`DJANGO_SETTINGS_MODULE=config.settings.local`): a worker started without it refuses to start
for want of its secrets, instead of running with the development ones.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

app = Celery("config")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
