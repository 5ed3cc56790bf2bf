"""The local billing backend: the utility's accounts, meters, readings, invoices, payments,
tariffs and adjustments. Other apps reach these only through billing.gateway."""

from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _

from core.outbox import OutboxRow


class Category(models.TextChoices):
    HOUSEHOLD = "household", _("Əhali")
    NON_HOUSEHOLD = "non_household", _("Qeyri-əhali")


class TariffZone(models.TextChoices):
    BAKU_AREA = "baku_area", _("Bakı, Sumqayıt, Xırdalan, Abşeron")
    OTHER = "other", _("Digər ərazilər")


class Service(models.TextChoices):
    WATER = "water", _("Su")
    SEWERAGE = "sewerage", _("Kanalizasiya")


class HolderKind(models.TextChoices):
    PERSON = "person", _("Fiziki şəxs")
    ORGANISATION = "organisation", _("Hüquqi şəxs")


class Branch(models.Model):
    """A regional office (filial / rayon idarəsi) responsible for the addresses of an area."""

    code = models.CharField(max_length=16, unique=True)
    name = models.CharField(max_length=200, help_text="In Azerbaijani")
    name_en = models.CharField(max_length=200, blank=True)
    name_ru = models.CharField(max_length=200, blank=True)
    region = models.CharField(max_length=100)
    zone = models.CharField(max_length=16, choices=TariffZone.choices)
    address = models.CharField(max_length=300, blank=True)
    phone = models.CharField(max_length=32, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "branches"

    def __str__(self) -> str:
        return self.name

    def text(self, language: str) -> str:
        """The branch's name in ``language`` (az, en, ru); Azerbaijani where none is given."""
        return (getattr(self, f"name_{language}", "") if language != "az" else "") or self.name


class Account(models.Model):
    subscriber_code = models.CharField(max_length=12, unique=True)
    holder_kind = models.CharField(max_length=16, choices=HolderKind.choices, default=HolderKind.PERSON)
    holder_fin = models.CharField(max_length=7, blank=True, db_index=True)
    holder_name = models.CharField(max_length=200)
    address = models.CharField(max_length=300)
    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="accounts")
    category = models.CharField(max_length=16, choices=Category.choices, default=Category.HOUSEHOLD)
    zone = models.CharField(max_length=16, choices=TariffZone.choices)
    opened_on = models.DateField()

    def __str__(self) -> str:
        return self.subscriber_code


class Meter(models.Model):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="meters")
    serial_number = models.CharField(max_length=32, unique=True)
    seal_number = models.CharField(max_length=32)
    installed_on = models.DateField()
    removed_on = models.DateField(null=True, blank=True,
                                  help_text="The day the meter was taken off; empty while in use")

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(removed_on__isnull=True) | models.Q(removed_on__gte=models.F("installed_on")),
                name="meter_removed_after_installed",
            )
        ]

    def __str__(self) -> str:
        return self.serial_number


class Reading(models.Model):
    """A register value of a meter on a day, in m³."""

    class Source(models.TextChoices):
        CONTROLLER = "controller", _("Nəzarətçi")
        ESTIMATE = "estimate", _("Hesablanmış")
        INSPECTION = "inspection", _("Yerində yoxlama")

    # Found by meter, and by meter and day, through the unique (meter, day, source) index.
    meter = models.ForeignKey(Meter, on_delete=models.CASCADE, related_name="readings", db_index=False)
    taken_on = models.DateField()
    value = models.PositiveIntegerField()
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.CONTROLLER)

    class Meta:
        ordering = ["meter", "taken_on"]
        constraints = [
            # The billing system's export names a reading by its meter, day and source: a
            # re-imported file updates it instead of adding it again.
            models.UniqueConstraint(fields=["meter", "taken_on", "source"], name="reading_unique_meter_day_source")
        ]

    def __str__(self) -> str:
        return f"{self.value} m³ on {self.taken_on}"


