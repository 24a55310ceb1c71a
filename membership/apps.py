from django.apps import AppConfig


class MembershipConfig(AppConfig):
    name = "membership"
    verbose_name = "Customers' pages"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Its erasers and exporters register with privacy; its tasks must be known to every
        # process that queues them through privacy's outbox (found there by name).
        from membership import privacy, tasks  # noqa: F401

        privacy.register()
