"""Inspections in the admin: to look at, not to change (changes go through the services,
which keep the claim, its timeline, the audit and the notifications in step)."""

from django.contrib import admin

from .models import Inspection, InspectionReading


class ReadOnlyMixin:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class InspectionReadingInline(ReadOnlyMixin, admin.TabularInline):
    model = InspectionReading
    readonly_fields = ("meter_serial", "verified_reading")
    fields = readonly_fields
    extra = 0


@admin.register(Inspection)
class InspectionAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["id", "claim", "inspector", "visit_on", "window", "status", "seal_state", "recorded_at"]
    list_filter = ["status", "window", "seal_state", "visit_on", "claim__branch"]
    search_fields = ["claim__number", "inspector__username", "inspector__last_name"]
    date_hierarchy = "visit_on"
    list_select_related = ["claim", "inspector"]
    readonly_fields = ("claim", "inspector", "ordered_by", "ordered_at", "visit_on", "window", "status",
                       "seal_state", "note", "photo", "photo_content_type", "recorded_at")
    fields = readonly_fields
    inlines = [InspectionReadingInline]
