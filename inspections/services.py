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
from backoffice.access import can_work_on, has_role, inspectors_of
from claims import transitions
from claims.deadlines import WorkingCalendar
from claims.models import Claim
from claims.services import ClaimError, _change, _lock
from claims.transitions import ClaimStatus
from identity.models import Role, User
from notifications.models import Event
from notifications.services import notification_queue

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


def _check_visit(visit_on: date, window: str) -> None:
    if window not in VisitWindow.values:
        raise ClaimError(_("Yoxlama vaxtını seçin."))
    error = visit_day_error(visit_on)
    if error:
        raise ClaimError(error)


def _may_act_on(inspection: Inspection, user: User) -> bool:
    return inspection.inspector_id == user.pk or has_role(user, Role.ADMINISTRATOR)


def _lock_open_visit(inspection: Inspection, *, by: User) -> tuple[Inspection, Claim]:
    """Lock the claim, then the inspection (the order every service here takes), and check
    that ``by`` may act on a visit that is still to be made."""
    claim = _lock(inspection.claim)
    inspection = Inspection.objects.select_for_update().get(pk=inspection.pk)
    inspection.claim = claim
    if not _may_act_on(inspection, by):
        raise ClaimError(_("Bu yoxlama sizə təyin edilməyib."))
    if inspection.status == InspectionStatus.DONE:
        raise ClaimError(_("Bu yoxlamanın nəticəsi artıq qeyd edilib."))
    if inspection.status != InspectionStatus.SCHEDULED:
        raise ClaimError(_("Bu yoxlama artıq qüvvədə deyil: %(status)s.") % {"status": inspection.get_status_display()})
    if claim.status != ClaimStatus.INSPECTION:
        raise ClaimError(_("Müraciət artıq yerində yoxlama mərhələsində deyil (%(status)s); səfər tələb olunmur.")
                         % {"status": claim.get_status_display()})
    return inspection, claim


@transaction.atomic
def inspection_order(*, claim: Claim, by: User, inspector: User, visit_on: date, window: str) -> Inspection:
    """Send an inspector of the claim's branch to the address on a working day and window.

    The claim moves from review to inspection and the citizen is told the date and window by
    e-mail and SMS. Raises ClaimError (nothing written) when the claim is not in review, ``by``
    may not work on it, the inspector is not one of the branch's, or the day is past or not a
    working day.
    """
    claim = _lock(claim)
    if not transitions.allowed(claim.status, ClaimStatus.INSPECTION):
        raise ClaimError(_("Yerində yoxlama yalnız araşdırılan müraciət üçün təyin edilə bilər "
                           "(müraciətin statusu: %(status)s).") % {"status": claim.get_status_display()})
    if not can_work_on(by, claim):
        raise ClaimError(_("Bu müraciət üzrə yoxlama təyin etmək səlahiyyətiniz yoxdur."))
    if not inspectors_of(claim.branch_id).filter(pk=inspector.pk).exists():
        raise ClaimError(_("Seçilmiş nəzarətçi bu müraciətin filialına aid deyil."))
    _check_visit(visit_on, window)

    inspection = Inspection.objects.create(
        claim=claim, inspector=inspector, ordered_by=by, ordered_at=timezone.now(), visit_on=visit_on,
        window=window, status=InspectionStatus.SCHEDULED,
    )
    _change(claim, to=ClaimStatus.INSPECTION, by=by, kind="inspection_ordered", note=when_text(visit_on, window),
            audit_extra={"inspection": inspection.pk, "inspector": inspector.pk, "visit_on": visit_on.isoformat(),
                         "window": window})
    notification_queue(claim=claim, event=Event.INSPECTION_SCHEDULED,
                       extra={"visit_on": visit_on, "window": window_label(window)})
    return inspection


