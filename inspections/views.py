"""The field inspector's pages, made for a phone: the visits of a day, and one visit with its
result and no-access forms. Views are thin: parse, call one selector or service, render."""

from __future__ import annotations

from datetime import date, timedelta

from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.datastructures import MultiValueDict
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from audit.services import audit_record
from claims.deadlines import WorkingCalendar
from claims.evidence import PhotoDrafts, PhotoRejected
from claims.services import ClaimError
from claims.transitions import ClaimStatus
from core.security import evidence_response
from identity.decorators import AuthenticatedRequest, staff_required
from identity.models import Role

from . import selectors, services
from .forms import InspectionResultForm, KeptPhoto, NoAccessForm
from .models import Inspection, InspectionStatus

inspector_required = staff_required(Role.INSPECTOR)


def _client_ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def _day_of(request: HttpRequest) -> date:
    try:
        return date.fromisoformat(request.GET.get("day", ""))
    except ValueError:
        return timezone.localdate()


def _step(day: date, calendar: WorkingCalendar, direction: int) -> date:
    """The previous or next working day (visits are only made on working days)."""
    for _i in range(31):
        day += timedelta(days=direction)
        if calendar.is_working_day(day):
            return day
    return day


def _visits_url(day: date) -> str:
    return f"{reverse('inspections:visits')}?day={day.isoformat()}"


@require_GET
@inspector_required
def visits(request: AuthenticatedRequest) -> HttpResponse:
    day = _day_of(request)
    calendar = WorkingCalendar()
    items = selectors.visits_of_inspector(inspector=request.user, day=day)
    if items:
        # Staff looking at citizens' phones and addresses leave a trace.
        audit_record(actor=request.user, action="visits_viewed", object_type="inspection_day",
                     object_id=day.isoformat(), after={"inspections": [i.pk for i in items]}, ip=_client_ip(request))
    return render(request, "inspections/visits.html", {
        "day": day, "today": timezone.localdate(), "visits": items,
        "previous_day": _step(day, calendar, -1), "next_day": _step(day, calendar, +1),
        "is_working_day": calendar.is_working_day(day),
    })


def _result_form(inspection: Inspection, data: QueryDict | None = None,
                 files: MultiValueDict | None = None) -> InspectionResultForm:
    return InspectionResultForm(data, files, meters=inspection.claim.evidence.all(), inspection_id=inspection.pk,
                                prefix="result")


def _no_access_form(data: QueryDict | None = None) -> NoAccessForm:
    return NoAccessForm(data, prefix="noaccess")


def _render_visit(request: HttpRequest, inspection: Inspection, *, result_form: InspectionResultForm | None = None,
                  no_access_form: NoAccessForm | None = None) -> HttpResponse:
    claim = inspection.claim
    open_visit = inspection.status == InspectionStatus.SCHEDULED and claim.status == ClaimStatus.INSPECTION
    return render(request, "inspections/visit.html", {
        "inspection": inspection, "claim": claim, "open_visit": open_visit,
        "reason": claim.reason.text((get_language() or "az")[:2]),
        "result_form": result_form or _result_form(inspection),
        "no_access_form": no_access_form or _no_access_form(),
        "error_form": (result_form if result_form is not None and result_form.errors else
                       no_access_form if no_access_form is not None and no_access_form.errors else None),
    })


@require_GET
@inspector_required
def visit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    inspection = selectors.inspection_get_for_inspector(inspector=request.user, pk=pk)
    audit_record(actor=request.user, action="claim_viewed", claim=inspection.claim, object_type="inspection",
                 object_id=str(inspection.pk), ip=_client_ip(request))
    return _render_visit(request, inspection)


@require_POST
@inspector_required
def visit_result(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    inspection = selectors.inspection_get_for_inspector(inspector=request.user, pk=pk)
    form = _result_form(inspection, request.POST, request.FILES)
    valid = form.is_valid()
    try:  # a photo kept from an earlier try (signed token) stays unless a new one comes
        stored = PhotoDrafts().put(request.FILES.get(form.add_prefix("photo")),
                                   kept=form.kept_photo.path if form.kept_photo else "",
                                   missing=_("Sayğacın şəklini yükləyin."))
    except PhotoRejected as exc:
        form.add_error("photo", str(exc))
        valid = False
    else:
        if stored is not None:
            form.keep_photo(KeptPhoto(path=stored.path, content_type=stored.content_type, name=stored.original_name))
    if valid:
        # put() refuses a submission with neither a new nor a kept photo, so one is kept here.
        assert form.kept_photo is not None
        try:
            services.inspection_record_result(
                inspection=inspection, actor=request.user, readings=form.readings(),
                seal_state=form.cleaned_data["seal_state"], note=form.cleaned_data["note"],
                photo_path=form.kept_photo.path, photo_content_type=form.kept_photo.content_type,
            )
        except ClaimError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("%(number)s nömrəli müraciət üzrə yoxlamanın nəticəsi qeyd edildi.")
                             % {"number": inspection.claim.number})
            return redirect(_visits_url(inspection.visit_on))
    return _render_visit(request, inspection, result_form=form)


@require_POST
@inspector_required
def visit_no_access(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    inspection = selectors.inspection_get_for_inspector(inspector=request.user, pk=pk)
    form = _no_access_form(request.POST)
    if form.is_valid():
        try:
            new = services.inspection_no_access(
                inspection=inspection, actor=request.user, new_visit_on=form.cleaned_data["new_visit_on"],
                new_window=form.cleaned_data["new_window"], note=form.cleaned_data["note"],
            )
        except ClaimError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Yoxlama %(when)s tarixinə keçirildi; vətəndaşa bildiriş göndərilir.")
                             % {"when": services.when_text(new.visit_on, new.window)})
            return redirect(_visits_url(inspection.visit_on))
    return _render_visit(request, inspection, no_access_form=form)


@require_GET
@inspector_required
def visit_photo(request: AuthenticatedRequest, pk: int, evidence_id: int | None = None) -> FileResponse:
    """The citizen's photo of a meter (``evidence_id``) or the inspection's own photo."""
    inspection = selectors.inspection_get_for_inspector(inspector=request.user, pk=pk)
    if evidence_id is None:
        if not inspection.photo:
            raise Http404
        return evidence_response(inspection.photo.open("rb"), content_type=inspection.photo_content_type,
                                 name=f"inspection-{inspection.pk}")
    evidence = next((e for e in inspection.claim.evidence.all() if e.pk == evidence_id), None)
    if evidence is None:
        raise Http404
    return evidence_response(evidence.photo.open("rb"), content_type=evidence.photo_content_type,
                             name=f"{inspection.claim.number}-{evidence.meter_serial}")
