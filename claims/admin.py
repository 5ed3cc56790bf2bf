from django.contrib import admin

from .models import Claim, ClaimEvent, ClaimMeterEvidence, ReasonTemplate, WorkingDayTransfer


@admin.register(ReasonTemplate)
class ReasonTemplateAdmin(admin.ModelAdmin):
    list_display = ["text_az", "text_en", "text_ru", "requires_text", "ordering", "active"]
    list_editable = ["ordering", "active"]
    list_filter = ["active"]


@admin.register(WorkingDayTransfer)
class WorkingDayTransferAdmin(admin.ModelAdmin):
    list_display = ["day", "is_working_day", "decree"]
    date_hierarchy = "day"


class EvidenceInline(admin.TabularInline):
    model = ClaimMeterEvidence
    extra = 0
    can_delete = False
    readonly_fields = ["meter_serial", "seal_number", "billed_reading", "declared_reading", "photo",
                       "photo_content_type"]


class EventInline(admin.TabularInline):
    model = ClaimEvent
    extra = 0
    can_delete = False
    readonly_fields = ["at", "status", "kind", "note", "public"]


@admin.register(Claim)
class ClaimAdmin(admin.ModelAdmin):
    """Read-only: claims change only through the back office's services."""

    list_display = ["number", "status", "outcome", "branch", "operator", "due_on", "channel"]
    list_filter = ["status", "channel", "branch"]
    search_fields = ["number", "subscriber_code", "invoice_number", "citizen__fin"]
    list_select_related = ["branch", "operator"]
    inlines = [EvidenceInline, EventInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
