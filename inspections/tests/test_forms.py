from datetime import timedelta

import pytest
from django.utils import timezone

from claims.models import Claim
from claims.transitions import ClaimStatus
from inspections.forms import OrderInspectionForm
from inspections.services import inspection_order

from .conftest import next_sunday

pytestmark = pytest.mark.django_db


def test_the_order_form_offers_only_the_branchs_inspectors(branch, inspector, second_inspector, foreign_inspector,
                                                           operator):
    form = OrderInspectionForm(branch_id=branch.pk)
    choices = [label for _value, label in form.fields["inspector"].choices]
    assert choices == ["Nəzarətçini seçin", "Tural Həsənov", "Elçin Quliyev"]
    html = str(form["visit_on"])
    assert 'type="date"' in html and f'min="{timezone.localdate().isoformat()}"' in html


def test_a_valid_order_form_is_all_the_view_needs(claim_in_review, operator, inspector, visit_day):
    form = OrderInspectionForm({"inspector": inspector.pk, "visit_on": visit_day.isoformat(), "window": "09-13"},
                               branch_id=claim_in_review.branch_id)
    assert form.is_valid(), form.errors
    inspection_order(claim=claim_in_review, by=operator, **form.cleaned_data)
    assert Claim.objects.get(pk=claim_in_review.pk).status == ClaimStatus.INSPECTION


@pytest.mark.parametrize(("data", "field", "message"), [
    ({}, "inspector", "Nəzarətçini seçin."),
    ({}, "visit_on", "Yoxlama tarixini daxil edin."),
    ({}, "window", "Yoxlama vaxtını seçin."),
    ({"visit_on": "31.02.2030"}, "visit_on", "Tarixi düzgün yazın, məsələn 27.11.2026."),
    ({"visit_on": "yesterday"}, "visit_on", "Yoxlama tarixi keçmişdə ola bilməz."),
    ({"visit_on": "sunday"}, "visit_on", "Yoxlama tarixi iş günü olmalıdır (həftəsonu və bayram günləri olmaz)."),
    ({"window": "08-09"}, "window", "Yoxlama vaxtını siyahıdan seçin."),
    ({"inspector": "foreign"}, "inspector", "Nəzarətçini siyahıdan seçin."),
])
def test_the_order_form_says_what_is_wrong_next_to_the_field(data, field, message, branch, inspector,
                                                             foreign_inspector):
    special = {"yesterday": (timezone.localdate() - timedelta(days=1)).isoformat(),
               "sunday": next_sunday().isoformat(), "foreign": foreign_inspector.pk}
    form = OrderInspectionForm({k: special.get(v, v) for k, v in data.items()}, branch_id=branch.pk)
    assert not form.is_valid()
    assert form.errors[field] == [message]
