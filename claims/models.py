import uuid
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from billing.gateway import InvoiceInfo
from core.outbox import OutboxRow
from identity.models import LoginMethod

from .snapshots import Calculation
from .transitions import OPEN_STATUSES, ClaimOutcome, ClaimStatus


class Channel(models.TextChoices):
    PORTAL = "azersu_web", _("azersu.az portalı")
    EGOV = "egov", _("e-gov.az")
    ESU = "esu", _("e-su.az")
    API = "api", _("API")


class ReasonTemplate(models.Model):
    """A predefined reason for a claim, managed by staff, in three languages."""

    code = models.SlugField(max_length=40, unique=True)
    text_az = models.CharField(max_length=200)
    text_en = models.CharField(max_length=200)
    text_ru = models.CharField(max_length=200)
    requires_text = models.BooleanField(default=False, help_text="The citizen must describe the reason")
    ordering = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["ordering", "id"]

    def __str__(self) -> str:
        return self.text_az

    def text(self, language: str) -> str:
        return getattr(self, f"text_{language}", "") or self.text_az


class ClaimNumberSequence(models.Model):
    """The yearly sequence behind claim numbers; its row is locked while a number is taken."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"


class Claim(models.Model):
    number = models.CharField(_("müraciət nömrəsi"), max_length=20, unique=True)
    citizen = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="claims")
    status = models.CharField(max_length=20, choices=ClaimStatus.choices, default=ClaimStatus.REGISTERED)
    outcome = models.CharField(max_length=16, choices=ClaimOutcome.choices, blank=True)
    channel = models.CharField(max_length=16, choices=Channel.choices, default=Channel.PORTAL)
    login_method = models.CharField(max_length=20, choices=LoginMethod.choices)
    language = models.CharField(max_length=2, default="az")

    # What the claim is about: billing identifiers and a snapshot of the disputed invoice.
    subscriber_code = models.CharField(max_length=12, db_index=True)
    invoice_number = models.CharField(max_length=20)
    invoice_snapshot = models.JSONField(default=dict)
    holder_name = models.CharField(max_length=200, blank=True)
    address = models.CharField(max_length=300, blank=True)
    branch = models.ForeignKey("billing.Branch", on_delete=models.PROTECT, related_name="claims")

    reason = models.ForeignKey(ReasonTemplate, on_delete=models.PROTECT, related_name="claims")
    reason_text = models.TextField(blank=True)
    phone = models.CharField(max_length=16, help_text="E.164")
    email = models.EmailField()
    comment = models.TextField(blank=True)
    consent_at = models.DateTimeField()
    # A keyed hash of the citizen's FIN (claims.pseudonyms): it outlives anonymisation, so a
    # repeat appeal (art. 8.1.4) is recognised after the FIN itself is gone.
    citizen_key = models.CharField(max_length=64, blank=True, db_index=True)
    competent_body = models.ForeignKey("CompetentBody", null=True, blank=True, on_delete=models.PROTECT,
                                       related_name="claims", help_text="Where the claim was forwarded (art. 7.10)")

    operator = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="assigned_claims")
    registered_at = models.DateTimeField()
    due_on = models.DateField(help_text="The due date with the pauses that have ended (see effective_due_on)")
    paused_on = models.DateField(null=True, blank=True,
                                 help_text="The day the clock stopped to wait for the citizen (None: it runs)")
    paused_until = models.DateField(null=True, blank=True,
                                    help_text="The date the citizen was asked to answer by: the pause ends then")
    closed_at = models.DateTimeField(null=True, blank=True)
    working_days = models.PositiveSmallIntegerField(default=15, help_text="15, or 30 when extended (art. 10.1)")
    extension_reason = models.TextField(blank=True)
    corrected_amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    outcome_reason = models.TextField(blank=True)

    # Idempotency: a repeated submission of the same draft returns the first claim.
    submission_key = models.CharField(max_length=80, unique=True, default=uuid.uuid4)

    class Meta:
        ordering = ["-registered_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["invoice_number"],
                condition=models.Q(status__in=sorted(OPEN_STATUSES)),
                name="claim_one_open_per_invoice",
            )
        ]
        indexes = [
            models.Index(fields=["citizen", "-registered_at"]),
            models.Index(fields=["branch", "status", "due_on"]),
            models.Index(fields=["operator", "status", "due_on"]),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def invoice(self) -> InvoiceInfo:
        """The disputed invoice as it was when the claim was filed."""
        return InvoiceInfo.from_json(self.invoice_snapshot)

    @property
    def effective_due_on(self) -> date:
        """The due date as of today: while the claim waits for the citizen the clock is
        stopped, so every working day of the open pause pushes it back (art. 10.1)."""
        if self.paused_on is None or self.status != ClaimStatus.AWAITING_CITIZEN:
            return self.due_on
        from django.utils import timezone

        from .deadlines import effective_due_on

        return effective_due_on(due_on=self.due_on, paused_on=self.paused_on, today=timezone.localdate(),
                                until=self.paused_until)


class ClaimMeterEvidence(models.Model):
    """Per meter: the reading the citizen declares on the claim's day and the photo showing it."""

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="evidence")
    meter_serial = models.CharField(max_length=32)
    seal_number = models.CharField(max_length=32, blank=True)
    billed_reading = models.PositiveIntegerField(null=True, blank=True)
    declared_reading = models.PositiveIntegerField()
    photo = models.FileField(upload_to="claims/%Y/%m/")
    photo_content_type = models.CharField(max_length=40)

    class Meta:
        ordering = ["meter_serial"]

    def __str__(self) -> str:
        return f"{self.meter_serial}: {self.declared_reading}"


