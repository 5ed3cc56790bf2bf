from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Meeting(models.Model):
    """A sitting of the permanent commission, with its protocol number and members present."""

    held_on = models.DateField()
    protocol_number = models.CharField(max_length=40, unique=True)
    secretary = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="commission_meetings")
    created_at = models.DateTimeField(auto_now_add=True)
    closed = models.BooleanField(default=False)

    class Meta:
        ordering = ["-held_on", "-id"]

    def __str__(self) -> str:
        return self.protocol_number


class DecisionKind(models.TextChoices):
    APPROVED = "approved", _("Düzəliş təsdiq edildi")
    REFUSED = "refused", _("İmtina edildi")


class AgendaItem(models.Model):
    """A claim on a meeting's agenda and, once decided, the commission's decision."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="items")
    claim = models.ForeignKey("claims.Claim", on_delete=models.PROTECT, related_name="agenda_items")
    proposal = models.ForeignKey("claims.CorrectionProposal", on_delete=models.PROTECT, related_name="agenda_items")
    decision = models.CharField(max_length=10, choices=DecisionKind.choices, blank=True)
    amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True,
                                 help_text="The approved change of the debt (negative lowers it)")
    note = models.TextField(blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    letter = models.FileField(upload_to="letters/%Y/", blank=True)
    adjustment_reference = models.CharField(max_length=80, blank=True)

    class Meta:
        ordering = ["meeting", "id"]
        constraints = [models.UniqueConstraint(fields=["meeting", "claim"], name="agenda_claim_once_per_meeting")]
        indexes = [models.Index(fields=["claim", "decision"])]

    def __str__(self) -> str:
        return f"claim {self.claim_id} on meeting {self.meeting_id}: {self.decision or 'undecided'}"
