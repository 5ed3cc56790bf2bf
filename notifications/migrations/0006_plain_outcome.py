# The corrected claim's messages say the outcome in plain words ({{ outcome }}, claims.outcome:
# “Borcunuz 29,00 AZN azaldıldı; faktura 9,00 AZN oldu; …”) instead of a signed correction amount,
# the Russian texts use the glossary's “Абонентский код”, and the forwarded message names the
# branch in the message's language. Only the default wording is
# replaced: a template staff have rewritten keeps their text.

from django.db import migrations

REPLACEMENTS = {
    ("closed_corrected", "email", "az"): [(
        "Düzəlişin məbləği: {{ amount|floatformat:2 }} AZN\n"
        "{% if new_balance is not None %}Yeni borc qalığı: {{ new_balance|floatformat:2 }} AZN\n{% endif %}\n",
        "{{ outcome }}\n\n",
    )],
    ("closed_corrected", "email", "en"): [(
        "Amount of the correction: {{ amount|floatformat:2 }} AZN\n"
        "{% if new_balance is not None %}New balance: {{ new_balance|floatformat:2 }} AZN\n{% endif %}\n",
        "{{ outcome }}\n\n",
    )],
    ("closed_corrected", "email", "ru"): [(
        "Сумма корректировки: {{ amount|floatformat:2 }} AZN\n"
        "{% if new_balance is not None %}Новый остаток задолженности: {{ new_balance|floatformat:2 }} AZN\n"
        "{% endif %}\n",
        "{{ outcome }}\n\n",
    )],
    ("closed_corrected", "sms", "az"): [(
        "{{ number }} nömrəli müraciətiniz üzrə borcunuza {{ amount|floatformat:2 }} AZN düzəliş edildi."
        "{% if new_balance is not None %} Yeni borc qalığı: {{ new_balance|floatformat:2 }} AZN.{% endif %}",
        "{{ number }} nömrəli müraciətiniz üzrə: {{ outcome_short }}",
    )],
    ("closed_corrected", "sms", "en"): [(
        "Claim No. {{ number }}: your debt has been corrected by {{ amount|floatformat:2 }} AZN."
        "{% if new_balance is not None %} New balance: {{ new_balance|floatformat:2 }} AZN.{% endif %}",
        "Claim No. {{ number }}: {{ outcome_short }}",
    )],
    ("closed_corrected", "sms", "ru"): [(
        "Обращение № {{ number }}: задолженность скорректирована на {{ amount|floatformat:2 }} AZN."
        "{% if new_balance is not None %} Новый остаток: {{ new_balance|floatformat:2 }} AZN.{% endif %}",
        "Обращение № {{ number }}: {{ outcome_short }}",
    )],
    ("registered", "email", "ru"): [("Код абонента: {{ subscriber_code }}", "Абонентский код: {{ subscriber_code }}")],
    # The branch's name in the message's language (notification_context's branch_name).
    ("forwarded", "email", "az"): [("Məsul filial: {{ branch.name }}", "Məsul filial: {{ branch_name }}")],
    ("forwarded", "email", "en"): [("Responsible branch: {{ branch.name }}", "Responsible branch: {{ branch_name }}")],
    ("forwarded", "email", "ru"): [("Ответственный филиал: {{ branch.name }}",
                                    "Ответственный филиал: {{ branch_name }}")],
}


def _apply(apps, forward):
    NotificationTemplate = apps.get_model("notifications", "NotificationTemplate")
    for (event, medium, language), pairs in REPLACEMENTS.items():
        for row in NotificationTemplate.objects.filter(event=event, medium=medium, language=language):
            body = row.body
            for old, new in pairs:
                body = body.replace(old, new) if forward else body.replace(new, old)
            if body != row.body:
                row.body = body
                row.save(update_fields=["body"])


def forwards(apps, schema_editor):
    _apply(apps, True)


def backwards(apps, schema_editor):
    _apply(apps, False)


class Migration(migrations.Migration):
    dependencies = [("notifications", "0005_law_rules_events")]
    operations = [migrations.RunPython(forwards, backwards)]
