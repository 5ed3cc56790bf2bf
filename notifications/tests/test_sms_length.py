"""Every SMS fits in two segments, in every language, with the longest values a real claim has:
UCS-2 (Azerbaijani and Russian letters are not GSM-7) allows 67 characters a part, so a third
part would cost the utility half as much again for every message."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.db import transaction
from django.template import Context, Template

from notifications.models import Medium, NotificationTemplate
from notifications.services import notification_context, notification_queue
from notifications.sms import sms_fit, sms_segments

pytestmark = pytest.mark.django_db

# The longest fixed values: a six-digit claim number, the production portal, the organisation's
# full legal name, a two-digit day and month, the longer visit window, five-digit amounts.
LONGEST = {
    "visit_on": date(2026, 12, 31), "new_due_on": date(2026, 12, 31), "window": "13:00–18:00",
    "amount": Decimal("-12345.67"), "new_balance": Decimal("12345.67"), "branch": None,
}
# Free text written by staff: as long as they like.
FREE_TEXT = {
    "reason": "Sayğacın göstəricisi nəzarətçi tərəfindən düzgün oxunub və hesablama tarifə uyğun aparılıb; " * 5,
    "question": "Sayğacın seriya nömrəsi və göstəricisi aydın görünən yeni şəklini göndərin, zəhmət olmasa. " * 5,
}


@pytest.fixture
def longest_claim(make_claim, settings):
    settings.ORGANISATION = settings.ORGANISATION | {"portal_url": "https://e-xidmet.azersu.az",
                                                     "name": "“Azərsu” Açıq Səhmdar Cəmiyyəti"}
    return lambda language: make_claim(number="BA-2026-123456", language=language)


def sms_templates():
    return list(NotificationTemplate.objects.filter(medium=Medium.SMS).order_by("event", "language"))


def test_every_sms_template_fits_two_segments_without_cutting_its_fixed_text(default_templates, longest_claim):
    templates = sms_templates()
    assert {t.language for t in templates} == {"az", "en", "ru"}
    too_long = []
    for template in templates:
        claim = longest_claim(template.language)
        context = notification_context(claim=claim, extra=LONGEST | dict.fromkeys(FREE_TEXT, ""))
        text = " ".join(Template(template.body).render(Context(context, autoescape=False)).split())
        if sms_segments(text) > 2:
            too_long.append((template.event, template.language, sms_segments(text), text))
        claim.delete()
    assert too_long == []


def test_every_sms_sent_fits_two_segments_however_long_the_free_text(default_templates, longest_claim):
    for template in sms_templates():
        claim = longest_claim(template.language)
        with transaction.atomic():
            rows = notification_queue(claim=claim, event=template.event, extra=LONGEST | FREE_TEXT)
        [sms] = [r for r in rows if r.medium == Medium.SMS]
        assert sms.status == "created", sms.last_error
        assert sms.segments <= 2 and sms_segments(sms.body) == sms.segments, (template.event, sms.body)
        assert claim.number in sms.body  # what was cut was the free text at the end
        claim.delete()


def test_a_long_text_is_cut_at_a_word_with_an_ellipsis():
    text = "Müraciət BA-2026-123456 üzrə imtina edildi. Səbəb: " + "göstərici düzgün oxunub " * 10
    fitted = sms_fit(text, 2)
    assert sms_segments(fitted) == 2 and fitted.endswith("…") and text.startswith(fitted[:-1])
    assert sms_fit("Claim No. BA-2026-1: refused. Reason: " + "meter read right " * 30, 2).endswith("...")
    assert sms_fit("Qısa mətn", 2) == "Qısa mətn"
