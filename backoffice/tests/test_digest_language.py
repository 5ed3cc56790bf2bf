from datetime import date

import pytest

from backoffice.services import deadline_digest_queue
from claims.models import Claim
from conftest import baku
from notifications.models import Delivery


@pytest.mark.django_db
@pytest.mark.time_machine(baku(2026, 12, 7, 8), tick=False)  # a Monday morning
@pytest.mark.parametrize(("language", "subject", "heading", "day"), [
    ("az", "1 gecikmiş", "Müddəti keçmiş müraciətlər", "04.12.2026"),
    ("en", "1 overdue", "Overdue claims", "04.12.2026"),
    ("ru", "1 просрочено", "Просроченные обращения", "04.12.2026"),
])
def test_the_digest_is_written_in_the_staff_language(claim, operator, settings, language, subject, heading, day):
    settings.STAFF_LANGUAGE = language
    operator.email = "op@example.az"
    operator.save()
    Claim.objects.filter(pk=claim.pk).update(due_on=date(2026, 12, 4))
    assert deadline_digest_queue() == 1
    mail = Delivery.objects.get(event="deadline_digest")
    assert subject in mail.subject and heading in mail.body and day in mail.body and mail.language == language
