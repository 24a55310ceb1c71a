from django.contrib import admin

from core.admin import ReadOnlyAdmin
from loyalty.models import EidCard, EidScan, LedgerEntry, Member, MemberRead, Reward


@admin.register(Member)
class MemberAdmin(admin.ModelAdmin):
    list_display = ["number", "joined_via", "home_store", "status", "points_balance", "created_at"]
    list_filter = ["joined_via", "status", "home_store"]
    search_fields = ["=number", "=email"]
    # The balance only moves through the ledger.
    readonly_fields = [
        "number",
        "points_balance",
        "joined_via",
        "created_at",
        "updated_at",
        "last_activity_at",
        # Tiers and points owed follow the ledger too.
        "tier",
        "tier_points",
        "tier_kept_until",
        "points_owed",
    ]
    list_select_related = ["home_store"]
    show_full_result_count = False

    def has_delete_permission(self, request, obj=None) -> bool:
        # A member leaves only through erasure (the privacy queue), which also unlinks their
        # ledger, consent records and card and tells the recipients; a bare delete would not.
        return False


@admin.register(MemberRead)
class MemberReadAdmin(ReadOnlyAdmin):
    list_display = ["read_at", "staff", "store", "found_by", "kind"]
    list_filter = ["found_by", "kind", "store"]
    list_select_related = ["staff", "store"]
    raw_id_fields = ["member"]
    show_full_result_count = False


@admin.register(EidCard)
class EidCardAdmin(ReadOnlyAdmin):
    list_display = ["member", "linked_at"]
    raw_id_fields = ["member"]


@admin.register(Reward)
class RewardAdmin(admin.ModelAdmin):
    list_display = ["name", "point_cost", "is_active", "active_from", "active_until"]
    filter_horizontal = ["stores"]


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "kind",
        "points",
        "balance_after",
        "purchase_amount",
        "store",
        "member",
    ]
    list_filter = ["kind", "store"]
    list_select_related = ["store", "member"]
    raw_id_fields = ["member"]
    show_full_result_count = False


@admin.register(EidScan)
class EidScanAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "store", "device", "state", "member_created", "failure_code"]
    list_filter = ["state", "store"]
    list_select_related = ["store", "device"]
    raw_id_fields = ["member", "link_member"]
