from django.contrib import admin

from stores.models import Campaign, EarningRule, ReaderDevice, StaffAssignment, StaffToken, Store


class EarningRuleInline(admin.StackedInline):
    model = EarningRule
    can_delete = False


class CampaignInline(admin.TabularInline):
    model = Campaign
    extra = 0


@admin.register(Store)
class StoreAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "city", "language", "is_active"]
    list_filter = ["language", "is_active"]
    search_fields = ["code", "name", "city"]
    inlines = [EarningRuleInline, CampaignInline]


@admin.register(EarningRule)
class EarningRuleAdmin(admin.ModelAdmin):
    list_display = ["store", "points_per_euro", "rounding", "minimum_purchase"]


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ["name", "store", "multiplier", "starts_at", "ends_at"]
    list_filter = ["store"]


@admin.register(StaffAssignment)
class StaffAssignmentAdmin(admin.ModelAdmin):
    list_display = ["user", "role", "store"]
    list_filter = ["role", "store"]
    search_fields = ["user__username"]


@admin.register(ReaderDevice)
class ReaderDeviceAdmin(admin.ModelAdmin):
    list_display = ["name", "store", "token_prefix", "created_at", "last_seen_at", "revoked_at"]
    list_filter = ["store"]
    # The token is shown once at registration (API or dashboard); admin never sees it.
    readonly_fields = ["token_hash", "token_prefix", "created_at", "last_seen_at", "created_by"]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(StaffToken)
class StaffTokenAdmin(admin.ModelAdmin):
    """Who holds an API token, on which device, until when; never the token or its hash.

    Tokens are made only by logging in (POST /api/v1/auth/token/); deleting one here revokes it.
    """

    list_display = ["user", "device", "created", "expiry"]
    search_fields = ["user__username", "device"]
    fields = ["user", "device", "created", "expiry"]
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
