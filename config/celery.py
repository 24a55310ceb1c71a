"""Celery application: `celery -A config worker` and `celery -A config beat`.

Production settings unless DJANGO_SETTINGS_MODULE names others (a developer's machine:
`DJANGO_SETTINGS_MODULE=config.settings.local`): a worker started without it refuses to start
for want of its secrets, instead of running with the development ones.
"""

import os

from celery import Celery

from config import queues

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

app = Celery("config")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def route_task(name, args, kwargs, options, task=None, **kw):
    """Send a task to its kind's queue (config/queues.py), named after the base queue in force
    (the test suite's worker sets its own at run time)."""
    return {"queue": queues.queue_for(name, app.conf.task_default_queue)}
