from django.contrib import admin

from .models import AgendaItem, Meeting

# Decisions are taken on the commission's pages, through its services (membership, four-eyes,
# the billing posting, the letter, the citizen's messages); the admin only shows them.
DECISION_FIELDS = ("decision", "amount", "note", "decided_by", "decided_at", "letter", "adjustment_reference")


class AgendaItemInline(admin.TabularInline):
    model = AgendaItem
    extra = 0
    can_delete = False
    fields = ("claim", "proposal", *DECISION_FIELDS)
    readonly_fields = fields
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Meeting)
class MeetingAdmin(admin.ModelAdmin):
    list_display = ("protocol_number", "held_on", "secretary", "closed", "created_at")
    list_filter = ("closed", "held_on")
    search_fields = ("protocol_number",)
    date_hierarchy = "held_on"
    filter_horizontal = ("members",)
    readonly_fields = ("secretary", "created_at")
    list_select_related = ("secretary",)
    inlines = [AgendaItemInline]

    def has_add_permission(self, request):
        return False  # opened by the secretary on the commission's page (checks and audit)

    def _has_decisions(self, obj):
        return obj is not None and obj.items.exclude(decision="").exists()

    def get_readonly_fields(self, request, obj=None):
        # Who was present and the protocol are part of the record once anything is decided.
        if self._has_decisions(obj):
            return (*self.readonly_fields, "held_on", "protocol_number", "members")
        return self.readonly_fields

    def has_delete_permission(self, request, obj=None):
        return not self._has_decisions(obj)


@admin.register(AgendaItem)
class AgendaItemAdmin(admin.ModelAdmin):
    list_display = ("claim", "meeting", "decision", "amount", "decided_by", "decided_at")
    list_filter = ("decision",)
    search_fields = ("claim__number", "meeting__protocol_number", "adjustment_reference")
    list_select_related = ("claim", "meeting", "decided_by")
    readonly_fields = ("meeting", "claim", "proposal", *DECISION_FIELDS)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return obj is None or not obj.decision