class Tariff(models.Model):
    """A price per m³ (AZN, VAT included) in force from a date until the next one."""

    category = models.CharField(max_length=16, choices=Category.choices)
    zone = models.CharField(max_length=16, choices=TariffZone.choices)
    service = models.CharField(max_length=16, choices=Service.choices)
    price = models.DecimalField(max_digits=8, decimal_places=4)
    valid_from = models.DateField()
    decision = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["category", "zone", "service", "valid_from"], name="tariff_unique_from"
            )
        ]
        ordering = ["category", "zone", "service", "valid_from"]

    def __str__(self) -> str:
        return f"{self.category}/{self.zone}/{self.service} {self.price} from {self.valid_from}"


class Invoice(models.Model):
    """A monthly bill. The period runs from the previous reading's day (exclusive) to the
    current reading's day (inclusive)."""

    # An account's invoices, newest first, through the unique (account, period) index read backwards.
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="invoices", db_index=False)
    number = models.CharField(max_length=20, unique=True)
    period = models.DateField(help_text="First day of the billed month")
    period_start = models.DateField()
    period_end = models.DateField()
    issued_on = models.DateField()
    due_on = models.DateField()
    consumption = models.PositiveIntegerField()
    water_amount = models.DecimalField(max_digits=12, decimal_places=2)
    sewerage_amount = models.DecimalField(max_digits=12, decimal_places=2)
    total = models.DecimalField(max_digits=12, decimal_places=2)

    class Meta:
        ordering = ["-period"]
        constraints = [models.UniqueConstraint(fields=["account", "period"], name="invoice_unique_account_period")]

    def __str__(self) -> str:
        return self.number


class InvoiceLine(models.Model):
    """One meter's part of an invoice."""

    # An invoice's lines through the unique (invoice, meter) index.
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines", db_index=False)
    meter = models.ForeignKey(Meter, on_delete=models.PROTECT, related_name="invoice_lines")
    previous_reading = models.PositiveIntegerField()
    current_reading = models.PositiveIntegerField()
    estimated = models.BooleanField(default=False)
    consumption = models.PositiveIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["invoice", "meter"], name="invoice_line_unique_meter")]

    def __str__(self) -> str:
        return f"{self.consumption} m³ ({self.previous_reading} → {self.current_reading})"


class Payment(models.Model):
    # An account's payments through the (account, day) index.
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="payments", db_index=False)
    paid_on = models.DateField()
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    reference = models.CharField(max_length=40, blank=True)

    class Meta:
        indexes = [models.Index(fields=["account", "paid_on"])]
        constraints = [
            # A payment is known by the bank's or the cashier's reference: imported twice, it
            # is still one payment. (Old rows without a reference are left as they are.)
            models.UniqueConstraint(fields=["reference"], condition=~models.Q(reference=""),
                                    name="payment_unique_reference")
        ]

    def __str__(self) -> str:
        return f"{self.amount} on {self.paid_on}"


class Adjustment(models.Model):
    """A correction of the debt (borca düzəliş). A negative amount lowers the debt.

    The reference is unique, so a retried posting never posts twice.
    """

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="adjustments")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, null=True, blank=True)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    posted_on = models.DateField()
    reference = models.CharField(max_length=80, unique=True)
    claim_number = models.CharField(max_length=20, blank=True)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["account", "posted_on"])]

    def __str__(self) -> str:
        return self.reference


class Posting(OutboxRow):
    """An adjustment the commission approved, on its way to the billing system (the outbox of
    postings, ``billing.services.POSTINGS``). Written in the decision's transaction; a worker
    posts it with retries until billing confirms. The reference is the e-service's idempotency
    key at billing: a posting sent twice is booked once."""

    reference = models.CharField(max_length=80, unique=True)
    subscriber_code = models.CharField(max_length=12)
    invoice_number = models.CharField(max_length=20)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    posted_on = models.DateField(help_text="The day the commission approved the correction")
    claim_number = models.CharField(max_length=20, db_index=True)
    note = models.CharField(max_length=200, blank=True)
    billing_id = models.CharField(max_length=80, blank=True, help_text="The adjustment's id at billing")
    balance_after = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True,
                                        help_text="The account's balance billing reported after the posting")

    class Meta:
        indexes = [models.Index(fields=["status", "next_attempt_at"])]
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.reference} ({self.status})"


ZERO = Decimal("0.00")
