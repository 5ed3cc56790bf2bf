from datetime import UTC, datetime

import pytest

from claims.models import Claim
from claims.transitions import ClaimStatus
from conftest import baku
from inspections.forms import OrderInspectionForm
from inspections.services import inspection_order

pytestmark = pytest.mark.django_db


# Friday 21:30 in UTC is already Saturday 5 December in Baku: the date picker starts there.
@pytest.mark.time_machine(datetime(2026, 12, 4, 21, 30, tzinfo=UTC), tick=False)
def test_the_order_form_offers_only_the_branchs_inspectors(branch, inspector, second_inspector, foreign_inspector,
                                                           operator):
    form = OrderInspectionForm(branch_id=branch.pk)
    choices = [label for _value, label in form.fields["inspector"].choices]
    assert choices == ["Nəzarətçini seçin", "Tural Həsənov", "Elçin Quliyev"]
    html = str(form["visit_on"])
    assert 'type="date"' in html and 'min="2026-12-05"' in html


def test_a_valid_order_form_is_all_the_view_needs(claim_in_review, operator, inspector, visit_day):
    form = OrderInspectionForm({"inspector": inspector.pk, "visit_on": visit_day.isoformat(), "window": "09-13"},
                               branch_id=claim_in_review.branch_id)
    assert form.is_valid(), form.errors
    inspection_order(claim=claim_in_review, actor=operator, **form.cleaned_data)
    assert Claim.objects.get(pk=claim_in_review.pk).status == ClaimStatus.INSPECTION


NOT_A_WORKING_DAY = "Yoxlama tarixi iş günü olmalıdır (həftəsonu və bayram günləri olmaz)."


@pytest.mark.time_machine(baku(2026, 12, 2), tick=False)  # a Wednesday
@pytest.mark.parametrize(("data", "field", "message"), [
    ({}, "inspector", "Nəzarətçini seçin."),
    ({}, "visit_on", "Yoxlama tarixini daxil edin."),
    ({}, "window", "Yoxlama vaxtını seçin."),
    ({"visit_on": "31.02.2030"}, "visit_on", "Tarixi düzgün yazın, məsələn 27.11.2026."),
    ({"visit_on": "2026-12-01"}, "visit_on", "Yoxlama tarixi keçmişdə ola bilməz."),  # yesterday
    ({"visit_on": "2026-12-06"}, "visit_on", NOT_A_WORKING_DAY),  # Sunday
    ({"window": "08-09"}, "window", "Yoxlama vaxtını siyahıdan seçin."),
    ({"inspector": "foreign"}, "inspector", "Nəzarətçini siyahıdan seçin."),
])
def test_the_order_form_says_what_is_wrong_next_to_the_field(data, field, message, branch, inspector,
                                                             foreign_inspector):
    special = {"foreign": foreign_inspector.pk}
    form = OrderInspectionForm({k: special.get(v, v) for k, v in data.items()}, branch_id=branch.pk)
    assert not form.is_valid()
    assert form.errors[field] == [message]


@pytest.mark.time_machine(baku(2026, 12, 2), tick=False)  # a Wednesday
@pytest.mark.parametrize(("day", "working"), [
    ("2026-12-02", True),    # today
    ("2026-12-04", True),    # Friday
    ("2026-12-05", True),    # a Saturday the Cabinet made a working day
    ("2026-12-06", False),   # Sunday
    ("2026-12-07", False),   # a Monday the Cabinet made a day off
    ("2026-12-12", False),   # an ordinary Saturday
    ("2026-12-31", False),   # World Azerbaijanis Solidarity Day
    ("2027-01-04", False),   # New Year's second day, a Saturday, moved to Monday
    ("2027-01-05", True),
])
def test_the_visit_day_follows_the_working_day_calendar(day, working, cabinet_transfers, branch, inspector):
    form = OrderInspectionForm({"inspector": inspector.pk, "visit_on": day, "window": "09-13"}, branch_id=branch.pk)
    assert form.is_valid() is working
    assert form.errors.get("visit_on") == (None if working else [NOT_A_WORKING_DAY])
