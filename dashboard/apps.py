from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DashboardConfig(AppConfig):
    name = "dashboard"
    verbose_name = _("Head-office dashboard")

    def ready(self):
        from dashboard import privacy

        privacy.register()
