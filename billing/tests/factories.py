"""Factories for billing rows. Other apps' tests import them.

    account = AccountFactory()                       # a household account in Yasamal, no meter
    meter = MeterFactory(account=account)
    invoice = InvoiceFactory(account=account)        # last month, one line for the account's meter
    InvoiceFactory(account=account, period=date(2026, 9, 1), previous_reading=120, current_reading=131)
    InvoiceFactory(account=account, misread=True)    # 95 m³ billed where about 12 is usual
    InvoiceFactory(account=account, estimated=True)  # the line is marked estimated
    AccountFactory(organisation=True)                # “Xəzər Market” MMC, non-household, no FIN
    BranchFactory(other_zone=True)                   # Gəncə, tariff zone "other"
    PaymentFactory(account=account, amount=invoice.total)

Invoice amounts are priced with billing.pricing at the tariffs in the database (seeded by the
billing 0002 migration), unless given.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from billing.models import (
    Account,
    Branch,
    Category,
    HolderKind,
    Invoice,
    InvoiceLine,
    Meter,
    Payment,
    Reading,
    Tariff,
    TariffZone,
)
from billing.pricing import TariffRate, price_consumption

FIN_ALPHABET = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no I, no O


def fin_for(n: int) -> str:
    """A valid-format FIN, different for each n below a million: an affine map of n written
    in base 34 (so neighbours do not look alike)."""
    n = 5 * 34**6 + n * 7919  # seven characters, the first one not 0
    chars = []
    for _ in range(7):
        n, r = divmod(n, len(FIN_ALPHABET))
        chars.append(FIN_ALPHABET[r])
    return "".join(reversed(chars))


def last_month() -> date:
    first = timezone.localdate().replace(day=1)
    return (first - timedelta(days=1)).replace(day=1)


def previous_month(day: date) -> date:
    return (day.replace(day=1) - timedelta(days=1)).replace(day=1)


def rates_for(category: str, zone: str) -> list[TariffRate]:
    return [
        TariffRate(service=t.service, price=t.price, valid_from=t.valid_from)
        for t in Tariff.objects.filter(category=category, zone=zone)
    ]


class BranchFactory(DjangoModelFactory):
    class Meta:
        model = Branch
        django_get_or_create = ("code",)

    code = "BAK-YAS"
    name = "Yasamal rayon idarəsi"
    region = "Bakı"
    zone = TariffZone.BAKU_AREA

    class Params:
        other_zone = factory.Trait(code="GNC", name="Gəncə filialı", region="Gəncə", zone=TariffZone.OTHER)


class AccountFactory(DjangoModelFactory):
    class Meta:
        model = Account

    subscriber_code = factory.Sequence(lambda n: f"{18_900_000_00 + n:010d}")
    holder_kind = HolderKind.PERSON
    holder_fin = factory.Sequence(fin_for)
    holder_name = factory.Iterator(
        ["Əliyev Rəşad Elşən oğlu", "Məmmədova Aygün Vüqar qızı", "Həsənov Orxan Tofiq oğlu",
         "Quliyeva Leyla Rauf qızı"]
    )
    address = factory.Sequence(lambda n: f"Yasamal r., Şərifzadə küç., ev {n % 150 + 1}, mənzil {n % 90 + 1}")
    branch = factory.SubFactory(BranchFactory)
    category = Category.HOUSEHOLD
    zone = factory.SelfAttribute("branch.zone")
    opened_on = date(2012, 3, 1)

    class Params:
        organisation = factory.Trait(
            holder_kind=HolderKind.ORGANISATION,
            holder_fin="",
            holder_name="“Xəzər Market” MMC",
            category=Category.NON_HOUSEHOLD,
        )


class MeterFactory(DjangoModelFactory):
    class Meta:
        model = Meter

    account = factory.SubFactory(AccountFactory)
    serial_number = factory.Sequence(lambda n: f"SM{40_000_000 + n:08d}")
    seal_number = factory.Sequence(lambda n: f"PL-{n:07d}")
    installed_on = date(2016, 6, 1)


class ReadingFactory(DjangoModelFactory):
    class Meta:
        model = Reading

    meter = factory.SubFactory(MeterFactory)
    taken_on = factory.LazyFunction(lambda: last_month().replace(day=15))
    value = 112
    source = Reading.Source.CONTROLLER


def _line_meter(line: factory.builder.Resolver) -> Meter:
    parent = line.factory_parent
    if parent.meter is not None:
        return parent.meter
    account = line.invoice.account
    return account.meters.order_by("pk").first() or MeterFactory.create(account=account)


class InvoiceLineFactory(DjangoModelFactory):
    class Meta:
        model = InvoiceLine

    invoice = None  # given by InvoiceFactory
    meter = factory.SubFactory(MeterFactory)
    previous_reading = 100
    current_reading = 112
    estimated = False
    consumption = factory.LazyAttribute(lambda o: o.current_reading - o.previous_reading)


class InvoiceFactory(DjangoModelFactory):
    """A monthly invoice with one line. The period runs from the 16th of the month before
    ``period`` to the 15th of ``period``; ``previous_reading``/``current_reading`` set the
    line (12 m³ by default); ``meter`` defaults to the account's first meter, created when
    missing. Amounts come from the tariffs in the database unless given."""

    class Meta:
        model = Invoice
        skip_postgeneration_save = True

    class Params:
        previous_reading = 100
        current_reading = 112
        meter = None
        estimated = False
        misread = factory.Trait(previous_reading=300, current_reading=395)  # ~95 m³ where ~12 is usual

    account = factory.SubFactory(AccountFactory)
    number = factory.Sequence(lambda n: f"F{n:011d}")
    period = factory.LazyFunction(last_month)
    period_start = factory.LazyAttribute(lambda o: previous_month(o.period).replace(day=16))
    period_end = factory.LazyAttribute(lambda o: o.period.replace(day=15))
    issued_on = factory.LazyAttribute(lambda o: o.period_end + timedelta(days=1))
    due_on = factory.LazyAttribute(lambda o: o.issued_on + timedelta(days=20))
    consumption = factory.LazyAttribute(lambda o: o.current_reading - o.previous_reading)
    water_amount = None
    sewerage_amount = None
    total = None

    line = factory.RelatedFactory(
        InvoiceLineFactory,
        factory_related_name="invoice",
        meter=factory.LazyAttribute(_line_meter),
        previous_reading=factory.SelfAttribute("..previous_reading"),
        current_reading=factory.SelfAttribute("..current_reading"),
        estimated=factory.SelfAttribute("..estimated"),
    )

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        if kwargs.get("total") is None:
            account = kwargs["account"]
            priced = price_consumption(
                rates=rates_for(account.category, account.zone),
                period_start=kwargs["period_start"],
                period_end=kwargs["period_end"],
                consumption=kwargs["consumption"],
            )
            kwargs["water_amount"] = priced.water_amount
            kwargs["sewerage_amount"] = priced.sewerage_amount
            kwargs["total"] = priced.total
        else:  # a given total: water is what sewerage leaves of it
            if kwargs.get("sewerage_amount") is None:
                kwargs["sewerage_amount"] = Decimal("0.00")
            if kwargs.get("water_amount") is None:
                kwargs["water_amount"] = kwargs["total"] - kwargs["sewerage_amount"]
        return super()._create(model_class, *args, **kwargs)


class PaymentFactory(DjangoModelFactory):
    class Meta:
        model = Payment

    account = factory.SubFactory(AccountFactory)
    paid_on = factory.LazyFunction(lambda: last_month().replace(day=25))
    amount = Decimal("12.00")
    reference = factory.Sequence(lambda n: f"EMANAT-{n:08d}")
