"""Soft checks of a declared meter reading: not errors (the citizen may be right, that is why
they file a claim), but a word before they confirm, so a slip of a digit is caught early."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from django.utils import timezone
from django.utils.translation import gettext as _

from billing.gateway import InvoiceInfo, MeterInfo
from core.text import format_volume

# A declared reading is “far above” when it implies this many times the invoice's daily use
# since the last billed reading, and at least FAR_ABOVE_MIN m³ more.
FAR_ABOVE_FACTOR = 5
FAR_ABOVE_MIN = 50


def reading_warnings(*, invoice: InvoiceInfo, meters: list[MeterInfo], readings: Mapping[str, int],
                     today: date | None = None) -> dict[str, str]:
    """Meter serial -> a warning in the active language, for readings that look implausible:
    below the last billed reading, or far above the usual consumption."""
    today = today or timezone.localdate()
    lines = {ln.meter_serial: ln for ln in invoice.lines}
    period_days = max((invoice.period_end - invoice.period_start).days + 1, 1)
    warnings: dict[str, str] = {}
    for meter in meters:
        declared = readings.get(meter.serial_number)
        line = lines.get(meter.serial_number)
        if declared is None:
            continue
        last = meter.last_reading if meter.last_reading is not None else (line.current_reading if line else None)
        if last is None:
            continue
        values = {"serial": meter.serial_number, "last": format_volume(last), "declared": format_volume(declared)}
        if declared < last:
            warnings[meter.serial_number] = _(
                "Sayğac %(serial)s: göstərici (%(declared)s) son hesablanmış göstəricidən (%(last)s) azdır. "
                "Sayğacdakı rəqəmləri yoxlayın; düzgündürsə, davam edin.") % values
            continue
        if line is None:
            continue
        since = meter.last_reading_on or invoice.period_end
        days = max((today - since).days, 1)
        usual = line.consumption / period_days * days
        if declared - last > max(usual * FAR_ABOVE_FACTOR, FAR_ABOVE_MIN):
            warnings[meter.serial_number] = _(
                "Sayğac %(serial)s: göstərici (%(declared)s) adi istehlakdan xeyli çoxdur (son göstərici "
                "%(last)s). Sayğacdakı rəqəmləri yoxlayın; düzgündürsə, davam edin.") % values
    return warnings
