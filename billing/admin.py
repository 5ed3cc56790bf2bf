"""Admin for the local billing tables.

The tables hold hundreds of thousands of accounts and millions of invoices: foreign keys are
raw id fields (no select box of every account), list pages skip the full count, and lists
select their related rows in the same query.
"""

from django.contrib import admin, messages
from django.utils.translation import gettext as _

from core.outbox import OutboxStatus

from .models import Account, Adjustment, Branch, Invoice, InvoiceLine, Meter, Payment, Posting, Tariff
from .services import posting_retry


class LargeTableAdmin(admin.ModelAdmin):
    show_full_result_count = False
    list_per_page = 50


@admin.register(Branch)
class BranchAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "region", "zone", "phone")
    list_filter = ("zone", "region")
    search_fields = ("code", "name", "region")
    ordering = ("code",)


class MeterInline(admin.TabularInline):
    model = Meter
    fields = ("serial_number", "seal_number", "installed_on", "removed_on")
    extra = 0
    show_change_link = True


@admin.register(Account)
class AccountAdmin(LargeTableAdmin):
    list_display = ("subscriber_code", "holder_name", "holder_fin", "holder_kind", "category", "zone", "branch")
    list_filter = ("category", "zone", "holder_kind", "branch")
    list_select_related = ("branch",)
    # Exact and prefix look-ups only: they use the unique and FIN indexes.
    search_fields = ("=subscriber_code", "=holder_fin", "^holder_name")
    raw_id_fields = ("branch",)
    inlines = [MeterInline]


@admin.register(Meter)
class MeterAdmin(LargeTableAdmin):
    list_display = ("serial_number", "seal_number", "account", "installed_on")
    list_select_related = ("account",)
    search_fields = ("=serial_number", "=seal_number", "=account__subscriber_code")
    raw_id_fields = ("account",)


@admin.register(Tariff)
class TariffAdmin(admin.ModelAdmin):
    list_display = ("category", "zone", "service", "price", "valid_from", "decision")
    list_filter = ("category", "zone", "service", "valid_from")
    ordering = ("category", "zone", "service", "-valid_from")


class InvoiceLineInline(admin.TabularInline):
    model = InvoiceLine
    fields = ("meter", "previous_reading", "current_reading", "consumption", "estimated")
    raw_id_fields = ("meter",)
    extra = 0


@admin.register(Invoice)
class InvoiceAdmin(LargeTableAdmin):
    list_display = ("number", "account", "period", "consumption", "total", "issued_on", "due_on")
    list_select_related = ("account",)
    search_fields = ("=number", "=account__subscriber_code")
    raw_id_fields = ("account",)
    inlines = [InvoiceLineInline]


@admin.register(Payment)
class PaymentAdmin(LargeTableAdmin):
    list_display = ("account", "paid_on", "amount", "reference")
    list_select_related = ("account",)
    search_fields = ("=account__subscriber_code", "=reference")
    raw_id_fields = ("account",)


@admin.register(Adjustment)
class AdjustmentAdmin(LargeTableAdmin):
    """Read-only: corrections are posted only through the billing gateway, once per reference."""

    list_display = ("reference", "account", "invoice", "amount", "posted_on", "claim_number", "created_at")
    list_select_related = ("account", "invoice")
    search_fields = ("=reference", "=claim_number", "=account__subscriber_code")

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Posting)
class PostingAdmin(LargeTableAdmin):
    """The outbox of approved corrections on their way to billing: staff see what waits, what
    failed and why, and send a failed one again once billing's team has fixed its cause."""

    list_display = ("reference", "claim_number", "subscriber_code", "amount", "status", "attempts",
                    "next_attempt_at", "delivered_at")
    list_filter = ("status",)
    search_fields = ("=reference", "=claim_number", "=subscriber_code")
    date_hierarchy = "created_at"
    actions = ["retry_failed"]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Seçilmiş uğursuz ötürmələri billinqə yenidən göndər"), permissions=["change"])
    def retry_failed(self, request, queryset):
        retried = 0
        for pk in queryset.filter(status=OutboxStatus.FAILED).values_list("pk", flat=True):
            posting_retry(posting_id=pk, by=request.user)
            retried += 1
        skipped = queryset.exclude(status=OutboxStatus.FAILED).count()
        if retried:
            self.message_user(request, _("Yenidən göndərilmək üçün növbəyə qoyuldu: %(count)d.") % {"count": retried},
                              messages.SUCCESS)
        if skipped:
            self.message_user(request, _("Uğursuz olmadığı üçün buraxıldı: %(count)d.") % {"count": skipped},
                              messages.WARNING)
