"""Pricing of consumption at the tariffs in force (DESIGN.md §7)."""

from datetime import date
from decimal import Decimal

import pytest

from billing.pricing import TariffRate, money, price_consumption

D = Decimal

# The published tariffs (AZN per m³, VAT included), written out here so that these tests do
# not depend on the database; test_migrations checks that the migration seeds the same.
HOUSEHOLD_BAKU = [
    TariffRate("water", D("0.35"), date(2016, 5, 16)),
    TariffRate("sewerage", D("0.15"), date(2016, 5, 16)),
    TariffRate("water", D("0.70"), date(2021, 2, 1)),
    TariffRate("sewerage", D("0.30"), date(2021, 2, 1)),
]
HOUSEHOLD_OTHER = [
    TariffRate("water", D("0.30"), date(2016, 5, 16)),
    TariffRate("sewerage", D("0.15"), date(2016, 5, 16)),
    TariffRate("water", D("0.60"), date(2021, 2, 1)),
    TariffRate("sewerage", D("0.30"), date(2021, 2, 1)),
]
NON_HOUSEHOLD = [  # both zones; sewerage was not changed in 2021
    TariffRate("water", D("1.00"), date(2016, 5, 16)),
    TariffRate("sewerage", D("1.00"), date(2016, 5, 16)),
    TariffRate("water", D("1.00"), date(2021, 2, 1)),
]


def test_one_tariff_household_baku():
    # 2025-03-16..2025-04-15, 12 m³: water 12 × 0.70 = 8.40, sewerage 12 × 0.30 = 3.60.
    priced = price_consumption(rates=HOUSEHOLD_BAKU, period_start=date(2025, 3, 16),
                               period_end=date(2025, 4, 15), consumption=12)
    assert priced.water_amount == D("8.40")
    assert priced.sewerage_amount == D("3.60")
    assert priced.total == D("12.00")
    assert priced.consumption == 12
    assert [(p.service, p.start, p.end, p.volume, p.price) for p in priced.parts] == [
        ("water", date(2025, 3, 16), date(2025, 4, 15), D(12), D("0.70")),
        ("sewerage", date(2025, 3, 16), date(2025, 4, 15), D(12), D("0.30")),
    ]


def test_one_tariff_household_other_zone_before_2021():
    # 2019-06-11..2019-07-10, 15 m³: water 15 × 0.30 = 4.50, sewerage 15 × 0.15 = 2.25.
    priced = price_consumption(rates=HOUSEHOLD_OTHER, period_start=date(2019, 6, 11),
                               period_end=date(2019, 7, 10), consumption=15)
    assert (priced.water_amount, priced.sewerage_amount, priced.total) == (D("4.50"), D("2.25"), D("6.75"))


def test_tariff_change_inside_the_period_is_split_by_average_daily_use():
    # 2021-01-15..2021-02-14 is 31 days; 31 m³ is 1 m³ a day.
    # 15..31 Jan = 17 days = 17 m³ at the 2016 tariff: water 17 × 0.35 = 5.95, sewerage 17 × 0.15 = 2.55
    #  1..14 Feb = 14 days = 14 m³ at the 2021 tariff: water 14 × 0.70 = 9.80, sewerage 14 × 0.30 = 4.20
    # water 5.95 + 9.80 = 15.75; sewerage 2.55 + 4.20 = 6.75; total 22.50.
    priced = price_consumption(rates=HOUSEHOLD_BAKU, period_start=date(2021, 1, 15),
                               period_end=date(2021, 2, 14), consumption=31)
    assert priced.water_amount == D("15.75")
    assert priced.sewerage_amount == D("6.75")
    assert priced.total == D("22.50")
    water = [(p.start, p.end, p.volume, p.price) for p in priced.parts if p.service == "water"]
    assert water == [
        (date(2021, 1, 15), date(2021, 1, 31), D(17), D("0.35")),
        (date(2021, 2, 1), date(2021, 2, 14), D(14), D("0.70")),
    ]


