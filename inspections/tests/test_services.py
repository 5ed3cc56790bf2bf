from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone
from PIL import Image

from audit.models import AuditEntry
from claims.evidence import photo_store
from claims.models import Claim, ClaimEvent
from claims.services import ClaimError
from claims.transitions import ClaimStatus
from inspections.models import Inspection, InspectionReading, InspectionStatus, SealState, VisitWindow
from inspections.services import (
    inspection_no_access,
    inspection_order,
    inspection_record_result,
    inspections_cancel_open,
)
from notifications.models import Delivery
from testkit.factories import register

from .conftest import next_sunday, next_working_day, staff

pytestmark = pytest.mark.django_db


def _result(inspection, by, jpeg_upload, **overrides):
    photo = photo_store(jpeg_upload(exif=True))
    readings = {ev.meter_serial: ev.declared_reading for ev in inspection.claim.evidence.all()}
    kwargs = dict(inspection=inspection, actor=by, readings=readings, seal_state=SealState.INTACT,
                  note="Sayğac işləkdir.", photo_path=photo.path, photo_content_type=photo.content_type)
    kwargs.update(overrides)
    return inspection_record_result(**kwargs)


def _snapshot(claim):
    return (Claim.objects.get(pk=claim.pk).status, Inspection.objects.count(), InspectionReading.objects.count(),
            ClaimEvent.objects.filter(claim=claim).count(), AuditEntry.objects.filter(claim=claim).count(),
            Delivery.objects.filter(claim=claim).count())


# --- ordering ------------------------------------------------------------------------------

def test_order_moves_the_claim_to_inspection_and_tells_the_citizen_date_and_window(
        claim_in_review, operator, inspector, visit_day):
    inspection = inspection_order(claim=claim_in_review, actor=operator, inspector=inspector, visit_on=visit_day,
                                  window=VisitWindow.AFTERNOON)

    claim = Claim.objects.get(pk=claim_in_review.pk)
    assert claim.status == ClaimStatus.INSPECTION
    assert (inspection.status, inspection.inspector, inspection.ordered_by) == ("scheduled", inspector, operator)
    event = claim.events.get(kind="inspection_ordered")
    assert event.params == {"visit_on": visit_day.isoformat(), "window": "13:00–18:00"}
    assert f"{visit_day:%d.%m.%Y}, 13:00–18:00" in event.text
    assert AuditEntry.objects.get(claim=claim, action="claim_inspection_ordered").after["inspector"] == inspector.pk
    deliveries = {d.medium: d for d in Delivery.objects.filter(claim=claim, event="inspection_scheduled")}
    assert set(deliveries) == {"email", "sms"}
    assert deliveries["email"].recipient == "resad@example.az"
    assert deliveries["sms"].recipient == "+994501234567"
    for d in deliveries.values():
        assert d.status == "created"
        assert f"{visit_day:%d.%m.%Y}" in d.body
        assert "13:00–18:00" in d.body
    assert claim.number in deliveries["email"].subject


def test_the_citizen_is_told_in_their_language(citizen, account, operator, inspector, visit_day, jpeg_upload):
    from claims.services import claim_take

    claim = claim_take(claim=register(citizen, account, key="k1", language="en"), actor=operator)
    inspection_order(claim=claim, actor=operator, inspector=inspector, visit_on=visit_day, window=VisitWindow.MORNING)
    email = Delivery.objects.get(claim=claim, event="inspection_scheduled", medium="email")
    assert email.language == "en"
    assert "Date: " + f"{visit_day:%d.%m.%Y}" in email.body and "09:00–13:00" in email.body


@pytest.mark.parametrize("state", ["forwarded", "inspection"])
def test_ordering_from_a_wrong_state_is_refused_and_changes_nothing(state, citizen, account, operator, inspector,
                                                                     visit_day, jpeg_upload, order):
    from claims.services import claim_take
    claim = register(citizen, account, key="k1")
    if state == "inspection":
        order(claim_take(claim=claim, actor=operator))
    before = _snapshot(claim)
    with pytest.raises(ClaimError, match="yalnız araşdırılan müraciət"):
        inspection_order(claim=claim, actor=operator, inspector=inspector, visit_on=visit_day,
                         window=VisitWindow.MORNING)
    assert _snapshot(claim) == before


