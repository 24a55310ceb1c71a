"""The admin site, behind the same access rule as every other page (stores.access)."""

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig


class OfficeAdminSite(admin.AdminSite):
    def has_permission(self, request) -> bool:
        """Head office (or a superuser, who sets it up) only: `is_staff` alone is not enough."""
        from stores.access import Action, staff_access_for_request

        if not super().has_permission(request):
            return False
        return request.user.is_superuser or staff_access_for_request(request).may(
            Action.OFFICE_HEAD
        )


class OfficeAdminConfig(AdminConfig):
    default_site = "config.admin.OfficeAdminSite"
