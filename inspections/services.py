"""Every change to an inspection: ordering one, recording its result, a visit where nobody
opened the door. Each service locks the claim first (then the inspection), checks the state
machine, and writes the inspection, the claim's timeline, the audit entry and the citizen's
notifications in one transaction."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record
from claims import workflow
from claims.deadlines import WorkingCalendar
from claims.models import Claim
from claims.transitions import ClaimStatus
from core.aftercommit import delete_after_commit
from core.errors import NotAllowed, ServiceError
from identity.models import User
from identity.roles import inspectors_of

from .models import Inspection, InspectionReading, InspectionStatus, SealState, VisitWindow

MAX_READING = 9_999_999


def window_label(window: str) -> Any:
    """The window as people read it ("09:00–13:00"); lazy, so a notification renders it in
    the citizen's language."""
    return VisitWindow(window).label


def when_text(visit_on: date, window: str) -> str:
    """"27.11.2026, 09:00–13:00": the date and window written into the claim's timeline."""
    return f"{visit_on:%d.%m.%Y}, {window_label(window)}"


def visit_day_error(visit_on: date, *, today: date | None = None,
                    calendar: WorkingCalendar | None = None) -> str | None:
    """Why ``visit_on`` cannot be a visit day (None when it can). Forms use it to put the
    message next to the date field; the services check it again."""
    today = today or timezone.localdate()
    if visit_on < today:
        return _("Yoxlama tarixi keçmişdə ola bilməz.")
    if not (calendar or WorkingCalendar()).is_working_day(visit_on):
        return _("Yoxlama tarixi iş günü olmalıdır (həftəsonu və bayram günləri olmaz).")
    return None


def _check_visit(visit_on: date, window: str, *, prefix: str = "") -> None:
    if window not in VisitWindow.values:
        raise ServiceError(_("Yoxlama vaxtını seçin."), field=f"{prefix}window")
    error = visit_day_error(visit_on)
    if error:
        raise ServiceError(error, field=f"{prefix}visit_on")


def _lock_open_visit(inspection: Inspection, *, actor: User, move: workflow.Move) -> tuple[Inspection, Claim]:
    """Lock the claim, then the inspection (the order every service here takes), and check
    that ``actor`` may make ``move`` on a visit that is still to be made."""
    claim = workflow.lock(inspection.claim)
    inspection = Inspection.objects.select_for_update().get(pk=inspection.pk)
    inspection.claim = claim
    context = workflow.Context(inspection=inspection)
    if not move.may(actor, claim, context):
        raise NotAllowed(_("Bu yoxlama sizə təyin edilməyib."), code=f"forbidden_{move.name}")
    if inspection.status == InspectionStatus.DONE:
        raise ServiceError(_("Bu yoxlamanın nəticəsi artıq qeyd edilib."))
    if inspection.status != InspectionStatus.SCHEDULED:
        raise ServiceError(_("Bu yoxlama artıq qüvvədə deyil: %(status)s.")
                           % {"status": inspection.get_status_display()})
    if claim.status != ClaimStatus.INSPECTION:
        raise ServiceError(_("Müraciət artıq yerində yoxlama mərhələsində deyil (%(status)s); səfər tələb olunmur.")
                           % {"status": claim.get_status_display()})
    workflow.check(move, claim=claim, actor=actor, context=context)
    return inspection, claim


@transaction.atomic
def inspection_order(*, claim: Claim, actor: User, inspector: User, visit_on: date, window: str) -> Inspection:
    """Send an inspector of the claim's branch to the address on a working day and window.

    The claim moves from review to inspection and the citizen is told the date and window by
    e-mail and SMS. Raises ServiceError (nothing written) when the claim is not in review, ``by``
    may not work on it, the inspector is not one of the branch's, or the day is past or not a
    working day.
    """
    claim = workflow.lock(claim)
    if claim.status not in workflow.ORDER_INSPECTION.sources:
        raise ServiceError(_("Yerində yoxlama yalnız araşdırılan müraciət üçün təyin edilə bilər "
                             "(müraciətin statusu: %(status)s).") % {"status": claim.get_status_display()},
                           code=workflow.IllegalMove.code)
    workflow.check(workflow.ORDER_INSPECTION, claim=claim, actor=actor)
    if not inspectors_of(claim.branch_id).filter(pk=inspector.pk).exists():
        raise ServiceError(_("Seçilmiş nəzarətçi bu müraciətin filialına aid deyil."), field="inspector")
    _check_visit(visit_on, window)

    inspection = Inspection.objects.create(
        claim=claim, inspector=inspector, ordered_by=actor, ordered_at=timezone.now(), visit_on=visit_on,
        window=window, status=InspectionStatus.SCHEDULED,
    )
    workflow.perform(workflow.ORDER_INSPECTION, claim=claim, actor=actor,
                     params={"visit_on": visit_on.isoformat(), "window": str(VisitWindow(window).label)},
                     audit={"inspection": inspection.pk, "inspector": inspector.pk,
                            "visit_on": visit_on.isoformat(), "window": window},
                     notify_extra={"visit_on": visit_on, "window": window_label(window)})
    return inspection


