"""The billing contract's JSON (docs/billing-api.yaml) to and from the gateway's records.

Both sides of the contract use these: the HTTP gateway reads billing's answers with the
``*_from_json`` functions, the stand-in (scripts/billing_standin.py) writes its answers with the
``*_json`` ones. Money is a decimal string with two places, dates are ISO 8601 days, readings
are whole m³. A field that is missing or of the wrong kind raises ``ContractError``.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from .gateway import AccountInfo, AdjustmentInfo, InvoiceInfo, InvoiceLineInfo, MeterInfo, ReadingInfo

CENT = Decimal("0.01")


class ContractError(ValueError):
    """An answer that does not follow the contract."""


def money(value: Decimal) -> str:
    return str(Decimal(value).quantize(CENT))


def _money(data: dict[str, Any], key: str) -> Decimal:
    raw = data.get(key)
    if not isinstance(raw, str):
        raise ContractError(f"{key}: a decimal string expected, got {raw!r}")
    try:
        return Decimal(raw).quantize(CENT)
    except InvalidOperation:
        raise ContractError(f"{key}: not a decimal: {raw!r}") from None


def _day(data: dict[str, Any], key: str, *, optional: bool = False) -> date | None:
    raw = data.get(key)
    if raw is None and optional:
        return None
    if not isinstance(raw, str):
        raise ContractError(f"{key}: a date expected, got {raw!r}")
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ContractError(f"{key}: not a date: {raw!r}") from None


def _req_day(data: dict[str, Any], key: str) -> date:
    value = _day(data, key)
    assert value is not None  # noqa: S101 - _day raises for a missing required date
    return value


def _int(data: dict[str, Any], key: str) -> int:
    raw = data.get(key)
    if not isinstance(raw, int) or isinstance(raw, bool):
        raise ContractError(f"{key}: an integer expected, got {raw!r}")
    return raw


def _str(data: dict[str, Any], key: str, *, optional: bool = False) -> str:
    raw = data.get(key, "" if optional else None)
    if not isinstance(raw, str):
        raise ContractError(f"{key}: a string expected, got {raw!r}")
    return raw


def _obj(data: Any, what: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ContractError(f"{what}: an object expected")
    return data


# --- Accounts ---------------------------------------------------------------------------------

def account_json(a: AccountInfo) -> dict[str, Any]:
    return {
        "subscriber_code": a.subscriber_code, "holder_kind": a.holder_kind, "holder_fin": a.holder_fin or None,
        "holder_name": a.holder_name, "address": a.address,
        "branch": {"code": a.branch_code, "name": a.branch_name},
        "category": a.category, "tariff_zone": a.zone,
        "meters": [
            {"serial_number": m.serial_number, "seal_number": m.seal_number, "last_reading": m.last_reading,
             "last_reading_on": m.last_reading_on.isoformat() if m.last_reading_on else None}
            for m in a.meters
        ],
    }


def account_from_json(data: Any) -> AccountInfo:
    d = _obj(data, "account")
    branch = _obj(d.get("branch"), "branch")
    meters = []
    for m in d.get("meters") or []:
        m = _obj(m, "meter")
        last = m.get("last_reading")
        if last is not None and (not isinstance(last, int) or isinstance(last, bool)):
            raise ContractError(f"last_reading: an integer expected, got {last!r}")
        meters.append(MeterInfo(serial_number=_str(m, "serial_number"), seal_number=_str(m, "seal_number"),
                                last_reading=last, last_reading_on=_day(m, "last_reading_on", optional=True)))
    return AccountInfo(
        subscriber_code=_str(d, "subscriber_code"), holder_kind=_str(d, "holder_kind"),
        holder_fin=d.get("holder_fin") or "", holder_name=_str(d, "holder_name"), address=_str(d, "address"),
        branch_code=_str(branch, "code"), branch_name=_str(branch, "name"), category=_str(d, "category"),
        zone=_str(d, "tariff_zone"), meters=tuple(meters),
    )


# --- Invoices ---------------------------------------------------------------------------------

def invoice_json(i: InvoiceInfo) -> dict[str, Any]:
    return {
        "number": i.number, "subscriber_code": i.subscriber_code, "period": i.period.isoformat(),
        "period_start": i.period_start.isoformat(), "period_end": i.period_end.isoformat(),
        "issued_on": i.issued_on.isoformat(), "due_on": i.due_on.isoformat(), "consumption": i.consumption,
        "water_amount": money(i.water_amount), "sewerage_amount": money(i.sewerage_amount),
        "total": money(i.total),
        "lines": [
            {"meter_serial": ln.meter_serial, "seal_number": ln.seal_number,
             "previous_reading": ln.previous_reading, "current_reading": ln.current_reading,
             "estimated": ln.estimated, "consumption": ln.consumption}
            for ln in i.lines
        ],
    }


def invoice_from_json(data: Any) -> InvoiceInfo:
    d = _obj(data, "invoice")
    lines = []
    for ln in d.get("lines") or []:
        ln = _obj(ln, "invoice line")
        estimated = ln.get("estimated", False)
        if not isinstance(estimated, bool):
            raise ContractError(f"estimated: a boolean expected, got {estimated!r}")
        lines.append(InvoiceLineInfo(
            meter_serial=_str(ln, "meter_serial"), seal_number=_str(ln, "seal_number", optional=True),
            previous_reading=_int(ln, "previous_reading"), current_reading=_int(ln, "current_reading"),
            estimated=estimated, consumption=_int(ln, "consumption")))
    return InvoiceInfo(
        number=_str(d, "number"), subscriber_code=_str(d, "subscriber_code"), period=_req_day(d, "period"),
        period_start=_req_day(d, "period_start"), period_end=_req_day(d, "period_end"),
        issued_on=_req_day(d, "issued_on"), due_on=_req_day(d, "due_on"), consumption=_int(d, "consumption"),
        water_amount=_money(d, "water_amount"), sewerage_amount=_money(d, "sewerage_amount"),
        total=_money(d, "total"), lines=tuple(lines),
    )


# --- Readings, balance, adjustments -----------------------------------------------------------

def reading_json(r: ReadingInfo) -> dict[str, Any]:
    return {"meter_serial": r.meter_serial, "taken_on": r.taken_on.isoformat(), "value": r.value,
            "source": r.source}


def reading_from_json(data: Any) -> ReadingInfo:
    d = _obj(data, "reading")
    return ReadingInfo(meter_serial=_str(d, "meter_serial"), taken_on=_req_day(d, "taken_on"),
                       value=_int(d, "value"), source=_str(d, "source"))


def balance_json(subscriber_code: str, as_of: date, balance: Decimal) -> dict[str, Any]:
    return {"subscriber_code": subscriber_code, "as_of": as_of.isoformat(), "balance": money(balance),
            "currency": "AZN"}


def balance_from_json(data: Any) -> Decimal:
    return _money(_obj(data, "balance"), "balance")


def adjustment_json(a: AdjustmentInfo, *, claim_number: str = "", note: str = "") -> dict[str, Any]:
    return {
        "reference": a.reference, "id": a.billing_id or a.reference, "status": "booked",
        "subscriber_code": a.subscriber_code, "invoice_number": a.invoice_number, "amount": money(a.amount),
        "posted_on": a.posted_on.isoformat(), "claim_number": claim_number, "note": note,
        "balance_after": money(a.balance_after) if a.balance_after is not None else None,
    }


def adjustment_from_json(data: Any, *, created: bool) -> AdjustmentInfo:
    d = _obj(data, "adjustment")
    after = d.get("balance_after")
    return AdjustmentInfo(
        reference=_str(d, "reference"), subscriber_code=_str(d, "subscriber_code"),
        invoice_number=_str(d, "invoice_number", optional=True), amount=_money(d, "amount"),
        posted_on=_req_day(d, "posted_on"), created=created,
        balance_after=_money(d, "balance_after") if after is not None else None,
        billing_id=str(d.get("id") or ""),
    )
