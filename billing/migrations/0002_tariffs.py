"""Seed the water and sewerage tariffs in force since 2016 (DESIGN.md §7).

Prices are AZN per m³, VAT included. Sources: Tariff (Price) Council of the Republic of
Azerbaijan, decision of 2016 (in force from 16 May 2016), and decision No. 5 of 30 January 2021
(in force from 1 February 2021). Non-household sewerage was not changed in 2021, so its 2016
row stays in force.
"""

from datetime import date
from decimal import Decimal

from django.db import migrations

DECISION_2016 = "Tarif (qiymət) Şurasının 2016-cı il qərarı; 16.05.2016-dan qüvvədədir"
DECISION_2021 = "Tarif (qiymət) Şurasının 30.01.2021-ci il tarixli 5 nömrəli qərarı; 01.02.2021-dən qüvvədədir"

FROM_2016 = date(2016, 5, 16)
FROM_2021 = date(2021, 2, 1)

# (category, zone, service, price, valid_from, decision)
TARIFFS = [
    # 2016
    ("household", "baku_area", "water", "0.35", FROM_2016, DECISION_2016),
    ("household", "other", "water", "0.30", FROM_2016, DECISION_2016),
    ("household", "baku_area", "sewerage", "0.15", FROM_2016, DECISION_2016),
    ("household", "other", "sewerage", "0.15", FROM_2016, DECISION_2016),
    ("non_household", "baku_area", "water", "1.00", FROM_2016, DECISION_2016),
    ("non_household", "other", "water", "1.00", FROM_2016, DECISION_2016),
    ("non_household", "baku_area", "sewerage", "1.00", FROM_2016, DECISION_2016),
    ("non_household", "other", "sewerage", "1.00", FROM_2016, DECISION_2016),
    # 2021 (non-household sewerage unchanged: the 2016 row stays in force)
    ("household", "baku_area", "water", "0.70", FROM_2021, DECISION_2021),
    ("household", "other", "water", "0.60", FROM_2021, DECISION_2021),
    ("household", "baku_area", "sewerage", "0.30", FROM_2021, DECISION_2021),
    ("household", "other", "sewerage", "0.30", FROM_2021, DECISION_2021),
    ("non_household", "baku_area", "water", "1.00", FROM_2021, DECISION_2021),
    ("non_household", "other", "water", "1.00", FROM_2021, DECISION_2021),
]


def seed_tariffs(apps, schema_editor):
    Tariff = apps.get_model("billing", "Tariff")
    for category, zone, service, price, valid_from, decision in TARIFFS:
        Tariff.objects.update_or_create(
            category=category,
            zone=zone,
            service=service,
            valid_from=valid_from,
            defaults={"price": Decimal(price), "decision": decision},
        )


def unseed_tariffs(apps, schema_editor):
    Tariff = apps.get_model("billing", "Tariff")
    for category, zone, service, _price, valid_from, _decision in TARIFFS:
        Tariff.objects.filter(category=category, zone=zone, service=service, valid_from=valid_from).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(seed_tariffs, unseed_tariffs),
    ]