@transaction.atomic
def inspection_record_result(*, inspection: Inspection, by: User, readings: dict[str, int], seal_state: str,
                             note: str, photo_path: str, photo_content_type: str) -> Inspection:
    """Record what the inspector found: one verified reading per meter of the claim, the seal's
    condition, a note and a photo (a file stored by ``claims.evidence.photo_store``, copied to
    the inspection). The inspection is done and the claim returns to its operator's review.

    Only the assigned inspector (or an administrator) may record it, once. Raises ClaimError
    with nothing written (the photo file included) on any bad input.
    """
    inspection, claim = _lock_open_visit(inspection, by=by)
    serials = [ev.meter_serial for ev in claim.evidence.all()]
    missing = [s for s in serials if readings.get(s) is None]
    if missing:
        raise ClaimError(_("Sayğac %(serial)s üçün yoxlanılmış göstəricini daxil edin.") % {"serial": missing[0]})
    unknown = sorted(set(readings) - set(serials))
    if unknown:
        raise ClaimError(_("Sayğac %(serial)s bu müraciətə aid deyil.") % {"serial": unknown[0]})
    for serial in serials:
        value = readings[serial]
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_READING:
            raise ClaimError(_("Sayğac %(serial)s üçün göstəricini tam ədədlə yazın.") % {"serial": serial})
    if seal_state not in SealState.values:
        raise ClaimError(_("Plombun vəziyyətini seçin."))
    if not photo_path or not default_storage.exists(photo_path):
        raise ClaimError(_("Sayğacın şəklini yükləyin."))

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
        found = "; ".join(f"{s}: {readings[s]} m³" for s in serials)
        _change(claim, to=ClaimStatus.IN_REVIEW, by=by, kind="inspection_done",
                note=_("Sayğac yerində yoxlanıldı. %(found)s") % {"found": found},
                audit_extra={"inspection": inspection.pk, "readings": {s: readings[s] for s in serials},
                             "seal_state": seal_state, "note": inspection.note})
    except Exception:
        default_storage.delete(stored)
        raise
    if photo_path.startswith("drafts/"):
        transaction.on_commit(lambda: default_storage.delete(photo_path), robust=True)
    return inspection


@transaction.atomic
def inspection_no_access(*, inspection: Inspection, by: User, new_visit_on: date, new_window: str,
                         note: str) -> Inspection:
    """Nobody opened the door: this visit is marked ``no_access`` and a new one is scheduled for
    the same inspector on ``new_visit_on``/``new_window``. The claim stays in inspection; its
    timeline says so and the citizen is told the new date and window by e-mail and SMS.
    Returns the new inspection. Raises ClaimError (nothing written) on bad input.
    """
    inspection, claim = _lock_open_visit(inspection, by=by)
    _check_visit(new_visit_on, new_window)
    if (new_visit_on, new_window) == (inspection.visit_on, inspection.window):
        raise ClaimError(_("Yeni yoxlama vaxtı əvvəlkindən fərqli olmalıdır."))

    inspection.status = InspectionStatus.NO_ACCESS
    inspection.note = note.strip()
    inspection.recorded_at = timezone.now()
    inspection.save(update_fields=["status", "note", "recorded_at"])
    new = Inspection.objects.create(
        claim=claim, inspector=inspection.inspector, ordered_by=by, ordered_at=timezone.now(),
        visit_on=new_visit_on, window=new_window, status=InspectionStatus.SCHEDULED,
    )
    _change(claim, to=None, by=by, kind="inspection_rescheduled",
            note=_("Ünvana giriş olmadığı üçün yoxlama aparılmadı. Yeni vaxt: %(when)s.")
            % {"when": when_text(new_visit_on, new_window)},
            audit_extra={"inspection": inspection.pk, "new_inspection": new.pk,
                         "visit_on": new_visit_on.isoformat(), "window": new_window, "note": inspection.note})
    notification_queue(claim=claim, event=Event.INSPECTION_SCHEDULED,
                       extra={"visit_on": new_visit_on, "window": window_label(new_window), "rescheduled": True})
    return new


@transaction.atomic
def inspections_cancel_open(*, claim: Claim, by: User | None) -> int:
    """Cancel the claim's scheduled visits (the claim was withdrawn, or taken back to review
    without a visit). Meant to be called by the claims services inside their transaction;
    returns how many were cancelled."""
    ids = list(Inspection.objects.select_for_update()
               .filter(claim=claim, status=InspectionStatus.SCHEDULED).values_list("pk", flat=True))
    if ids:
        Inspection.objects.filter(pk__in=ids).update(status=InspectionStatus.CANCELLED, recorded_at=timezone.now())
        audit_record(actor=by, action="inspections_cancelled", claim=claim, object_type="inspection",
                     after={"inspections": ids})
    return len(ids)
