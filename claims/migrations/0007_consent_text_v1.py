"""The first published consent text (Law No. 998-IIIQ on personal data: purpose, data and
operations, validity and how to revoke), in the three languages of the portal. Staff publish
later versions in the admin; claims keep the version they were filed under."""

from datetime import UTC, datetime

from django.db import migrations

PURPOSES = ["examine_claim", "notify", "correct_debt"]

TEXTS = {
    "az": (
        "Şəxsi məlumatlarımın (FİN, ad, ünvan, telefon, e-poçt, sayğacın şəkli) bu müraciətə baxılması, "
        "müraciət üzrə mənə SMS və e-poçt ilə məlumat verilməsi və borca düzəlişin edilməsi məqsədilə toplanmasına, "
        "saxlanmasına və emalına razıyam. Razılıq müraciətə baxılıb başa çatanadək və ondan sonra təşkilatın "
        "müəyyən etdiyi saxlama müddətinədək qüvvədədir. Razılığımı istənilən vaxt “Mənim məlumatlarım” "
        "səhifəsində geri götürə bilərəm."
    ),
    "en": (
        "I consent to my personal data (FIN, name, address, phone, e-mail, photo of the meter) being collected, "
        "stored and processed to examine this claim, to inform me about it by SMS and e-mail, and to correct the "
        "debt. The consent is valid until the claim is closed and then for the retention period the organisation "
        "sets. I may withdraw it at any time on the “My data” page."
    ),
    "ru": (
        "Я согласен(на) на сбор, хранение и обработку моих персональных данных (FIN, имя, адрес, телефон, e-mail, "
        "фото счётчика) для рассмотрения этого обращения, уведомления меня о нём по SMS и e-mail и исправления "
        "долга. Согласие действует до закрытия обращения и затем в течение срока хранения, установленного "
        "организацией. Я могу отозвать его в любое время на странице «Мои данные»."
    ),
}


def publish(apps, schema_editor):
    ConsentText = apps.get_model("claims", "ConsentText")
    for language, text in TEXTS.items():
        ConsentText.objects.get_or_create(version=1, language=language, defaults={
            "text": text, "purposes": PURPOSES, "published_at": datetime(2019, 1, 1, tzinfo=UTC)})


def unpublish(apps, schema_editor):
    apps.get_model("claims", "ConsentText").objects.filter(version=1, records__isnull=True).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("claims", "0006_law_rules_and_consent"),
    ]

    operations = [migrations.RunPython(publish, unpublish)]