class ClaimEvent(models.Model):
    """One entry of a claim's timeline."""

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField()
    status = models.CharField(max_length=20, choices=ClaimStatus.choices)
    kind = models.CharField(max_length=40)
    move = models.CharField(max_length=40, blank=True, help_text="The workflow move that recorded the entry")
    params = models.JSONField(default=dict, blank=True,
                              help_text="The entry's parameters; its sentence is written at display time in the "
                                        "reader's language (claims.timeline)")
    note = models.TextField(blank=True, help_text="What a person wrote (a question, an answer, a reason), as written")
    public = models.BooleanField(default=True, help_text="Shown to the citizen")

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["claim", "at"])]

    def __str__(self) -> str:
        return self.kind

    @property
    def text(self) -> str:
        """The entry's sentence in the active language (the reader's)."""
        from .timeline import event_text

        return event_text(self)


class WorkingDayTransfer(models.Model):
    """A Cabinet decree moving a day off or a working day (entered by staff every year)."""

    day = models.DateField(unique=True)
    is_working_day = models.BooleanField(help_text="Checked: the day becomes a working day; unchecked: a day off")
    decree = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["day"]

    def __str__(self) -> str:
        return str(self.day)


class InfoRequest(models.Model):
    """The operator asks the citizen for information or a new photo; the deadline pauses
    until the citizen answers."""

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="info_requests")
    asked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    asked_at = models.DateTimeField()
    question = models.TextField()
    answered_at = models.DateTimeField(null=True, blank=True)
    answer_text = models.TextField(blank=True)
    answer_photo = models.FileField(upload_to="answers/%Y/%m/", blank=True)
    answer_photo_content_type = models.CharField(max_length=40, blank=True)
    reply_by = models.DateField(null=True, blank=True,
                                help_text="The date the citizen is asked to answer by (art. 10.2: the pauses of a "
                                          "claim add up to 30 working days at most)")
    reminded_at = models.DateTimeField(null=True, blank=True)
    expired_at = models.DateTimeField(null=True, blank=True,
                                      help_text="The date passed unanswered: the operator decides on what is known")

    class Meta:
        ordering = ["asked_at", "id"]
        indexes = [models.Index(fields=["answered_at", "expired_at", "reply_by"])]

    def __str__(self) -> str:
        return self.question[:60]