def test_an_inspector_of_another_branch_cannot_be_ordered(claim_in_review, operator, foreign_inspector, visit_day):
    before = _snapshot(claim_in_review)
    with pytest.raises(ClaimError, match="filialına aid deyil"):
        inspection_order(claim=claim_in_review, actor=operator, inspector=foreign_inspector, visit_on=visit_day,
                         window=VisitWindow.MORNING)
    assert _snapshot(claim_in_review) == before


def test_an_operator_of_another_branch_cannot_order(claim_in_review, other_branch, inspector, visit_day):
    stranger = staff("op-gnc-1", "operator", other_branch)
    with pytest.raises(ClaimError, match="səlahiyyətiniz yoxdur"):
        inspection_order(claim=claim_in_review, actor=stranger, inspector=inspector, visit_on=visit_day,
                         window=VisitWindow.MORNING)
    assert Claim.objects.get(pk=claim_in_review.pk).status == ClaimStatus.IN_REVIEW


@pytest.mark.parametrize(("day", "message"), [
    (lambda: timezone.localdate() - timedelta(days=1), "keçmişdə ola bilməz"),
    (next_sunday, "iş günü olmalıdır"),
])
def test_a_past_day_or_a_sunday_is_refused(day, message, claim_in_review, operator, inspector):
    before = _snapshot(claim_in_review)
    with pytest.raises(ClaimError, match=message):
        inspection_order(claim=claim_in_review, actor=operator, inspector=inspector, visit_on=day(),
                         window=VisitWindow.MORNING)
    assert _snapshot(claim_in_review) == before


# --- the result ----------------------------------------------------------------------------

def test_the_result_returns_the_claim_to_review_with_readings_and_a_clean_photo(
        inspection, inspector, jpeg_upload, django_capture_on_commit_callbacks):
    draft = photo_store(jpeg_upload(exif=True))
    ev = inspection.claim.evidence.get()
    with django_capture_on_commit_callbacks(execute=True):
        done = inspection_record_result(
            inspection=inspection, actor=inspector, readings={ev.meter_serial: 1234}, seal_state=SealState.BROKEN,
            note="Plomb qırılıb.", photo_path=draft.path, photo_content_type=draft.content_type)

    assert done.status == InspectionStatus.DONE and done.recorded_at is not None
    assert done.seal_state == "broken"
    assert list(done.readings.values_list("meter_serial", "verified_reading")) == [(ev.meter_serial, 1234)]
    claim = Claim.objects.get(pk=inspection.claim_id)
    assert claim.status == ClaimStatus.IN_REVIEW
    assert claim.events.filter(kind="inspection_done").exists()
    audit = AuditEntry.objects.get(claim=claim, action="claim_inspection_done")
    assert audit.after["readings"] == {ev.meter_serial: 1234}
    assert audit.after["seal_state"] == "broken"
    with done.photo.open("rb") as fh:
        data = fh.read()
    assert b"PhoneMaker" not in data
    with Image.open(done.photo.path) as img:
        assert not img.getexif()
    assert not default_storage.exists(draft.path)  # the draft went once the result was committed


def test_every_meter_needs_a_reading(two_meter_claim, order, inspector, jpeg_upload):
    inspection = order(two_meter_claim)
    first = two_meter_claim.evidence.first()
    before = _snapshot(two_meter_claim)
    with pytest.raises(ClaimError, match="yoxlanılmış göstəricini daxil edin"):
        _result(inspection, inspector, jpeg_upload, readings={first.meter_serial: 100})
    assert _snapshot(two_meter_claim) == before
    assert Inspection.objects.get(pk=inspection.pk).status == InspectionStatus.SCHEDULED


