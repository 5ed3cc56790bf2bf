from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class VisitWindow(models.TextChoices):
    MORNING = "09-13", _("09:00–13:00")
    AFTERNOON = "13-18", _("13:00–18:00")


class SealState(models.TextChoices):
    INTACT = "intact", _("Plomb salamatdır")
    BROKEN = "broken", _("Plomb qırılıb")
    MISSING = "missing", _("Plomb yoxdur")


class InspectionStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Təyin edilib")
    DONE = "done", _("Aparılıb")
    NO_ACCESS = "no_access", _("Ünvana giriş olmayıb")
    CANCELLED = "cancelled", _("Ləğv edilib")


class Inspection(models.Model):
    """An on-site verification of a claim's meter(s) by a field inspector."""

    claim = models.ForeignKey("claims.Claim", on_delete=models.CASCADE, related_name="inspections")
    inspector = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="inspections")
    ordered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    ordered_at = models.DateTimeField()
    visit_on = models.DateField()
    window = models.CharField(max_length=8, choices=VisitWindow.choices)
    status = models.CharField(max_length=12, choices=InspectionStatus.choices, default=InspectionStatus.SCHEDULED)
    seal_state = models.CharField(max_length=8, choices=SealState.choices, blank=True)
    note = models.TextField(blank=True)
    photo = models.FileField(upload_to="inspections/%Y/%m/", blank=True)
    photo_content_type = models.CharField(max_length=40, blank=True)
    recorded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["visit_on", "window", "id"]
        indexes = [models.Index(fields=["inspector", "visit_on", "status"])]

    def __str__(self) -> str:
        return f"visit {self.visit_on:%d.%m.%Y} {self.window} to claim {self.claim_id} ({self.status})"


class InspectionReading(models.Model):
    inspection = models.ForeignKey(Inspection, on_delete=models.CASCADE, related_name="readings")
    meter_serial = models.CharField(max_length=32)
    verified_reading = models.PositiveIntegerField()

    class Meta:
        ordering = ["meter_serial"]

    def __str__(self) -> str:
        return f"{self.meter_serial}: {self.verified_reading}"
