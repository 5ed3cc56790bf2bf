"""The commission's pages under /office/commission/: the agenda (claims sent to the commission,
open meetings, opening a meeting), a meeting with its items and decisions, and the decision
letters. Views parse input, call one service or selector, and render."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from claims.models import ProposalStatus
from claims.selectors import claim_get_for_staff
from claims.transitions import ClaimStatus
from core.errors import ServiceError, form_add_error
from identity.decorators import AuthenticatedRequest, staff_required
from identity.models import Role
from identity.roles import has_role

from . import selectors, services
from .forms import AgendaAddForm, ApproveForm, MeetingOpenForm, RefuseForm, ReturnForm
from .models import AgendaItem, Meeting

COMMISSION = (Role.COMMISSION_MEMBER, Role.COMMISSION_SECRETARY)


def _is_secretary(request: AuthenticatedRequest) -> bool:
    return has_role(request.user, Role.COMMISSION_SECRETARY)


def _secretary_only(request: AuthenticatedRequest) -> None:
    if not _is_secretary(request):
        raise PermissionDenied


_add_error = form_add_error


# --- Agenda -----------------------------------------------------------------------------------

def _meeting_choices(meetings: list[Meeting]) -> list[tuple[Any, str]]:
    # The protocol number alone: it is unique, and the column is narrow.
    return [("", _("— iclası seçin —"))] + [(m.pk, f"№ {m.protocol_number}") for m in meetings]


def _agenda_page(request: AuthenticatedRequest, *, open_form: MeetingOpenForm | None = None,
                 failed_add: AgendaAddForm | None = None, failed_return: ReturnForm | None = None,
                 status: int = 200) -> HttpResponse:
    secretary = _is_secretary(request)
    meetings = list(selectors.meetings_open())
    choices = _meeting_choices(meetings)
    rows = []
    for claim in selectors.claims_awaiting_agenda():
        prefix = f"add-{claim.pk}"
        form = failed_add if failed_add is not None and failed_add.prefix == prefix else AgendaAddForm(
            meetings=choices, prefix=prefix, initial={"meeting": meetings[0].pk} if len(meetings) == 1 else {})
        back = f"back-{claim.pk}"
        back_form = (failed_return if failed_return is not None and failed_return.prefix == back
                     else ReturnForm(prefix=back, auto_id=f"id_{back}_%s"))
        rows.append({"claim": claim, "proposal": claim.pending_proposals[0], "form": form, "return_form": back_form})
    if secretary and open_form is None:
        open_form = MeetingOpenForm(members=selectors.commission_staff(),
                                    initial={"held_on": timezone.localdate(), "members": [request.user.pk]})
    errors = next((f for f in (open_form, failed_add, failed_return) if f is not None and f.errors), None)
    return render(request, "commission/agenda.html", {
        "rows": rows, "meetings": meetings, "open_form": open_form, "secretary": secretary, "form": errors,
        "recent": selectors.meetings_recent(),
    }, status=status)


@staff_required(*COMMISSION)
def agenda(request: AuthenticatedRequest) -> HttpResponse:
    return _agenda_page(request)


@staff_required(*COMMISSION)
@require_POST
def meeting_open(request: AuthenticatedRequest) -> HttpResponse:
    _secretary_only(request)
    form = MeetingOpenForm(request.POST, members=selectors.commission_staff())
    if form.is_valid():
        try:
            meeting = services.meeting_open(actor=request.user, **form.cleaned_data)
        except ServiceError as e:
            _add_error(form, e)
        else:
            messages.success(request, _("%(date)s tarixli iclas açıldı (protokol № %(protocol)s). İndi müraciətləri "
                                        "onun gündəliyinə salın.")
                             % {"date": meeting.held_on.strftime("%d.%m.%Y"), "protocol": meeting.protocol_number})
            return redirect(reverse("commission:agenda") + f"#meeting-{meeting.pk}")
    return _agenda_page(request, open_form=form, status=400)


@staff_required(*COMMISSION)
@require_POST
def agenda_add(request: AuthenticatedRequest, number: str) -> HttpResponse:
    _secretary_only(request)
    claim = claim_get_for_staff(user=request.user, number=number)
    form = AgendaAddForm(request.POST, meetings=_meeting_choices(list(selectors.meetings_open())),
                         prefix=f"add-{claim.pk}")
    if form.is_valid():
        try:
            item = services.agenda_add(meeting=selectors.meeting_open_get(pk=form.cleaned_data["meeting"]),
                                       actor=request.user, claim=claim)
        except ServiceError as e:
            _add_error(form, e)
        else:
            messages.success(request, _("%(number)s nömrəli müraciət protokol № %(protocol)s iclasının gündəliyinə "
                                        "salındı.") % {"number": claim.number,
                                                       "protocol": item.meeting.protocol_number})
            return redirect("commission:agenda")
    return _agenda_page(request, failed_add=form, status=400)


@staff_required(*COMMISSION)
@require_POST
def commission_return(request: AuthenticatedRequest, number: str) -> HttpResponse:
    """The secretary returns a claim to its operator without a decision, with the reason."""
    claim = claim_get_for_staff(user=request.user, number=number)
    form = ReturnForm(request.POST, prefix=f"back-{claim.pk}", auto_id=f"id_back-{claim.pk}_%s")
    if form.is_valid():
        try:
            services.commission_return(claim=claim, actor=request.user, reason=form.cleaned_data["reason"])
        except ServiceError as e:
            if e.forbidden:
                raise PermissionDenied(e.message) from e
            _add_error(form, e)
        else:
            messages.success(request, _("%(number)s nömrəli müraciət operatora qaytarıldı.") % {"number": claim.number})
            return redirect("commission:agenda")
    return _agenda_page(request, failed_return=form, status=400)


# --- Meeting ----------------------------------------------------------------------------------

SERVICES = {"water": gettext_lazy("Su"), "sewerage": gettext_lazy("Kanalizasiya")}


@dataclass
class ItemView:
    item: AgendaItem
    meters: list[dict[str, Any]]
    calculation: list[dict[str, Any]]
    parts: list[dict[str, Any]]
    period: str
    actionable: bool
    approve_form: ApproveForm | None = None
    refuse_form: RefuseForm | None = None


def _d(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _item_view(item: AgendaItem) -> ItemView:
    claim, proposal = item.claim, item.proposal
    snap = claim.invoice_snapshot or {}
    calc = proposal.calculation or {}
    declared = {ev.meter_serial: ev.declared_reading for ev in claim.evidence.all()}
    meters = [{
        "serial": line["meter_serial"], "previous": line["previous_reading"], "billed": line["current_reading"],
        "estimated": line.get("estimated", False), "declared": declared.get(line["meter_serial"]),
        "corrected": proposal.readings.get(line["meter_serial"], line["current_reading"]),
    } for line in snap.get("lines", [])]
    old, new = proposal.old_amount, proposal.new_amount
    calculation: list[dict[str, Any]] = [
        {"label": _("Sərfiyyat, m³"), "old": snap.get("consumption"), "new": proposal.consumption, "money": False},
        {"label": _("Su"), "old": Decimal(snap["water_amount"]) if "water_amount" in snap else None,
         "new": Decimal(calc["water_amount"]) if "water_amount" in calc else None, "money": True},
        {"label": _("Kanalizasiya"), "old": Decimal(snap["sewerage_amount"]) if "sewerage_amount" in snap else None,
         "new": Decimal(calc["sewerage_amount"]) if "sewerage_amount" in calc else None, "money": True},
        {"label": _("Cəmi"), "old": old, "new": new, "money": True, "total": True},
    ]
    parts = [{
        "service": SERVICES.get(p["service"], p["service"]), "start": _d(p.get("start")), "end": _d(p.get("end")),
        "volume": Decimal(p["volume"]), "price": Decimal(p["price"]),
        "amount": (Decimal(p["volume"]) * Decimal(p["price"])).quantize(Decimal("0.01")),
    } for p in calc.get("parts", [])]
    period = ""
    if snap.get("period_start") and snap.get("period_end"):
        period = f"{_d(snap['period_start']):%d.%m.%Y} – {_d(snap['period_end']):%d.%m.%Y}"
    actionable = (not item.decision and claim.status == ClaimStatus.AT_COMMISSION
                  and proposal.status == ProposalStatus.PENDING)
    return ItemView(item=item, meters=meters, calculation=calculation, parts=parts, period=period,
                    actionable=actionable)


def _meeting_page(request: AuthenticatedRequest, meeting: Meeting, *, failed: Any = None,
                  status: int = 200) -> HttpResponse:
    views = []
    for item in meeting.items.all():
        view = _item_view(item)
        if view.actionable:
            view.approve_form = ApproveForm(prefix=f"item-{item.pk}-approve",
                                            initial={"amount": item.proposal.difference})
            view.refuse_form = RefuseForm(prefix=f"item-{item.pk}-refuse")
            if failed is not None and failed.prefix == view.approve_form.prefix:
                view.approve_form = failed
            if failed is not None and failed.prefix == view.refuse_form.prefix:
                view.refuse_form = failed
        views.append(view)
    member_ids = {m.pk for m in meeting.members.all()}
    return render(request, "commission/meeting.html", {
        "meeting": meeting, "items": views, "form": failed, "secretary": _is_secretary(request),
        "is_member": request.user.pk in member_ids,
        "undecided": sum(1 for v in views if not v.item.decision),
        "today": timezone.localdate(),
    }, status=status)


@staff_required(*COMMISSION)
def meeting(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    return _meeting_page(request, selectors.meeting_get(pk=pk))


def _item_for(request: AuthenticatedRequest, pk: int) -> AgendaItem:
    item = selectors.item_get(pk=pk)
    claim_get_for_staff(user=request.user, number=item.claim.number)  # 404 for what the user may not see
    return item


def _back_to(item: AgendaItem) -> HttpResponse:
    return redirect(reverse("commission:meeting", args=[item.meeting_id]) + f"#item-{item.pk}")


@staff_required(*COMMISSION)
@require_POST
def decision_approve(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    item = _item_for(request, pk)
    form = ApproveForm(request.POST, prefix=f"item-{pk}-approve")
    if form.is_valid():
        try:
            services.decision_approve(item=item, actor=request.user, amount=form.cleaned_data["amount"],
                                      note=form.cleaned_data["note"])
        except ServiceError as e:
            _add_error(form, e)
        else:
            messages.success(request, _("Düzəliş təsdiq edildi və billinqə ötürülür; billinq qəbul edəndə "
                                        "müraciət %(number)s bağlanacaq.") % {"number": item.claim.number})
            return _back_to(item)
    return _meeting_page(request, selectors.meeting_get(pk=item.meeting_id), failed=form, status=400)


@staff_required(*COMMISSION)
@require_POST
def decision_refuse(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    item = _item_for(request, pk)
    form = RefuseForm(request.POST, prefix=f"item-{pk}-refuse")
    if form.is_valid():
        try:
            services.decision_refuse(item=item, actor=request.user, reason=form.cleaned_data["reason"])
        except ServiceError as e:
            _add_error(form, e)
        else:
            messages.success(request, _("Düzəlişdən imtina edildi; müraciət %(number)s bağlandı.")
                             % {"number": item.claim.number})
            return _back_to(item)
    return _meeting_page(request, selectors.meeting_get(pk=item.meeting_id), failed=form, status=400)


@staff_required(*COMMISSION)
@require_POST
def agenda_remove(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    _secretary_only(request)
    item = _item_for(request, pk)
    try:
        services.agenda_remove(item=item, actor=request.user)
    except ServiceError as e:
        messages.error(request, str(e))
    else:
        messages.success(request, _("%(number)s nömrəli müraciət gündəlikdən çıxarıldı.")
                         % {"number": item.claim.number})
    return redirect("commission:meeting", item.meeting_id)


@staff_required(*COMMISSION)
@require_POST
def meeting_close(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    _secretary_only(request)
    meeting = selectors.meeting_get(pk=pk)
    try:
        services.meeting_close(meeting=meeting, actor=request.user)
    except ServiceError as e:
        messages.error(request, str(e))
        return redirect("commission:meeting", pk)
    messages.success(request, _("Protokol № %(protocol)s iclası bağlandı.") % {"protocol": meeting.protocol_number})
    return redirect("commission:agenda")


# --- Letters ----------------------------------------------------------------------------------

@staff_required()
def letter(request: AuthenticatedRequest, pk: int) -> FileResponse:
    """The decision letter, to any staff member who can see the claim (the commission, the
    claim's branch, administrators); everyone else gets a 404."""
    item = _item_for(request, pk)
    if not item.decision or not item.letter:
        raise Http404
    return FileResponse(item.letter.open("rb"), content_type="application/pdf",
                        filename=f"{item.claim.number}-qerar.pdf")
