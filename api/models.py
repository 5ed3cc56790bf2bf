"""The channel API: channels (e-gov.az, e-su.az, azersu.az, a mobile app), their API keys, the
idempotency records of filed claims, and the webhook deliveries of claim status changes."""

from __future__ import annotations

import secrets
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from claims.models import Channel
from core.outbox import OutboxRow, OutboxStatus


def webhook_secret_new() -> str:
    """A fresh secret for signing a channel's webhooks (256 bits, URL-safe)."""
    return "whsec_" + secrets.token_urlsafe(32)


class ApiChannel(models.Model):
    """A portal or app that files and follows claims for citizens through the API.

    ``code`` is the value stored on every claim the channel files (``Claim.channel``); a channel
    sees only claims carrying its code, so one code belongs to one channel."""

    code = models.CharField(_("kod"), max_length=16, choices=Channel.choices, unique=True)
    name = models.CharField(_("ad"), max_length=200)
    active = models.BooleanField(_("aktiv"), default=True,
                                 help_text=_("A disabled channel is refused (403) with any of its keys."))
    webhook_url = models.URLField(
        _("webhook URL"), max_length=500, blank=True,
        help_text=_("Every status change of a claim filed through the channel is POSTed here (empty: none)."),
    )
    webhook_secret = models.CharField(
        _("webhook secret"), max_length=100, default=webhook_secret_new, editable=False,
        help_text=_("HMAC-SHA256 key of the X-Signature header. Kept in clear: it is needed to sign."),
    )
    citizen_jwt_public_key = models.TextField(
        _("citizen token public key (PEM)"),
        help_text=_("RSA (2048 bits or more, RS256) or EC P-256 (ES256) public key that verifies the "
                    "channel's X-Citizen-Token assertions."),
    )
    rate_per_minute = models.PositiveIntegerField(
        null=True, blank=True,
        help_text=_("Requests per minute for the channel (empty: API_RATE_PER_CHANNEL_PER_MINUTE)"),
    )
    citizen_rate_per_minute = models.PositiveIntegerField(
        null=True, blank=True,
        help_text=_("Requests per minute per citizen through this channel (empty: API_RATE_PER_CITIZEN_PER_MINUTE)"),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("API channel")

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def clean(self) -> None:
        from .auth import PublicKeyInvalid, public_key_load

        if self.citizen_jwt_public_key:
            try:
                public_key_load(self.citizen_jwt_public_key)
            except PublicKeyInvalid as e:
                raise ValidationError({"citizen_jwt_public_key": str(e)}) from e
        if self.webhook_url:
            from .urlguard import UnsafeUrl, check_webhook_url

            try:
                check_webhook_url(self.webhook_url)
            except UnsafeUrl as e:
                raise ValidationError({"webhook_url": str(e)}) from e

    @property
    def channel_rate(self) -> int:
        return self.rate_per_minute or settings.API_RATE_PER_CHANNEL_PER_MINUTE

    @property
    def citizen_rate(self) -> int:
        return self.citizen_rate_per_minute or settings.API_RATE_PER_CITIZEN_PER_MINUTE


class ApiKey(models.Model):
    """One credential of a channel: ``<prefix>.<secret>``. Only the SHA-256 of the secret is kept
    (the secret is 256 random bits, so a fast hash is as safe as a slow one here and costs
    nothing per request). A channel may hold several keys at once, for rotation."""

    channel = models.ForeignKey(ApiChannel, on_delete=models.PROTECT, related_name="keys")
    name = models.CharField(max_length=100, blank=True, help_text=_("What the key is for, e.g. 'production 2026'"))
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    secret_hash = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["channel", "-created_at"]
        verbose_name = _("API key")

    def __str__(self) -> str:
        return f"{self.channel.code}:{self.prefix}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class ApiIdempotencyKey(models.Model):
    """The claim a channel's ``Idempotency-Key`` produced for a citizen, with a fingerprint of
    the request so that a key reused for a different request is refused."""

    channel = models.ForeignKey(ApiChannel, on_delete=models.PROTECT, related_name="+")
    citizen = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=64)
    fingerprint = models.CharField(max_length=64)
    claim = models.ForeignKey("claims.Claim", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel", "citizen", "key"], name="api_idempotency_key_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.key} -> claim {self.claim_id}"


WebhookStatus = OutboxStatus  # the outbox engine's statuses (core.outbox)


class WebhookDelivery(OutboxRow):
    """One claim event to one channel's callback URL. Written in the transaction of the claim's
    change; sent by a background task through the outbox engine (the status and retry fields come
    from core.outbox.OutboxRow); retried with backoff; every attempt kept."""

    event_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    channel = models.ForeignKey(ApiChannel, on_delete=models.PROTECT, related_name="webhook_deliveries")
    claim = models.ForeignKey("claims.Claim", on_delete=models.CASCADE, related_name="+")
    claim_event = models.ForeignKey("claims.ClaimEvent", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=40)
    payload = models.JSONField()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["channel", "claim_event"], name="api_webhook_one_per_event"),
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")

    def __str__(self) -> str:
        return f"{self.kind} of {self.payload.get('claim_number', '?')} to {self.channel.code} ({self.status})"


class WebhookAttempt(models.Model):
    """One HTTP POST of a delivery: what the endpoint answered, or why it could not."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveSmallIntegerField()
    at = models.DateTimeField()
    url = models.CharField(max_length=500)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    response_body = models.CharField(max_length=500, blank=True)
    duration_ms = models.PositiveIntegerField()

    class Meta:
        ordering = ["delivery", "number", "id"]

    def __str__(self) -> str:
        return f"attempt {self.number} of delivery {self.delivery_id}: {self.status_code or self.error[:40]}"

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300