def test_split_with_fractional_daily_use_rounds_each_service_to_the_qepik():
    # 2021-01-20..2021-02-19 is 31 days; 10 m³ is 10/31 m³ a day.
    # 20..31 Jan = 12 days = 120/31 m³; 1..19 Feb = 19 days = 190/31 m³.
    # water    = 120/31 × 0.35 + 190/31 × 0.70 = (42 + 133)/31 = 175/31 = 5.6451... -> 5.65
    # sewerage = 120/31 × 0.15 + 190/31 × 0.30 = (18 +  57)/31 =  75/31 = 2.4193... -> 2.42
    priced = price_consumption(rates=HOUSEHOLD_BAKU, period_start=date(2021, 1, 20),
                               period_end=date(2021, 2, 19), consumption=10)
    assert priced.water_amount == D("5.65")
    assert priced.sewerage_amount == D("2.42")
    assert priced.total == D("8.07")
    assert sum(p.volume for p in priced.parts if p.service == "water") == pytest.approx(D(10))


def test_rounding_is_half_up_not_half_even():
    # 2021-01-31..2021-02-01, 1 m³: half a m³ on each side of the change.
    # water    = 0.5 × 0.35 + 0.5 × 0.70 = 0.175 + 0.350 = 0.525 -> 0.53 (half-even would give 0.52)
    # sewerage = 0.5 × 0.15 + 0.5 × 0.30 = 0.075 + 0.150 = 0.225 -> 0.23 (half-even would give 0.22)
    priced = price_consumption(rates=HOUSEHOLD_BAKU, period_start=date(2021, 1, 31),
                               period_end=date(2021, 2, 1), consumption=1)
    assert (priced.water_amount, priced.sewerage_amount, priced.total) == (D("0.53"), D("0.23"), D("0.76"))
    assert money(D("2.675")) == D("2.68")
    assert money(D("0.004999")) == D("0.00")


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (date(2020, 3, 16), date(2020, 4, 15)),
        (date(2021, 1, 15), date(2021, 2, 14)),
        (date(2025, 3, 16), date(2025, 4, 15)),
    ],
)
def test_non_household_pays_one_manat_for_water_and_for_sewerage_throughout(start, end):
    # 40 m³ at 1.00 + 1.00: the 2016 sewerage row stays in force after 2021.
    priced = price_consumption(rates=NON_HOUSEHOLD, period_start=start, period_end=end, consumption=40)
    assert (priced.water_amount, priced.sewerage_amount, priced.total) == (D("40.00"), D("40.00"), D("80.00"))


def test_money_is_decimal_with_two_places():
    priced = price_consumption(rates=HOUSEHOLD_BAKU, period_start=date(2021, 1, 20),
                               period_end=date(2021, 2, 19), consumption=7)
    for amount in (priced.water_amount, priced.sewerage_amount, priced.total):
        assert isinstance(amount, Decimal)
        assert amount.as_tuple().exponent == -2


def test_zero_consumption_costs_nothing():
    priced = price_consumption(rates=HOUSEHOLD_BAKU, period_start=date(2025, 3, 16),
                               period_end=date(2025, 4, 15), consumption=0)
    assert priced.total == D("0.00")


def test_a_service_without_a_rate_in_force_is_not_charged():
    water_only = [r for r in HOUSEHOLD_BAKU if r.service == "water"]
    priced = price_consumption(rates=water_only, period_start=date(2025, 3, 16),
                               period_end=date(2025, 4, 15), consumption=10)
    assert (priced.water_amount, priced.sewerage_amount) == (D("7.00"), D("0.00"))
    before_any = price_consumption(rates=HOUSEHOLD_BAKU, period_start=date(2015, 1, 1),
                                   period_end=date(2015, 1, 31), consumption=10)
    assert before_any.total == D("0.00")


def test_a_period_ending_before_it_starts_is_refused():
    with pytest.raises(ValueError, match="period_end before period_start"):
        price_consumption(rates=HOUSEHOLD_BAKU, period_start=date(2025, 4, 15),
                          period_end=date(2025, 4, 14), consumption=1)


def test_one_day_period():
    priced = price_consumption(rates=HOUSEHOLD_OTHER, period_start=date(2021, 2, 1),
                               period_end=date(2021, 2, 1), consumption=3)
    # 3 × 0.60 = 1.80; 3 × 0.30 = 0.90
    assert (priced.water_amount, priced.sewerage_amount) == (D("1.80"), D("0.90"))