def test_a_photo_is_required(inspection, inspector, jpeg_upload):
    before = _snapshot(inspection.claim)
    with pytest.raises(ClaimError, match="şəklini yükləyin"):
        _result(inspection, inspector, jpeg_upload, photo_path="")
    assert _snapshot(inspection.claim) == before


def test_only_the_assigned_inspector_or_an_administrator_records(inspection, second_inspector, admin_user,
                                                                 jpeg_upload):
    with pytest.raises(ClaimError, match="sizə təyin edilməyib"):
        _result(inspection, second_inspector, jpeg_upload)
    assert Inspection.objects.get(pk=inspection.pk).status == InspectionStatus.SCHEDULED
    assert _result(inspection, admin_user, jpeg_upload).status == InspectionStatus.DONE


def test_a_result_is_recorded_once(inspection, inspector, jpeg_upload):
    _result(inspection, inspector, jpeg_upload)
    with pytest.raises(ClaimError, match="artıq qeyd edilib"):
        _result(inspection, inspector, jpeg_upload)
    assert InspectionReading.objects.count() == 1


def test_no_result_for_a_claim_withdrawn_meanwhile(inspection, inspector, citizen, jpeg_upload):
    from claims.services import claim_withdraw

    claim_withdraw(claim=inspection.claim, actor=citizen)
    with pytest.raises(ClaimError, match="artıq qüvvədə deyil"):
        _result(inspection, inspector, jpeg_upload)
    assert InspectionReading.objects.count() == 0


# --- no access -----------------------------------------------------------------------------

def test_no_access_reschedules_for_the_same_inspector_and_tells_the_citizen(inspection, inspector):
    new_day = next_working_day(3)
    new = inspection_no_access(inspection=inspection, actor=inspector, new_visit_on=new_day,
                               new_window=VisitWindow.AFTERNOON, note="Qapını açan olmadı.")

    old = Inspection.objects.get(pk=inspection.pk)
    assert old.status == InspectionStatus.NO_ACCESS and old.note == "Qapını açan olmadı."
    assert (new.status, new.inspector, new.visit_on, new.window) == ("scheduled", inspector, new_day, "13-18")
    claim = Claim.objects.get(pk=inspection.claim_id)
    assert claim.status == ClaimStatus.INSPECTION
    assert f"{new_day:%d.%m.%Y}, 13:00–18:00" in claim.events.get(kind="inspection_rescheduled").text
    sms = Delivery.objects.filter(claim=claim, event="inspection_scheduled", medium="sms").order_by("id")
    assert sms.count() == 2
    assert f"{new_day:%d.%m.%Y}" in sms.last().body and "13:00–18:00" in sms.last().body


def test_no_access_needs_a_new_working_day(inspection, inspector):
    before = _snapshot(inspection.claim)
    with pytest.raises(ClaimError, match="iş günü olmalıdır"):
        inspection_no_access(inspection=inspection, actor=inspector, new_visit_on=next_sunday(),
                             new_window=VisitWindow.MORNING, note="")
    with pytest.raises(ClaimError, match="sizə təyin edilməyib"):
        inspection_no_access(inspection=inspection, actor=staff("insp-x", "inspector", inspection.claim.branch),
                             new_visit_on=next_working_day(2), new_window=VisitWindow.MORNING, note="")
    assert _snapshot(inspection.claim) == before


def test_withdrawal_cancels_the_open_visits(inspection, citizen, inspector, visit_day):
    from claims.services import claim_withdraw
    from inspections.selectors import visits_of_inspector

    claim_withdraw(claim=inspection.claim, actor=citizen)
    assert inspections_cancel_open(claim=inspection.claim, actor=None) == 0  # already cancelled
    assert Inspection.objects.get(pk=inspection.pk).status == InspectionStatus.CANCELLED
    assert visits_of_inspector(inspector=inspector, day=visit_day) == []
    assert AuditEntry.objects.filter(claim=inspection.claim, action="inspections_cancelled").exists()
