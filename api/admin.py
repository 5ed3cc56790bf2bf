"""Administrators register channels, hand out and revoke their keys, and watch webhook
deliveries. A new key (and a rotated webhook secret) is shown once, on a page of its own, and
stored nowhere in clear (the webhook secret is kept: signing needs it)."""

from __future__ import annotations

from typing import Any, cast

from django.contrib import admin, messages
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from identity.models import User

from .models import ApiChannel, ApiKey, WebhookAttempt, WebhookDelivery, WebhookStatus
from .services import api_channel_webhook_secret_rotate, api_key_create, api_key_revoke
from .webhooks import WebhookNotRetryable, webhook_retry


def _admin(request: HttpRequest) -> User:
    """The admin site's user: always a logged-in staff member (the site lets nobody else in)."""
    return cast(User, request.user)


class ApiKeyInline(admin.TabularInline):
    model = ApiKey
    extra = 0
    can_delete = False
    fields = ("prefix", "name", "created_at", "created_by", "last_used_at", "revoked_at")
    readonly_fields = fields
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # keys are created with the "Create a new API key" action, which shows the key once


def _shown_once(request: HttpRequest, *, title: str, items: list[tuple[str, str]], note: str) -> HttpResponse:
    response = TemplateResponse(request, "admin/api/shown_once.html", {
        **admin.site.each_context(request), "title": title, "items": items, "note": note,
    })
    response["Cache-Control"] = "no-store"
    return response


@admin.register(ApiChannel)
class ApiChannelAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "active", "webhook_url", "active_keys", "rate_per_minute",
                    "citizen_rate_per_minute", "created_at"]
    list_filter = ["active"]
    search_fields = ["code", "name"]
    fields = ["code", "name", "active", "webhook_url", "citizen_jwt_public_key", "rate_per_minute",
              "citizen_rate_per_minute", "webhook_secret_hint"]
    readonly_fields = ["webhook_secret_hint"]
    inlines = [ApiKeyInline]
    actions = ["create_key", "rotate_webhook_secret"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def get_readonly_fields(self, request: HttpRequest, obj: ApiChannel | None = None) -> list[str]:
        # The code is on every claim the channel filed: changing it would orphan them.
        return ["code", *self.readonly_fields] if obj is not None else list(self.readonly_fields)

    @admin.display(description=_("active keys"))
    def active_keys(self, obj: ApiChannel) -> int:
        return obj.keys.filter(revoked_at__isnull=True).count()

    @admin.display(description=_("webhook secret"))
    def webhook_secret_hint(self, obj: ApiChannel) -> str:
        if not obj.pk:
            return str(_("Generated when the channel is saved; shown with the 'rotate webhook secret' action."))
        return f"{obj.webhook_secret[:10]}…"

    @admin.action(description=_("Create a new API key (shown once)"), permissions=["change"])
    def create_key(self, request: HttpRequest, queryset: QuerySet[ApiChannel]) -> HttpResponse | None:
        items = []
        for channel in queryset:
            _key, clear = api_key_create(channel=channel, by=_admin(request), name=f"admin {request.user}")
            items.append((str(channel), clear))
        if not items:
            return None
        return _shown_once(request, title=str(_("New API key")), items=items, note=str(_(
            "Copy the key now and hand it to the channel over a secure channel. It is not stored and cannot be "
            "shown again; if it is lost, create another and revoke this one.")))

    @admin.action(description=_("Rotate the webhook secret (shown once)"), permissions=["change"])
    def rotate_webhook_secret(self, request: HttpRequest, queryset: QuerySet[ApiChannel]) -> HttpResponse | None:
        items = [(str(c), api_channel_webhook_secret_rotate(channel=c, by=_admin(request))) for c in queryset]
        if not items:
            return None
        return _shown_once(request, title=str(_("New webhook secret")), items=items, note=str(_(
            "Events are signed with the new secret from now on. Hand it to the channel now.")))


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["prefix", "channel", "name", "created_at", "created_by", "last_used_at", "revoked_at"]
    list_filter = ["channel", ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["prefix", "name", "channel__code"]
    fields = ["channel", "name", "prefix", "created_at", "created_by", "last_used_at", "revoked_at"]
    readonly_fields = ["channel", "prefix", "created_at", "created_by", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description=_("Revoke the selected keys"), permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        count = 0
        for key in queryset.filter(revoked_at__isnull=True):
            api_key_revoke(key=key, by=_admin(request))
            count += 1
        self.message_user(request, ngettext("%(count)d key revoked.", "%(count)d keys revoked.", count)
                          % {"count": count}, messages.SUCCESS)


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    extra = 0
    can_delete = False
    # What the endpoint answered is not shown: only its status (api.urlguard).
    fields = ("number", "at", "url", "status_code", "error", "duration_ms")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ["id", "created_at", "channel", "claim_number", "kind", "status", "attempts", "next_attempt_at",
                    "delivered_at", "last_error_short"]
    list_filter = ["status", "channel", "kind"]
    search_fields = ["claim__number", "event_id"]
    list_select_related = ["channel", "claim"]
    date_hierarchy = "created_at"
    readonly_fields = ("event_id", "channel", "claim", "claim_event", "kind", "payload", "status", "attempts",
                       "next_attempt_at", "last_error", "created_at", "updated_at", "delivered_at")
    fields = readonly_fields
    inlines = [WebhookAttemptInline]
    actions = ["retry_failed"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("claim"), ordering="claim__number")
    def claim_number(self, obj: WebhookDelivery) -> str:
        return obj.claim.number

    @admin.display(description=_("last error"))
    def last_error_short(self, obj: WebhookDelivery) -> str:
        if not obj.last_error:
            return ""
        return format_html('<span title="{}">{}</span>', obj.last_error, obj.last_error[:60])

    @admin.action(description=_("Send the selected failed deliveries again"), permissions=["change"])
    def retry_failed(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        assert isinstance(request.user, User)  # the admin serves only logged-in staff
        retried = 0
        for pk in queryset.filter(status=WebhookStatus.FAILED).values_list("pk", flat=True):
            try:
                webhook_retry(delivery_id=pk, by=_admin(request))
                retried += 1
            except WebhookNotRetryable:
                pass
        self.message_user(request, ngettext("%(count)d delivery queued again.", "%(count)d deliveries queued again.",
                                            retried) % {"count": retried}, messages.SUCCESS)


@admin.register(WebhookAttempt)
class WebhookAttemptAdmin(admin.ModelAdmin):
    list_display = ["id", "at", "delivery", "number", "status_code", "duration_ms", "error"]
    list_filter = ["status_code", "delivery__channel"]
    search_fields = ["delivery__claim__number", "error"]
    list_select_related = ["delivery", "delivery__channel", "delivery__claim"]
    date_hierarchy = "at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
