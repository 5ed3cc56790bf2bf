"""The channel's registration message and the soft warnings on implausible readings."""

from datetime import date
from decimal import Decimal

import pytest
from django.utils import translation

from billing.gateway import InvoiceInfo, InvoiceLineInfo, MeterInfo
from claims.models import Channel
from claims.readings import reading_warnings
from claims.wording import registration_message, submit_label
from testkit.factories import ClaimFactory


@pytest.mark.django_db
def test_an_e_su_claim_gets_the_e_su_manuals_words_and_others_the_portals():
    esu = ClaimFactory(channel=Channel.ESU)
    portal = ClaimFactory(channel=Channel.PORTAL)
    assert registration_message(esu) == f"Müraciətiniz qeydə alındı. Müraciət nömrəniz: {esu.number}"
    assert registration_message(portal) == (
        "Müraciətiniz qeydiyyata alındı. Xidmətimizdən istifadə etdiyiniz üçün sizə təşəkkür edirik. "
        f"Müraciət nömrəniz: {portal.number}")
    english = registration_message(esu, language="en")
    assert english.startswith("Your claim has been") and english.endswith(f"Your claim number: {esu.number}")
    assert "Thank you" not in english
    assert submit_label(Channel.ESU) == "Göndər" and submit_label(Channel.PORTAL) == "Müraciət et"


def _invoice() -> InvoiceInfo:
    line = InvoiceLineInfo(meter_serial="M-1", seal_number="P-1", previous_reading=2866, current_reading=2886,
                           estimated=False, consumption=20)
    return InvoiceInfo(number="INV-1", subscriber_code="1020304050", period=date(2026, 10, 1),
                       period_start=date(2026, 10, 1), period_end=date(2026, 10, 31), issued_on=date(2026, 11, 2),
                       due_on=date(2026, 11, 20), consumption=20, water_amount=Decimal("14.00"),
                       sewerage_amount=Decimal("6.00"), total=Decimal("20.00"), lines=(line,))


METER = MeterInfo(serial_number="M-1", seal_number="P-1", last_reading=2886, last_reading_on=date(2026, 10, 31))


@pytest.mark.parametrize(("declared", "warned"), [
    (100, "son hesablanmış göstəricidən"),  # below the last billed reading: a slip of digits
    (9000, "adi istehlakdan xeyli çoxdur"),  # far above the usual use since then
    (2900, None),  # a month's usual use
])
def test_implausible_readings_get_a_word_plausible_ones_none(declared, warned):
    with translation.override("az"):
        warnings = reading_warnings(invoice=_invoice(), meters=[METER], readings={"M-1": declared},
                                    today=date(2026, 11, 30))
    if warned is None:
        assert warnings == {}
    else:
        assert warned in warnings["M-1"] and "Sayğac M-1" in warnings["M-1"]
