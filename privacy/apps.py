from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "privacy"
    verbose_name = "Privacy"

    def ready(self) -> None:
        # Privacy's own erasers, exporter and processing declarations register on import.
        from privacy import declarations, services  # noqa: F401
