"""Pricing of consumption at the tariffs in force (DESIGN.md §7).

When a tariff changes inside a billing period the consumption is split by average daily
use: each part is priced at the tariff in force on its days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

QEPIK = Decimal("0.01")


def money(value: Decimal) -> Decimal:
    return value.quantize(QEPIK, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class TariffRate:
    service: str
    price: Decimal
    valid_from: date


@dataclass(frozen=True)
class PricedPart:
    service: str
    start: date  # first day of the part, inclusive
    end: date  # last day, inclusive
    volume: Decimal
    price: Decimal

    @property
    def amount(self) -> Decimal:
        return self.volume * self.price


@dataclass(frozen=True)
class PricedConsumption:
    consumption: int
    water_amount: Decimal
    sewerage_amount: Decimal
    parts: tuple[PricedPart, ...]

    @property
    def total(self) -> Decimal:
        return self.water_amount + self.sewerage_amount


def price_consumption(
    *, rates: list[TariffRate], period_start: date, period_end: date, consumption: int
) -> PricedConsumption:
    """Price ``consumption`` m³ used on the days ``period_start``..``period_end`` (inclusive).

    ``rates`` are every tariff row of the account's category and zone (any order). A service
    with no rate in force is not charged.
    """
    if period_end < period_start:
        raise ValueError("period_end before period_start")
    days = (period_end - period_start).days + 1
    per_day = Decimal(consumption) / Decimal(days)
    parts: list[PricedPart] = []
    for service in ("water", "sewerage"):
        service_rates = sorted((r for r in rates if r.service == service), key=lambda r: r.valid_from)
        for i, rate in enumerate(service_rates):
            next_from = service_rates[i + 1].valid_from if i + 1 < len(service_rates) else None
            start = max(period_start, rate.valid_from)
            end = period_end if next_from is None else min(period_end, next_from - timedelta(days=1))
            if start > end:
                continue
            part_days = (end - start).days + 1
            volume = Decimal(consumption) if part_days == days else per_day * part_days
            parts.append(PricedPart(service=service, start=start, end=end, volume=volume, price=rate.price))
    water = money(sum((p.amount for p in parts if p.service == "water"), Decimal(0)))
    sewerage = money(sum((p.amount for p in parts if p.service == "sewerage"), Decimal(0)))
    return PricedConsumption(
        consumption=consumption, water_amount=water, sewerage_amount=sewerage, parts=tuple(parts)
    )
