"""The e-mail footer tells the truth about replies: with a reply address (``EMAIL_REPLY_TO``, by
default the organisation's mailbox) a reply reaches it; without one, the message asks for none.
Only the footer's sentence changes, in every template that still has it (staff edits elsewhere
in a text are kept)."""

from django.db import migrations

SENTENCES = {
    "Bu məktub avtomatik göndərilib, ona cavab yazmayın.": (
        "{% if reply_to %}Bu məktub avtomatik göndərilib. Ona cavab yaza bilərsiniz: cavabınız {{ reply_to }} "
        "ünvanına çatacaq.{% else %}Bu məktub avtomatik göndərilib, ona cavab yazmayın.{% endif %}"),
    "This message was sent automatically; please do not reply to it.": (
        "{% if reply_to %}This message was sent automatically. You may reply to it: your reply reaches "
        "{{ reply_to }}.{% else %}This message was sent automatically; please do not reply to it.{% endif %}"),
    "Это письмо отправлено автоматически, отвечать на него не нужно.": (
        "{% if reply_to %}Это письмо отправлено автоматически. На него можно ответить: ответ придёт на адрес "
        "{{ reply_to }}.{% else %}Это письмо отправлено автоматически, отвечать на него не нужно.{% endif %}"),
}


def _swap(apps, pairs):
    Template = apps.get_model("notifications", "NotificationTemplate")
    for template in Template.objects.filter(medium="email"):
        body = template.body
        for old, new in pairs:
            if old in body and new not in body:
                body = body.replace(old, new)
        if body != template.body:
            template.body = body
            template.save(update_fields=["body"])


def forwards(apps, schema_editor):
    _swap(apps, SENTENCES.items())


def backwards(apps, schema_editor):
    _swap(apps, [(new, old) for old, new in SENTENCES.items()])


class Migration(migrations.Migration):
    dependencies = [("notifications", "0006_plain_outcome")]

    operations = [migrations.RunPython(forwards, backwards)]
