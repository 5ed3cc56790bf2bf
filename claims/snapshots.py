"""Typed views of the JSON kept with claims: the correction's calculation (the invoice's own
snapshot is ``billing.gateway.InvoiceInfo``, with ``to_json``/``from_json``); its parts are
``billing.pricing.PricedPart``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from billing.pricing import PricedPart


@dataclass(frozen=True)
class Calculation:
    """How a correction's new amount was computed: the invoice's period, the corrected
    consumption, and the parts at the tariffs in force (split across a tariff change)."""

    period_start: date
    period_end: date
    consumption: int
    water_amount: Decimal
    sewerage_amount: Decimal
    parts: tuple[PricedPart, ...]  # billing.pricing's parts, volumes to the litre

    def to_json(self) -> dict[str, Any]:
        return {
            "period_start": self.period_start.isoformat(), "period_end": self.period_end.isoformat(),
            "consumption": self.consumption, "water_amount": str(self.water_amount),
            "sewerage_amount": str(self.sewerage_amount),
            "parts": [{"service": p.service, "start": p.start.isoformat(), "end": p.end.isoformat(),
                       "volume": str(p.volume), "price": str(p.price)} for p in self.parts],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Calculation:
        return cls(
            period_start=date.fromisoformat(data["period_start"]), period_end=date.fromisoformat(data["period_end"]),
            consumption=int(data["consumption"]), water_amount=Decimal(data["water_amount"]),
            sewerage_amount=Decimal(data["sewerage_amount"]),
            parts=tuple(PricedPart(service=p["service"], start=date.fromisoformat(p["start"]),
                                        end=date.fromisoformat(p["end"]), volume=Decimal(p["volume"]),
                                        price=Decimal(p["price"])) for p in data.get("parts", ())),
        )
