from django.db import models
from django.utils.translation import gettext_lazy as _

from core.outbox import OutboxRow, OutboxStatus


class Event(models.TextChoices):
    REGISTERED = "registered", _("Müraciət qeydiyyata alındı")
    FORWARDED = "forwarded", _("Müraciət icraya yönləndirildi")
    INSPECTION_SCHEDULED = "inspection_scheduled", _("Yerində yoxlama təyin edildi")
    INSPECTION_CANCELLED = "inspection_cancelled", _("Yerində yoxlama ləğv edildi")
    INFO_REQUESTED = "info_requested", _("Əlavə məlumat istənildi")
    DEADLINE_EXTENDED = "deadline_extended", _("Baxılma müddəti uzadıldı")
    CLOSED_CORRECTED = "closed_corrected", _("Borc düzəldildi")
    CLOSED_REFUSED = "closed_refused", _("Müraciət rədd edildi")
    WITHDRAWN = "withdrawn", _("Müraciət geri götürüldü")
    CLOSED_REDIRECTED = "closed_redirected", _("Müraciət aidiyyəti üzrə göndərildi")
    CLOSED_UNCONSIDERED = "closed_unconsidered", _("Təkrar müraciət baxılmadan saxlanıldı")
    INFO_REMINDER = "info_reminder", _("Məlumat sorğusu üzrə xatırlatma")
    INFO_EXPIRED = "info_expired", _("Məlumat sorğusunun müddəti bitdi")
    DEADLINE_DIGEST = "deadline_digest", _("Müddətlər üzrə gündəlik xülasə (əməkdaşlara)")


class Medium(models.TextChoices):
    EMAIL = "email", _("E-poçt")
    SMS = "sms", _("SMS")


class NotificationTemplate(models.Model):
    """The text of one event's message on one medium in one language (Django template syntax).

    Defaults for every event, medium and language are loaded by a data migration; staff edit
    them in the admin."""

    event = models.CharField(max_length=32, choices=Event.choices)
    medium = models.CharField(max_length=8, choices=Medium.choices)
    language = models.CharField(max_length=2)
    subject = models.CharField(max_length=200, blank=True, help_text="E-mail only")
    body = models.TextField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["event", "medium", "language"], name="notification_template_unique")
        ]
        ordering = ["event", "medium", "language"]

    def __str__(self) -> str:
        return f"{self.event}/{self.medium}/{self.language}"


DeliveryStatus = OutboxStatus  # the outbox engine's statuses (core.outbox)


class Delivery(OutboxRow):
    """One message to one recipient. Written in the transaction of its cause; delivered by a
    background task through the outbox engine (status, attempts, next_attempt_at, last_error,
    created_at, updated_at, delivered_at come from core.outbox.OutboxRow); retried with backoff;
    failures stay visible."""

    claim = models.ForeignKey("claims.Claim", null=True, blank=True, on_delete=models.CASCADE,
                              related_name="deliveries")
    event = models.CharField(max_length=32, choices=Event.choices)
    medium = models.CharField(max_length=8, choices=Medium.choices)
    language = models.CharField(max_length=2)
    recipient = models.CharField(max_length=254)
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField()
    segments = models.PositiveSmallIntegerField(null=True, blank=True, help_text="SMS only")
    provider_reference = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(fields=["claim", "created_at"]),
        ]
        verbose_name_plural = "deliveries"

    def __str__(self) -> str:
        return f"{self.medium} to {self.recipient} ({self.status})"


# Events told to citizens from templates (the deadline digest goes to staff, text built in code).
CITIZEN_EVENTS = [e for e in Event.values if e != Event.DEADLINE_DIGEST]
