"""Small text helpers shared by the citizen's pages, e-mails, SMS, letters and the channel API.

Dates, money and volumes are written by one helper per language (``STYLES``), whatever the
medium: a page, an e-mail, an SMS and a PDF letter show “30.11.2026”, “29,00 AZN” and
“2 886 m³” in Azerbaijani and Russian, “30.11.2026”, “29.00 AZN” and “2,886 m³” in English. Templates use the
filters of ``core.templatetags.core_tags`` (``day``, ``moment``, ``money``, ``m3``), which call
these.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from django.utils import timezone
from django.utils.translation import get_language

NBSP = "\u00a0"


@dataclass(frozen=True)
class Style:
    """How one language writes a day, a decimal and a thousands group."""

    day: str  # strftime pattern; {month} is replaced by the month's short name
    decimal: str
    group: str
    months: tuple[str, ...] = ()


STYLES: dict[str, Style] = {
    "az": Style(day="%d.%m.%Y", decimal=",", group=NBSP),
    "ru": Style(day="%d.%m.%Y", decimal=",", group=NBSP),
    # English too writes a day as the country does (30.11.2026): the same in the e-mail, the SMS,
    # the letter and the page, whichever the reader switches to.
    "en": Style(day="%d.%m.%Y", decimal=".", group=","),
}
DEFAULT = "az"


def language_of(language: str | None = None) -> str:
    """``language`` (or the active one) reduced to one of the three the service speaks."""
    code = (language or get_language() or DEFAULT)[:2]
    return code if code in STYLES else DEFAULT


def _style(language: str | None) -> Style:
    return STYLES[language_of(language)]


def format_day(value: date | datetime | None, language: str | None = None) -> str:
    """30.11.2026; a datetime is taken in the local time zone."""
    if value is None:
        return "—"
    if isinstance(value, datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
    style = _style(language)
    text = value.strftime(style.day)
    if "{month}" in text:
        text = text.replace("{month}", style.months[value.month - 1])
    return text


def format_moment(value: datetime | None, language: str | None = None) -> str:
    """The day and the local time: 30.11.2026 14:05."""
    if value is None:
        return "—"
    local = timezone.localtime(value) if timezone.is_aware(value) else value
    return f"{format_day(local, language)} {local:%H:%M}"


def _grouped(digits: str, group: str) -> str:
    parts: list[str] = []
    while len(digits) > 3:
        parts.insert(0, digits[-3:])
        digits = digits[:-3]
    parts.insert(0, digits)
    return group.join(parts)


def format_number(value: Decimal | int | float | str, places: int = 0, language: str | None = None) -> str:
    """A number with the language's decimal mark and thousands groups (no sign dropped)."""
    style = _style(language)
    amount = Decimal(str(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    sign = "-" if amount < 0 else ""
    whole, _, fraction = f"{abs(amount):f}".partition(".")
    text = _grouped(whole, style.group)
    if places:
        text += style.decimal + fraction.ljust(places, "0")
    return sign + text


def format_money(value: Decimal | int | float | str | None, language: str | None = None) -> str:
    """29,00 AZN. Plain-words texts pass the amount's size (``abs``) and say its direction in
    words: a citizen never reads a negative amount."""
    if value is None:
        return "—"
    return f"{format_number(value, 2, language)} AZN"


def format_volume(value: Decimal | int | float | str | None, language: str | None = None) -> str:
    """2 886 m³ (whole cubic metres, as meters count)."""
    if value is None:
        return "—"
    places = 0 if Decimal(str(value)) == Decimal(str(value)).to_integral_value() else 3
    return f"{format_number(value, places, language)} m³"


def mask_name(name: str) -> str:
    """Ə***** R**** : enough for an occupant to recognise, not enough to learn a name."""
    return " ".join(w[0] + "*" * (len(w) - 1) if len(w) > 1 else w for w in name.split())
