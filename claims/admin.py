from django.contrib import admin

from .models import (
    Claim,
    ClaimEvent,
    ClaimMeterEvidence,
    CompetentBody,
    ConsentText,
    ReasonTemplate,
    Referral,
    WorkingDayTransfer,
)


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


@admin.register(CompetentBody)
class CompetentBodyAdmin(admin.ModelAdmin):
    """The bodies an appeal outside the utility's competence is forwarded to (art. 7.10)."""

    list_display = ["name", "email", "address", "active"]
    list_filter = ["active"]
    search_fields = ["name", "email"]


@admin.register(ConsentText)
class ConsentTextAdmin(admin.ModelAdmin):
    """Staff publish a new version (a new row per language); a published text never changes,
    since claims keep the version they were filed under."""

    list_display = ["version", "language", "published_at"]
    list_filter = ["language"]

    def get_readonly_fields(self, request, obj=None):
        return ["version", "language", "text", "purposes", "published_at"] if obj is not None else []

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Referral)
class ReferralAdmin(admin.ModelAdmin):
    """Letters sent to competent bodies, as the outbox recorded them."""

    list_display = ["claim", "body", "recipient", "status", "attempts", "delivered_at"]
    list_filter = ["status"]
    list_select_related = ["claim", "body"]
    readonly_fields = ["claim", "body", "recipient", "subject", "text", "status", "attempts", "last_error",
                       "delivered_at"]

    def has_add_permission(self, request):
        return False