class ProposalStatus(models.TextChoices):
    PENDING = "pending", _("Komissiyaya göndərilib")
    APPROVED = "approved", _("Təsdiq edilib")
    REFUSED = "refused", _("İmtina edilib")
    WITHDRAWN = "withdrawn", _("Geri götürülüb")


class CorrectionProposal(models.Model):
    """The operator's proposed debt correction: corrected readings, the invoice recomputed at
    the tariffs in force, old and new amounts."""

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="proposals")
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    proposed_at = models.DateTimeField()
    readings = models.JSONField(help_text="meter serial -> corrected current reading")
    consumption = models.PositiveIntegerField()
    old_amount = models.DecimalField(max_digits=12, decimal_places=2)
    new_amount = models.DecimalField(max_digits=12, decimal_places=2)
    calculation = models.JSONField(default=dict)
    note = models.TextField()
    status = models.CharField(max_length=10, choices=ProposalStatus.choices, default=ProposalStatus.PENDING)

    class Meta:
        ordering = ["-proposed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.old_amount} → {self.new_amount}"

    @property
    def difference(self) -> Decimal:
        return self.new_amount - self.old_amount

    @property
    def calc(self) -> Calculation:
        return Calculation.from_json(self.calculation)


class CompetentBody(models.Model):
    """A body an appeal outside the utility's competence is forwarded to (art. 7.10), managed
    by staff."""

    name = models.CharField(_("adı"), max_length=200)
    address = models.CharField(_("ünvanı"), max_length=300)
    email = models.EmailField(_("e-poçt ünvanı"))
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Referral(OutboxRow):
    """The letter (and the evidence) sent by e-mail to the competent body a claim was forwarded
    to; delivered through the outbox engine (core.outbox), so the sending is recorded."""

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="referrals")
    body = models.ForeignKey(CompetentBody, on_delete=models.PROTECT, related_name="referrals")
    recipient = models.EmailField()
    subject = models.CharField(max_length=200)
    text = models.TextField()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.claim} → {self.body}"


class ConsentMethod(models.TextChoices):
    PAGE = "page", _("portalın səhifəsində")
    ASSERTION = "assertion", _("kanalın təsdiqi ilə")


class ConsentText(models.Model):
    """One published version of the consent text, in one language (Law No. 998-IIIQ: the purpose,
    the data and operations, how long and how to revoke). Staff publish a new version; a claim
    keeps the version it was filed under."""

    version = models.PositiveIntegerField()
    language = models.CharField(max_length=2)
    text = models.TextField()
    purposes = models.JSONField(default=list, help_text='e.g. ["examine_claim", "notify"]')
    published_at = models.DateTimeField()

    class Meta:
        ordering = ["-version", "language"]
        constraints = [models.UniqueConstraint(fields=["version", "language"], name="consent_text_unique")]

    def __str__(self) -> str:
        return f"v{self.version} ({self.language})"


class ConsentRecord(models.Model):
    """The consent a citizen gave when filing a claim: the text shown (its version, in the
    language shown), the purposes, when, through which channel and how."""

    citizen = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="consents")
    claim = models.OneToOneField(Claim, on_delete=models.CASCADE, related_name="consent_record")
    text = models.ForeignKey(ConsentText, on_delete=models.PROTECT, related_name="records")
    purposes = models.JSONField(default=list)
    given_at = models.DateTimeField()
    channel = models.CharField(max_length=16, choices=Channel.choices)
    method = models.CharField(max_length=10, choices=ConsentMethod.choices)
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-given_at", "-id"]
        indexes = [models.Index(fields=["citizen", "-given_at"])]

    def __str__(self) -> str:
        return f"{self.claim} · {self.text}"
