from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "dashboard"
    verbose_name = "Head-office dashboard"

    def ready(self):
        from dashboard import privacy

        privacy.register()
