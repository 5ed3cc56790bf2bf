"""Pages, e-mails, SMS and letters use one glossary per language (core.glossary): this fails
on any text that names a glossary term another way."""

import gettext
import importlib
from pathlib import Path

import pytest
from django.conf import settings

from commission.letters import ENDING_TEXTS, TEXTS
from core.glossary import mismatches

LOCALE = Path(settings.BASE_DIR) / "locale"


def _po_pairs(language: str):
    # The compiled catalogue (core/tests/test_translations.py holds it in step with the .po).
    with (LOCALE / language / "LC_MESSAGES" / "django.mo").open("rb") as fh:
        catalog = gettext.GNUTranslations(fh)._catalog  # type: ignore[attr-defined]
    for key, text in catalog.items():
        msgid = key[0] if isinstance(key, tuple) else key
        if msgid:
            yield f"po:{msgid[:50]}", msgid, text


def _letter_pairs(language: str):
    for table in (TEXTS, ENDING_TEXTS):
        for key, az in table["az"].items():
            yield f"letter:{key}", az, table[language].get(key, "")


@pytest.mark.parametrize("language", ["en", "ru"])
def test_pages_and_letters_use_the_glossary(language):
    problems = [f"{where}: {p}" for where, az, text in [*_po_pairs(language), *_letter_pairs(language)]
                for p in mismatches(az, text, language)]
    assert problems == []


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "ru"])
def test_e_mails_and_sms_use_the_glossary(language):
    from notifications.models import NotificationTemplate

    if not NotificationTemplate.objects.exists():
        from django.apps import apps

        importlib.import_module("notifications.migrations.0002_default_templates").load(apps, None)
        importlib.import_module("notifications.migrations.0005_law_rules_events").load(apps, None)
        importlib.import_module("notifications.migrations.0006_plain_outcome").forwards(apps, None)
    rows = {(t.event, t.medium, t.language): t for t in NotificationTemplate.objects.all()}
    problems = []
    for (event, medium, lang), row in rows.items():
        if lang != language or (event, medium, "az") not in rows:
            continue
        az = rows[(event, medium, "az")]
        for part in ("subject", "body"):
            problems += [f"{event}/{medium}/{part}: {p}" for p in
                         mismatches(getattr(az, part), getattr(row, part), language)]
    assert problems == []


def test_a_mismatch_is_caught():
    assert mismatches("Xətalı faktura", "Ошибочный счёт", "ru")
    assert mismatches("Müraciət", "Application", "en")
    assert not mismatches("Xətalı faktura", "Disputed invoice", "en")
