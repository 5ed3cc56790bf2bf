"""The default texts of migration 0002."""

import importlib
from datetime import date
from decimal import Decimal

import pytest
from django.apps import apps
from django.db import transaction

from notifications.models import CITIZEN_EVENTS, Event, Medium, NotificationTemplate
from notifications.services import notification_queue
from notifications.sms import is_gsm7

migration = importlib.import_module("notifications.migrations.0002_default_templates")

pytestmark = pytest.mark.django_db

EXTRAS = {
    Event.FORWARDED: {"branch": None},
    Event.INSPECTION_SCHEDULED: {"visit_on": date(2026, 3, 5), "window": "09:00-13:00"},
    Event.INFO_REQUESTED: {"question": "Sayğacın seriya nömrəsi görünən şəklini göndərin."},
    Event.DEADLINE_EXTENDED: {"new_due_on": date(2026, 4, 10), "reason": "Əlavə yoxlama tələb olunur."},
    Event.CLOSED_CORRECTED: {"amount": Decimal("-24.50"), "new_balance": Decimal("11.20")},
    Event.CLOSED_REFUSED: {"reason": "Göstərici düzgün oxunub."},
}
# What each medium must show of the extras (the SMS points to the portal for a long question).
SHOWN = {
    Event.INSPECTION_SCHEDULED: (["05.03.2026", "09:00-13:00"], ["05.03.2026", "09:00-13:00"]),
    Event.INFO_REQUESTED: (["Sayğacın seriya nömrəsi görünən şəklini göndərin.", "/claims/"], ["/claims/"]),
    Event.DEADLINE_EXTENDED: (["10.04.2026", "Əlavə yoxlama tələb olunur."], ["10.04.2026"]),
    Event.CLOSED_CORRECTED: (["24", "50 AZN", "11", "20 AZN"], ["24", "50 AZN", "11", "20 AZN"]),
    Event.CLOSED_REFUSED: (["Göstərici düzgün oxunub."], ["Göstərici düzgün oxunub."]),
}
FREE_TEXT = {Event.INFO_REQUESTED, Event.DEADLINE_EXTENDED, Event.CLOSED_REFUSED}


def test_every_event_medium_and_language_has_a_template(default_templates):
    keys = set(NotificationTemplate.objects.values_list("event", "medium", "language"))
    assert keys == {(e, m, lang) for e in CITIZEN_EVENTS for m in Medium.values for lang in ("az", "en", "ru")}
    assert not NotificationTemplate.objects.filter(medium=Medium.EMAIL, subject="").exists()


@pytest.mark.parametrize("language", ["az", "en", "ru"])
@pytest.mark.parametrize("event", CITIZEN_EVENTS)
def test_every_template_renders(make_claim, event, language):
    claim = make_claim(language=language)
    with transaction.atomic():
        rows = {d.medium: d for d in notification_queue(claim=claim, event=event, extra=EXTRAS.get(event))}
    assert {d.status for d in rows.values()} == {"created"}, [d.last_error for d in rows.values()]
    for row in rows.values():
        assert row.language == language
        assert claim.number in row.body
        assert "{{" not in row.body and "{%" not in row.body
    email_shows, sms_shows = SHOWN.get(event, ([], []))
    for text in email_shows:
        assert text in rows[Medium.EMAIL].body, (event, language, text)
    for text in sms_shows:
        assert text in rows[Medium.SMS].body, (event, language, text)
    email = rows[Medium.EMAIL]
    assert claim.number in email.subject
    assert "\n" not in email.subject
    assert f"/claims/{claim.number}/" in email.body or event == Event.WITHDRAWN
    sms = rows[Medium.SMS]
    assert sms.segments <= 2, (event, language, sms.body)
    if language == "en" and event not in FREE_TEXT:
        assert is_gsm7(sms.body), sms.body  # English SMS stay GSM-7: 160 characters a segment


def test_the_migration_is_reversible(default_templates):
    count = NotificationTemplate.objects.count()
    migration.unload(apps, None)
    # What is left came with later migrations (inspection_cancelled, 0004; the law's remaining rules, 0005).
    assert set(NotificationTemplate.objects.values_list("event", flat=True)) == {
        "inspection_cancelled", "closed_redirected", "closed_unconsidered", "info_reminder", "info_expired"}
    migration.load(apps, None)
    assert NotificationTemplate.objects.count() == count == 54 + 4 * 6


def test_loading_keeps_texts_staff_have_edited(default_templates):
    NotificationTemplate.objects.filter(event=Event.WITHDRAWN, medium=Medium.SMS, language="az").update(body="x")
    migration.load(apps, None)
    assert NotificationTemplate.objects.get(event=Event.WITHDRAWN, medium=Medium.SMS, language="az").body == "x"
