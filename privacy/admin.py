"""Admin for privacy: notices (publish only), tickets, consent log, retention runs (read-only)."""

from __future__ import annotations

from django.contrib import admin, messages

from core.admin import ReadOnlyAdmin
from core.errors import ApplicationError
from privacy import services
from privacy.models import (
    ConsentRecord,
    NoticeVersion,
    PrivacyTicket,
    RetentionRun,
    TicketTransition,
)


@admin.register(NoticeVersion)
class NoticeVersionAdmin(admin.ModelAdmin):
    """Adding publishes a new version; a published text cannot be changed or deleted."""

    list_display = ["purpose", "language", "version", "published_at", "content_hash"]
    list_filter = ["purpose", "language"]
    fields = ["purpose", "language", "text"]

    def get_readonly_fields(self, request, obj=None):
        return (
            ["purpose", "language", "version", "text", "content_hash", "published_at"]
            if obj
            else []
        )

    def get_fields(self, request, obj=None):
        return self.get_readonly_fields(request, obj) or self.fields

    def has_change_permission(self, request, obj=None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change):
        published = services.notice_publish(
            purpose=obj.purpose, language=obj.language, text=obj.text
        )
        obj.pk = published.pk
        obj.version = published.version


@admin.register(ConsentRecord)
class ConsentRecordAdmin(ReadOnlyAdmin):
    list_display = ["seq", "purpose", "action", "channel", "store", "created_at"]
    list_filter = ["purpose", "action", "channel"]
    list_select_related = ["store"]
    show_full_result_count = False


class TicketTransitionInline(admin.TabularInline):
    model = TicketTransition
    fields = ["at", "from_state", "to_state", "by", "note"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(PrivacyTicket)
class PrivacyTicketAdmin(ReadOnlyAdmin):
    list_display = ["pk", "kind", "state", "source", "store", "received_at", "due_on"]
    list_filter = ["kind", "state", "source"]
    list_select_related = ["store"]
    exclude = ["token_hash"]
    inlines = [TicketTransitionInline]
    actions = ["approve"]

    def has_change_permission(self, request, obj=None) -> bool:
        # Needed for the approve action; every field stays read-only.
        return obj is None and request.user.has_perm("privacy.change_privacyticket")

    @admin.action(description="Schedule the selected verified tickets")
    def approve(self, request, queryset):
        done = 0
        for ticket in queryset.filter(state="verified"):
            try:
                services.ticket_approve(ticket=ticket, by=request.user)
                done += 1
            except ApplicationError as exc:
                self.message_user(request, f"Ticket {ticket.pk}: {exc.message}", messages.ERROR)
        self.message_user(request, f"{done} ticket(s) scheduled.")


@admin.register(RetentionRun)
class RetentionRunAdmin(ReadOnlyAdmin):
    list_display = ["started_at", "finished_at", "cutoff", "tickets_opened", "tickets_completed"]
    date_hierarchy = "started_at"
