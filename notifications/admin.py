from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template import Template, TemplateSyntaxError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from identity.models import User

from .models import Delivery, DeliveryStatus, NotificationTemplate
from .services import DeliveryNotRetryable, delivery_retry


class NotificationTemplateForm(forms.ModelForm):
    """Refuses a text that is not a valid Django template, so that a typo is caught here and
    not when a claim changes."""

    class Meta:
        model = NotificationTemplate
        fields = ["event", "medium", "language", "subject", "body"]

    def _check_template(self, field: str) -> str:
        value: str = self.cleaned_data.get(field, "")
        try:
            Template(value)
        except TemplateSyntaxError as e:
            raise forms.ValidationError(_("Şablonda xəta: %(error)s"), params={"error": e}) from e
        return value

    def clean_subject(self) -> str:
        return self._check_template("subject")

    def clean_body(self) -> str:
        return self._check_template("body")


@admin.register(NotificationTemplate)
class NotificationTemplateAdmin(admin.ModelAdmin):
    form = NotificationTemplateForm
    list_display = ["event", "medium", "language", "subject"]
    list_filter = ["event", "medium", "language"]
    search_fields = ["subject", "body"]
    ordering = ["event", "medium", "language"]


# Every field of a delivery is read-only; the page shows the message first, then its delivery
# state (mostly the fields of core.outbox.OutboxRow, which Django would otherwise list first).
_DELIVERY_STATE = ["status", "attempts", "next_attempt_at", "last_error", "provider_reference", "created_at",
                   "updated_at", "delivered_at"]


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["id", "created_at", "claim", "event", "medium", "language", "recipient", "status", "attempts",
                    "segments", "delivered_at"]
    list_filter = ["status", "medium", "event", "language"]
    search_fields = ["recipient", "claim__number", "provider_reference"]
    list_select_related = ["claim"]
    date_hierarchy = "created_at"
    readonly_fields = [*(f.name for f in Delivery._meta.fields if f.name not in _DELIVERY_STATE), *_DELIVERY_STATE]
    actions = ["retry_failed"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Delivery | None = None) -> bool:
        return False

    @admin.action(description=_("Seçilmiş uğursuz bildirişləri yenidən göndər"), permissions=["change"])
    def retry_failed(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
        assert isinstance(request.user, User)  # the admin serves only logged-in staff
        retried = skipped = 0
        for pk in queryset.filter(status=DeliveryStatus.FAILED).values_list("pk", flat=True):
            try:
                delivery_retry(delivery_id=pk, by=request.user)
                retried += 1
            except DeliveryNotRetryable:
                skipped += 1
        skipped += queryset.exclude(status=DeliveryStatus.FAILED).count()
        if retried:
            self.message_user(request, ngettext(
                "%(count)d bildiriş yenidən göndərilmək üçün növbəyə qoyuldu.",
                "%(count)d bildiriş yenidən göndərilmək üçün növbəyə qoyuldu.", retried) % {"count": retried},
                messages.SUCCESS)
        if skipped:
            self.message_user(request, ngettext(
                "%(count)d bildiriş uğursuz deyil və ya mətni yoxdur; buraxıldı.",
                "%(count)d bildiriş uğursuz deyil və ya mətni yoxdur; buraxıldı.", skipped) % {"count": skipped},
                messages.WARNING)
