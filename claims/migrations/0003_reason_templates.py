"""The reason templates published for this service when it opened (January 2019), plus
"payment not reflected" and "other" (the citizen describes it)."""

from django.db import migrations

REASONS = [
    ("misread", "Sayğac göstəricisinin səhv oxunması", "Meter reading misread", "Неверное снятие показаний счётчика", False, 10),
    ("low_reading", "Aşağı göstərici", "Low reading", "Заниженные показания", False, 20),
    ("service_type", "Xidmət növünə etiraz", "Objection to the type of service", "Возражение против вида услуги", False, 30),
    ("payment_missing", "Ödəniş əks olunmayıb", "Payment not reflected", "Оплата не отражена", False, 40),
    ("other", "Digər", "Other", "Другое", True, 90),
]


def load(apps, schema_editor):
    ReasonTemplate = apps.get_model("claims", "ReasonTemplate")
    for code, az, en, ru, requires_text, ordering in REASONS:
        ReasonTemplate.objects.update_or_create(code=code, defaults={
            "text_az": az, "text_en": en, "text_ru": ru, "requires_text": requires_text, "ordering": ordering,
        })


def unload(apps, schema_editor):
    apps.get_model("claims", "ReasonTemplate").objects.filter(code__in=[r[0] for r in REASONS]).delete()


class Migration(migrations.Migration):
    dependencies = [("claims", "0002_initial")]
    operations = [migrations.RunPython(load, unload)]
