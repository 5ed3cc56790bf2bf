"""Dates, money and volumes are written one way per language, whatever the medium."""

from datetime import date
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.utils import translation

from core.text import format_day, format_money, format_volume


@pytest.mark.parametrize(("language", "day", "money", "volume"), [
    ("az", "05.12.2026", "1\u00a0234,50 AZN", "2\u00a0886 m³"),
    ("ru", "05.12.2026", "1\u00a0234,50 AZN", "2\u00a0886 m³"),
    ("en", "05.12.2026", "1,234.50 AZN", "2,886 m³"),
])
def test_one_helper_per_language(language, day, money, volume):
    assert format_day(date(2026, 12, 5), language) == day
    assert format_money(Decimal("1234.5"), language) == money
    assert format_volume(2886, language) == volume


def test_the_filters_follow_the_page_language():
    template = Template("{% load core_tags %}{{ d|day }} · {{ a|money }} · {{ v|m3 }}")
    context = Context({"d": date(2026, 1, 31), "a": Decimal("9"), "v": 100})
    with translation.override("en"):
        assert template.render(context) == "31.01.2026 · 9.00 AZN · 100 m³"
    with translation.override("az"):
        assert template.render(context) == "31.01.2026 · 9,00 AZN · 100 m³"


def test_an_unknown_language_is_written_the_azerbaijani_way():
    assert format_money(Decimal("-0.5"), "de") == "-0,50 AZN"
