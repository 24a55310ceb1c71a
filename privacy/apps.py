from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PrivacyConfig(AppConfig):
    name = "privacy"
    verbose_name = _("Privacy")

    def ready(self) -> None:
        # Privacy's own erasers, exporter and processing declarations register on import; so
        # do the ticket tasks, which the outbox finds by name in every process (a web server
        # queues them without Celery's autodiscovery having run).
        from privacy import declarations, services, tasks  # noqa: F401
