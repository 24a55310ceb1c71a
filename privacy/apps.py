from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PrivacyConfig(AppConfig):
    name = "privacy"
    verbose_name = _("Privacy")

    def ready(self) -> None:
        # Privacy's own erasers, exporter and processing declarations register on import; so
        # do the ticket tasks, which the outbox finds by name in every process (a web server
        # queues them without Celery's autodiscovery having run).
        from django.core.signals import request_finished, request_started
        from django.db import close_old_connections

        from privacy import declarations, outbox, services, tasks  # noqa: F401

        # In-process tasks of the public forms run after the answer (privacy.outbox), before
        # Django closes the request's database connections.
        request_started.connect(outbox.request_started, dispatch_uid="privacy.outbox.started")
        request_finished.disconnect(close_old_connections)
        request_finished.connect(outbox.request_finished, dispatch_uid="privacy.outbox.finished")
        request_finished.connect(close_old_connections)
