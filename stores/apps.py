from django.apps import AppConfig


class StoresConfig(AppConfig):
    name = "stores"
    verbose_name = "Stores and staff"

    def ready(self) -> None:
        from stores import signals

        signals.connect()
