"""The billing 0002 data migration: the tariffs of DESIGN.md §7."""

import importlib
from datetime import date
from decimal import Decimal

import pytest
from django.apps import apps

from billing.models import Tariff
from billing.pricing import TariffRate, price_consumption

pytestmark = pytest.mark.django_db

tariffs_migration = importlib.import_module("billing.migrations.0002_tariffs")


def rows():
    return sorted(Tariff.objects.values_list("category", "zone", "service", "valid_from", "price"))


def test_the_published_tariffs_are_seeded():
    assert rows() == sorted([
        ("household", "baku_area", "water", date(2016, 5, 16), Decimal("0.3500")),
        ("household", "other", "water", date(2016, 5, 16), Decimal("0.3000")),
        ("household", "baku_area", "sewerage", date(2016, 5, 16), Decimal("0.1500")),
        ("household", "other", "sewerage", date(2016, 5, 16), Decimal("0.1500")),
        ("non_household", "baku_area", "water", date(2016, 5, 16), Decimal("1.0000")),
        ("non_household", "other", "water", date(2016, 5, 16), Decimal("1.0000")),
        ("non_household", "baku_area", "sewerage", date(2016, 5, 16), Decimal("1.0000")),
        ("non_household", "other", "sewerage", date(2016, 5, 16), Decimal("1.0000")),
        ("household", "baku_area", "water", date(2021, 2, 1), Decimal("0.7000")),
        ("household", "other", "water", date(2021, 2, 1), Decimal("0.6000")),
        ("household", "baku_area", "sewerage", date(2021, 2, 1), Decimal("0.3000")),
        ("household", "other", "sewerage", date(2021, 2, 1), Decimal("0.3000")),
        ("non_household", "baku_area", "water", date(2021, 2, 1), Decimal("1.0000")),
        ("non_household", "other", "water", date(2021, 2, 1), Decimal("1.0000")),
    ])


def test_every_row_names_its_decision():
    decisions = set(Tariff.objects.values_list("valid_from", "decision"))
    assert all(text for _, text in decisions)
    assert {d for d, _ in decisions} == {date(2016, 5, 16), date(2021, 2, 1)}
    assert any("5 nömrəli" in text and "30.01.2021" in text for _, text in decisions)


def test_non_household_sewerage_of_2016_stays_in_force():
    rates = [TariffRate(t.service, t.price, t.valid_from)
             for t in Tariff.objects.filter(category="non_household", zone="baku_area")]
    priced = price_consumption(rates=rates, period_start=date(2025, 3, 16), period_end=date(2025, 4, 15),
                               consumption=10)
    assert (priced.water_amount, priced.sewerage_amount) == (Decimal("10.00"), Decimal("10.00"))


def test_the_migration_reverses_and_reapplies():
    before = rows()
    Tariff.objects.create(category="household", zone="baku_area", service="water", price=Decimal("0.80"),
                          valid_from=date(2030, 1, 1), decision="a later decision")

    tariffs_migration.unseed_tariffs(apps, None)
    assert rows() == [("household", "baku_area", "water", date(2030, 1, 1), Decimal("0.8000"))]

    tariffs_migration.seed_tariffs(apps, None)
    tariffs_migration.seed_tariffs(apps, None)  # idempotent
    assert len(rows()) == len(before) + 1