@transaction.atomic
def inspection_record_result(*, inspection: Inspection, actor: User, readings: dict[str, int], seal_state: str,
                             note: str, photo_path: str, photo_content_type: str) -> Inspection:
    """Record what the inspector found: one verified reading per meter of the claim, the seal's
    condition, a note and a photo (a file stored by ``claims.evidence.photo_store``, copied to
    the inspection). The inspection is done and the claim returns to its operator's review.

    Only the assigned inspector (or an administrator) may record it, once. Raises ServiceError
    with nothing written (the photo file included) on any bad input.
    """
    inspection, claim = _lock_open_visit(inspection, actor=actor, move=workflow.RECORD_INSPECTION)
    serials = [ev.meter_serial for ev in claim.evidence.all()]
    missing = [s for s in serials if readings.get(s) is None]
    if missing:
        raise ServiceError(_("Sayğac %(serial)s üçün yoxlanılmış göstəricini daxil edin.") % {"serial": missing[0]})
    unknown = sorted(set(readings) - set(serials))
    if unknown:
        raise ServiceError(_("Sayğac %(serial)s bu müraciətə aid deyil.") % {"serial": unknown[0]})
    for serial in serials:
        value: object = readings[serial]  # checked as it comes: a view may pass whatever was posted
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_READING:
            raise ServiceError(_("Sayğac %(serial)s üçün göstəricini tam ədədlə yazın.") % {"serial": serial})
    if seal_state not in SealState.values:
        raise ServiceError(_("Plombun vəziyyətini seçin."))
    if not photo_path or not default_storage.exists(photo_path):
        raise ServiceError(_("Sayğacın şəklini yükləyin."))

    now = timezone.now()
    InspectionReading.objects.bulk_create([
        InspectionReading(inspection=inspection, meter_serial=s, verified_reading=readings[s]) for s in serials
    ])
    inspection.status = InspectionStatus.DONE
    inspection.seal_state = seal_state
    inspection.note = note.strip()
    inspection.recorded_at = now
    inspection.photo_content_type = photo_content_type
    ext = photo_path.rsplit(".", 1)[-1].lower()
    with default_storage.open(photo_path, "rb") as fh:
        inspection.photo.save(f"{claim.number}-{inspection.pk}.{ext}", ContentFile(fh.read()), save=False)
    stored = inspection.photo.name
    try:  # a failure after the copy must not leave it behind
        inspection.save()
        workflow.perform(workflow.RECORD_INSPECTION, claim=claim, actor=actor,
                         context=workflow.Context(inspection=inspection),
                         params={"readings": {s: readings[s] for s in serials}},
                         audit={"inspection": inspection.pk, "readings": {s: readings[s] for s in serials},
                                "seal_state": seal_state, "note": inspection.note})
    except Exception:
        default_storage.delete(stored)
        raise
    if photo_path.startswith("drafts/"):
        delete_after_commit(photo_path)
    return inspection


@transaction.atomic
def inspection_no_access(*, inspection: Inspection, actor: User, new_visit_on: date, new_window: str,
                         note: str) -> Inspection:
    """Nobody opened the door: this visit is marked ``no_access`` and a new one is scheduled for
    the same inspector on ``new_visit_on``/``new_window``. The claim stays in inspection; its
    timeline says so and the citizen is told the new date and window by e-mail and SMS.
    Returns the new inspection. Raises ServiceError (nothing written) on bad input.
    """
    inspection, claim = _lock_open_visit(inspection, actor=actor, move=workflow.RESCHEDULE_INSPECTION)
    _check_visit(new_visit_on, new_window, prefix="new_")
    if (new_visit_on, new_window) == (inspection.visit_on, inspection.window):
        raise ServiceError(_("Yeni yoxlama vaxtı əvvəlkindən fərqli olmalıdır."), field="new_visit_on")

    inspection.status = InspectionStatus.NO_ACCESS
    inspection.note = note.strip()
    inspection.recorded_at = timezone.now()
    inspection.save(update_fields=["status", "note", "recorded_at"])
    new = Inspection.objects.create(
        claim=claim, inspector=inspection.inspector, ordered_by=actor, ordered_at=timezone.now(),
        visit_on=new_visit_on, window=new_window, status=InspectionStatus.SCHEDULED,
    )
    workflow.perform(workflow.RESCHEDULE_INSPECTION, claim=claim, actor=actor,
                     context=workflow.Context(inspection=inspection),
                     params={"visit_on": new_visit_on.isoformat(), "window": str(VisitWindow(new_window).label)},
                     audit={"inspection": inspection.pk, "new_inspection": new.pk,
                            "visit_on": new_visit_on.isoformat(), "window": new_window, "note": inspection.note},
                     notify_extra={"visit_on": new_visit_on, "window": window_label(new_window),
                                   "rescheduled": True})
    return new


@transaction.atomic
def inspection_cancel(*, claim: Claim, actor: User, reason: str) -> Claim:
    """The claim's operator (or the branch's manager) calls the visit off: the claim goes back
    to review without it (the citizen no longer needs to wait at home, and is told so). The
    scheduled visits are cancelled by this app's subscriber to the move."""
    reason = reason.strip()
    if not reason:
        raise ServiceError(_("Yoxlamanın ləğv edilmə səbəbini yazın."), field="text")
    claim = workflow.begin(workflow.CANCEL_INSPECTION, claim=claim, actor=actor)
    return workflow.perform(workflow.CANCEL_INSPECTION, claim=claim, actor=actor, audit={"reason": reason})


def inspections_cancel_open(*, claim: Claim, actor: User | None) -> int:
    """Cancel the claim's scheduled visits (the claim was withdrawn, or taken back to review
    without a visit), inside the caller's transaction; returns how many were cancelled."""
    ids = list(Inspection.objects.select_for_update()
               .filter(claim=claim, status=InspectionStatus.SCHEDULED).values_list("pk", flat=True))
    if ids:
        Inspection.objects.filter(pk__in=ids).update(status=InspectionStatus.CANCELLED, recorded_at=timezone.now())
        audit_record(actor=actor, action="inspections_cancelled", claim=claim, object_type="inspection",
                     after={"inspections": ids})
    return len(ids)
