"""What the retention job has done: one row per claim and kind of data erased, so a run is
idempotent and the next run's dry-run report only counts what is still held."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class DataKind(models.TextChoices):
    CONTACTS = "contacts", _("Əlaqə məlumatları (telefon, e-poçt, şərhlər, cavablar)")
    PHOTOS = "photos", _("Şəkillər (sayğac, cavab, yerində yoxlama)")
    NOTIFICATIONS = "notifications", _("Bildirişlərin alıcıları və mətnləri")
    ARCHIVE = "archive", _("Arxiv: ad, ünvan, FİN, məktublar")


class Erasure(models.Model):
    claim = models.ForeignKey("claims.Claim", on_delete=models.CASCADE, related_name="erasures")
    kind = models.CharField(max_length=16, choices=DataKind.choices)
    at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["claim", "kind"], name="erasure_once_per_kind")]
        indexes = [models.Index(fields=["kind", "claim"])]

    def __str__(self) -> str:
        return f"{self.claim_id}: {self.kind}"
