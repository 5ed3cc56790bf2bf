"""The billing gateway: the one way other apps read from and write to billing.

The backend is chosen by the BILLING_GATEWAY setting (a dotted path), the way Django chooses
EMAIL_BACKEND. The local backend reads this app's tables; an HTTP adapter to the utility's
billing system implements the same interface.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Any, Protocol, TypedDict, cast

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Prefetch, Q, Subquery, Sum
from django.utils import timezone
from django.utils.module_loading import import_string

from . import models
from .pricing import PricedConsumption, TariffRate, price_consumption

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class BillingError(Exception):
    """The billing system refused or could not perform an operation."""


class BillingUnavailable(BillingError):
    """The billing system does not answer (down, slow, overloaded, or its answer cannot be
    read). Pages show "try again in a few minutes"; postings are retried."""


class BillingConflict(BillingError):
    """Billing already holds a different adjustment under the same reference."""


@dataclass(frozen=True)
class ReadingInfo:
    meter_serial: str
    taken_on: date
    value: int
    source: str


@dataclass(frozen=True)
class MeterInfo:
    serial_number: str
    seal_number: str
    last_reading: int | None
    last_reading_on: date | None


@dataclass(frozen=True)
class AccountInfo:
    subscriber_code: str
    holder_kind: str
    holder_fin: str
    holder_name: str
    address: str
    branch_code: str
    branch_name: str
    category: str
    zone: str
    meters: tuple[MeterInfo, ...] = ()


@dataclass(frozen=True)
class InvoiceLineInfo:
    meter_serial: str
    seal_number: str
    previous_reading: int
    current_reading: int
    estimated: bool
    consumption: int


@dataclass(frozen=True)
class InvoiceInfo:
    number: str
    subscriber_code: str
    period: date
    period_start: date
    period_end: date
    issued_on: date
    due_on: date
    consumption: int
    water_amount: Decimal
    sewerage_amount: Decimal
    total: Decimal
    lines: tuple[InvoiceLineInfo, ...] = field(default=())

    @property
    def estimated(self) -> bool:
        return any(line.estimated for line in self.lines)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> InvoiceInfo:
        """The invoice back from its snapshot (``as_json``)."""
        return cls(
            number=data["number"], subscriber_code=data["subscriber_code"],
            period=date.fromisoformat(data["period"]), period_start=date.fromisoformat(data["period_start"]),
            period_end=date.fromisoformat(data["period_end"]), issued_on=date.fromisoformat(data["issued_on"]),
            due_on=date.fromisoformat(data["due_on"]), consumption=int(data["consumption"]),
            water_amount=Decimal(data["water_amount"]), sewerage_amount=Decimal(data["sewerage_amount"]),
            total=Decimal(data["total"]),
            lines=tuple(InvoiceLineInfo(
                meter_serial=ln["meter_serial"], seal_number=ln.get("seal_number", ""),
                previous_reading=int(ln["previous_reading"]), current_reading=int(ln["current_reading"]),
                estimated=bool(ln.get("estimated", False)), consumption=int(ln["consumption"]),
            ) for ln in data.get("lines", ())),
        )

    def to_json(self) -> dict[str, Any]:
        return self.as_json()

    def as_json(self) -> dict:
        """A JSON-safe snapshot, kept with a claim."""
        return {
            "number": self.number,
            "subscriber_code": self.subscriber_code,
            "period": self.period.isoformat(),
            "period_start": self.period_start.isoformat(),
            "period_end": self.period_end.isoformat(),
            "issued_on": self.issued_on.isoformat(),
            "due_on": self.due_on.isoformat(),
            "consumption": self.consumption,
            "water_amount": str(self.water_amount),
            "sewerage_amount": str(self.sewerage_amount),
            "total": str(self.total),
            "lines": [
                {
                    "meter_serial": ln.meter_serial,
                    "seal_number": ln.seal_number,
                    "previous_reading": ln.previous_reading,
                    "current_reading": ln.current_reading,
                    "estimated": ln.estimated,
                    "consumption": ln.consumption,
                }
                for ln in self.lines
            ],
        }


@dataclass(frozen=True)
class AdjustmentInfo:
    reference: str
    subscriber_code: str
    invoice_number: str
    amount: Decimal
    posted_on: date
    created: bool  # False when the reference had already been posted
    balance_after: Decimal | None = None  # the account's balance once the adjustment is booked
    billing_id: str = ""


class BillingGateway(Protocol):
    def account_by_code(self, subscriber_code: str) -> AccountInfo | None: ...

    def accounts_of_fin(self, fin: str) -> list[AccountInfo]: ...

    def invoices_of_account(self, subscriber_code: str, *, since: date | None = None) -> list[InvoiceInfo]: ...

    def invoice(self, number: str) -> InvoiceInfo | None: ...

    def readings_of_account(self, subscriber_code: str, *, since: date | None = None) -> list[ReadingInfo]: ...

    def balance(self, subscriber_code: str, *, as_of: date | None = None) -> Decimal: ...

    def price(self, subscriber_code: str, *, period_start: date, period_end: date,
              consumption: int) -> PricedConsumption: ...

    def post_adjustment(self, *, reference: str, subscriber_code: str, invoice_number: str,
                        amount: Decimal, posted_on: date, claim_number: str, note: str) -> AdjustmentInfo: ...

    def adjustment(self, reference: str) -> AdjustmentInfo | None: ...


class _LatestReading(TypedDict):
    last_value: int | None
    last_on: date | None


def _meter_info(meter: WithAnnotations[models.Meter, _LatestReading]) -> MeterInfo:
    return MeterInfo(
        serial_number=meter.serial_number,
        seal_number=meter.seal_number,
        last_reading=meter.last_value,  # annotated: the latest reading only, not the whole history
        last_reading_on=meter.last_on,
    )


def _account_info(account: models.Account) -> AccountInfo:
    return AccountInfo(
        subscriber_code=account.subscriber_code,
        holder_kind=account.holder_kind,
        holder_fin=account.holder_fin,
        holder_name=account.holder_name,
        address=account.address,
        branch_code=account.branch.code,
        branch_name=account.branch.name,
        category=account.category,
        zone=account.zone,
        # prefetched by LocalBillingGateway._accounts() with the latest reading annotated
        meters=tuple(_meter_info(cast("WithAnnotations[models.Meter, _LatestReading]", m))
                     for m in account.meters.all()),
    )


def _invoice_info(invoice: models.Invoice, subscriber_code: str) -> InvoiceInfo:
    return InvoiceInfo(
        number=invoice.number,
        subscriber_code=subscriber_code,
        period=invoice.period,
        period_start=invoice.period_start,
        period_end=invoice.period_end,
        issued_on=invoice.issued_on,
        due_on=invoice.due_on,
        consumption=invoice.consumption,
        water_amount=invoice.water_amount,
        sewerage_amount=invoice.sewerage_amount,
        total=invoice.total,
        lines=tuple(
            InvoiceLineInfo(
                meter_serial=ln.meter.serial_number,
                seal_number=ln.meter.seal_number,
                previous_reading=ln.previous_reading,
                current_reading=ln.current_reading,
                estimated=ln.estimated,
                consumption=ln.consumption,
            )
            for ln in invoice.lines.all()
        ),
    )


class LocalBillingGateway:
    """Reads and writes the billing tables of this database."""

    def _accounts(self):
        latest = models.Reading.objects.filter(meter=OuterRef("pk")).order_by("-taken_on", "-id")
        in_use = Q(removed_on__isnull=True) | Q(removed_on__gt=timezone.localdate())  # a removed meter is history
        meters = models.Meter.objects.filter(in_use).order_by("serial_number").annotate(
            last_value=Subquery(latest.values("value")[:1]), last_on=Subquery(latest.values("taken_on")[:1]))
        return models.Account.objects.select_related("branch").prefetch_related(Prefetch("meters", queryset=meters))

    def account_by_code(self, subscriber_code: str) -> AccountInfo | None:
        account = self._accounts().filter(subscriber_code=subscriber_code).first()
        return _account_info(account) if account else None

    def accounts_of_fin(self, fin: str) -> list[AccountInfo]:
        if not fin:  # organisations have no FIN: an empty one holds nothing
            return []
        return [_account_info(a) for a in self._accounts().filter(holder_fin=fin).order_by("subscriber_code")]

    def _invoices(self):
        return models.Invoice.objects.select_related("account").prefetch_related(
            Prefetch(
                "lines", queryset=models.InvoiceLine.objects.select_related("meter").order_by("meter__serial_number")
            )
        )

    def invoices_of_account(self, subscriber_code: str, *, since: date | None = None) -> list[InvoiceInfo]:
        qs = self._invoices().filter(account__subscriber_code=subscriber_code)
        if since is not None:
            qs = qs.filter(period__gte=since)
        return [_invoice_info(i, subscriber_code) for i in qs.order_by("-period")]

    def invoice(self, number: str) -> InvoiceInfo | None:
        inv = self._invoices().filter(number=number).first()
        return _invoice_info(inv, inv.account.subscriber_code) if inv else None

    def readings_of_account(self, subscriber_code: str, *, since: date | None = None) -> list[ReadingInfo]:
        qs = models.Reading.objects.filter(meter__account__subscriber_code=subscriber_code)
        if since is not None:
            qs = qs.filter(taken_on__gte=since)
        return [ReadingInfo(meter_serial=serial, taken_on=taken_on, value=value, source=source)
                for serial, taken_on, value, source in qs.order_by("meter__serial_number", "taken_on", "id")
                .values_list("meter__serial_number", "taken_on", "value", "source")]

    def balance(self, subscriber_code: str, *, as_of: date | None = None) -> Decimal:
        account = models.Account.objects.filter(subscriber_code=subscriber_code).first()
        if account is None:
            raise BillingError(f"unknown account {subscriber_code}")
        invoices = models.Invoice.objects.filter(account=account)
        payments = models.Payment.objects.filter(account=account)
        adjustments = models.Adjustment.objects.filter(account=account)
        if as_of is not None:
            invoices = invoices.filter(issued_on__lte=as_of)
            payments = payments.filter(paid_on__lte=as_of)
            adjustments = adjustments.filter(posted_on__lte=as_of)
        zero = Decimal("0.00")
        billed = invoices.aggregate(s=Sum("total"))["s"] or zero
        paid = payments.aggregate(s=Sum("amount"))["s"] or zero
        adjusted = adjustments.aggregate(s=Sum("amount"))["s"] or zero
        return billed - paid + adjusted

    def price(self, subscriber_code: str, *, period_start: date, period_end: date,
              consumption: int) -> PricedConsumption:
        account = models.Account.objects.get(subscriber_code=subscriber_code)
        rates = [
            TariffRate(service=t.service, price=t.price, valid_from=t.valid_from)
            for t in models.Tariff.objects.filter(category=account.category, zone=account.zone)
        ]
        return price_consumption(rates=rates, period_start=period_start, period_end=period_end,
                                 consumption=consumption)

    def post_adjustment(self, *, reference: str, subscriber_code: str, invoice_number: str,
                        amount: Decimal, posted_on: date, claim_number: str, note: str) -> AdjustmentInfo:
        existing = models.Adjustment.objects.filter(reference=reference).select_related("account", "invoice").first()
        if existing is None:
            account = models.Account.objects.filter(subscriber_code=subscriber_code).first()
            invoice = models.Invoice.objects.filter(number=invoice_number, account=account).first()
            if account is None or invoice is None:
                raise BillingError(f"unknown account or invoice {subscriber_code}/{invoice_number}")
            try:
                with transaction.atomic():
                    existing = models.Adjustment.objects.create(
                        account=account, invoice=invoice, amount=amount, posted_on=posted_on,
                        reference=reference, claim_number=claim_number, note=note,
                    )
                created = True
            except IntegrityError:  # posted concurrently under the same reference
                existing = models.Adjustment.objects.select_related("account", "invoice").get(reference=reference)
                created = False
        else:
            created = False
        return self._adjustment_info(existing, created=created)

    def _adjustment_info(self, adjustment: models.Adjustment, *, created: bool) -> AdjustmentInfo:
        return AdjustmentInfo(
            reference=adjustment.reference,
            subscriber_code=adjustment.account.subscriber_code,
            invoice_number=adjustment.invoice.number if adjustment.invoice else "",
            amount=adjustment.amount,
            posted_on=adjustment.posted_on,
            created=created,
            balance_after=self.balance(adjustment.account.subscriber_code),
            billing_id=str(adjustment.pk),
        )

    def adjustment(self, reference: str) -> AdjustmentInfo | None:
        found = models.Adjustment.objects.filter(reference=reference).select_related("account", "invoice").first()
        return self._adjustment_info(found, created=False) if found else None


@cache
def _gateway_class(path: str):
    return import_string(path)


def get_gateway() -> BillingGateway:
    return _gateway_class(settings.BILLING_GATEWAY)()
