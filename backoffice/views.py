"""Staff pages: login, the operator's work queue, the claim page and its actions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.views import LoginView
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.views.decorators.http import require_POST

from audit.models import AuditEntry
from audit.services import audit_record
from billing.gateway import get_gateway
from billing.models import Category
from claims import services, workflow
from claims.deadlines import UNCONSIDERED_WORKING_DAYS, period_due_on
from claims.models import Claim, ClaimEvent
from claims.selectors import claim_get_for_staff, claims_same_matter
from claims.transitions import ClaimStatus
from core.errors import ServiceError, form_add_error
from core.security import evidence_response
from identity.decorators import AuthenticatedRequest, staff_required
from identity.models import Role
from identity.roles import has_role, operators_of
from inspections.forms import OrderInspectionForm
from inspections.services import inspection_cancel, inspection_order

from . import selectors
from .forms import (
    CorrectionForm,
    ForwardOutForm,
    InfoRequestForm,
    QueueFilterForm,
    ReassignForm,
    TextForm,
    UnconsideredForm,
)

PAGE_SIZE = 50

# The labels of the claim page's one-text forms. Each form has its own ids (several are on
# the page at once) and keeps its label when it comes back with an error.
TEXT_LABELS = {
    "info": gettext_lazy("Vətəndaşdan nə istənilir (məlumat və ya yeni şəkil)"),
    "close": gettext_lazy("Vətəndaşa izahat: niyə düzəliş tələb olunmur"),
    "extend": gettext_lazy("Müddətin 30 iş gününə uzadılma səbəbi"),
    "cancel_inspection": gettext_lazy("Yoxlamanın ləğv edilmə səbəbi"),
}


def _text_form(action: str, data=None) -> TextForm:
    if action == "info":
        return InfoRequestForm(data, label=TEXT_LABELS[action], auto_id=f"id_{action}_%s")
    return TextForm(data, label=TEXT_LABELS[action], auto_id=f"id_{action}_%s")


class StaffLoginView(LoginView):
    template_name = "backoffice/login.html"

    def get_default_redirect_url(self):
        user = self.request.user
        if has_role(user, Role.OPERATOR, Role.BRANCH_MANAGER, Role.ADMINISTRATOR):
            return reverse("backoffice:queue")
        if has_role(user, Role.INSPECTOR):
            return reverse("inspections:visits")
        if has_role(user, Role.COMMISSION_MEMBER, Role.COMMISSION_SECRETARY):
            return reverse("commission:agenda")
        return reverse("backoffice:queue")


@staff_required(Role.OPERATOR, Role.BRANCH_MANAGER)
def queue(request: AuthenticatedRequest) -> HttpResponse:
    form = QueueFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    qs = selectors.queue_for(request.user, **{k: v for k, v in filters.items() if v})
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    today, near = selectors.deadline_marks()
    page.object_list = selectors.with_effective_due(page.object_list, today=today)
    params = request.GET.copy()
    params.pop("page", None)
    return render(request, "backoffice/queue.html", {
        "form": form, "page": page, "today": today, "near": near, "params": params.urlencode(),
    })


def _claim_context(request: AuthenticatedRequest, claim: Claim) -> dict[str, Any]:
    gateway = get_gateway()
    account = gateway.account_by_code(claim.subscriber_code)
    invoices = gateway.invoices_of_account(claim.subscriber_code)[:24]
    history = selectors.reading_history(invoices, claim.invoice_number)
    inspections = list(claim.inspections.select_related("inspector").prefetch_related("readings"))
    proposals = list(claim.proposals.select_related("proposed_by"))
    last_verified: dict[str, int] = {}
    for insp in inspections:
        for r in insp.readings.all():
            last_verified[r.meter_serial] = r.verified_reading
    initial_readings = {ev.meter_serial: last_verified.get(ev.meter_serial, ev.declared_reading)
                        for ev in claim.evidence.all()}
    # What the page offers; the services check every move again.
    moves = workflow.allowed_moves(claim=claim, actor=request.user)
    lines = [ln.__dict__ for ln in claim.invoice.lines]
    forms: dict[str, Any] = {}
    if workflow.ORDER_INSPECTION.name in moves:
        forms["inspection"] = OrderInspectionForm(branch_id=claim.branch_id)
    if workflow.REQUEST_INFO.name in moves:
        forms["info"] = _text_form("info")
    if workflow.PROPOSE_CORRECTION.name in moves:
        forms["correction"] = CorrectionForm(lines=lines, initial_readings=initial_readings)
    if workflow.CLOSE_NO_CORRECTION.name in moves:
        forms["close"] = _text_form("close")
    if workflow.CANCEL_INSPECTION.name in moves:
        forms["cancel_inspection"] = _text_form("cancel_inspection")
    if workflow.EXTEND.name in moves and claim.working_days < 30:
        forms["extend"] = _text_form("extend")
    if workflow.REASSIGN.name in moves:
        forms["reassign"] = ReassignForm(operators=operators_of(claim.branch_id))
    if workflow.FORWARD_OUT.name in moves:
        forms["forward_out"] = ForwardOutForm(auto_id="id_forward_out_%s")
    repeat_answers = services.repeat_answers(claim)
    if workflow.LEAVE_UNCONSIDERED.name in moves and len(repeat_answers) >= 3:
        forms["unconsidered"] = UnconsideredForm(auto_id="id_unconsidered_%s")
    registered_on = timezone.localdate(claim.registered_at)
    return {
        "claim": claim, "account": account, "history": history, "chart": selectors.consumption_chart(history),
        "hints": selectors.plausibility_hints(claim, invoices), "inspections": inspections, "proposals": proposals,
        "info_requests": list(claim.info_requests.all()),
        "events": ClaimEvent.objects.filter(claim=claim).order_by("at", "id"),
        "audit": AuditEntry.objects.filter(claim=claim).select_related("actor").order_by("-at", "-id")[:200],
        "moves": moves, "can_act": bool(moves),
        "can_take": bool(moves & {workflow.TAKE.name, workflow.PICK_UP.name}),
        "reason": claim.reason.text((get_language() or "az")[:2]),
        "category": Category(account.category).label if account else "",
        "S": ClaimStatus,
        "forms": forms,
        # The law's other periods (art. 7.10: 3 working days to forward; art. 8.1.4: 5 to answer a
        # repeat appeal left unconsidered) and the person's earlier claims on the same matter.
        "forward_out_due": services.forward_out_due_on(claim),
        "unconsidered_due": period_due_on(start=registered_on, working_days=UNCONSIDERED_WORKING_DAYS),
        "earlier": claims_same_matter(citizen_key=claim.citizen_key, subscriber_code=claim.subscriber_code,
                                      invoice_number=claim.invoice_number, exclude_pk=claim.pk),
        "repeat_answers": repeat_answers,
    }


@staff_required()
def claim_page(request: AuthenticatedRequest, number: str) -> HttpResponse:
    claim = claim_get_for_staff(user=request.user, number=number)
    audit_record(actor=request.user, action="claim_viewed", claim=claim, object_type="claim", object_id=claim.number,
                 ip=request.META.get("REMOTE_ADDR"))
    return render(request, "backoffice/claim.html", _claim_context(request, claim))


@staff_required()
def evidence_photo(request: AuthenticatedRequest, number: str, evidence_id: int) -> FileResponse:
    claim = claim_get_for_staff(user=request.user, number=number)
    ev = claim.evidence.filter(pk=evidence_id).first()
    if ev is None:
        raise Http404
    audit_record(actor=request.user, action="photo_viewed", claim=claim, object_type="evidence", object_id=str(ev.pk))
    return evidence_response(ev.photo.open("rb"), content_type=ev.photo_content_type,
                             name=f"{claim.number}-{ev.meter_serial}")


@staff_required()
def answer_photo(request: AuthenticatedRequest, number: str, request_id: int) -> FileResponse:
    claim = claim_get_for_staff(user=request.user, number=number)
    ir = claim.info_requests.filter(pk=request_id).exclude(answer_photo="").first()
    if ir is None:
        raise Http404
    audit_record(actor=request.user, action="photo_viewed", claim=claim, object_type="info_request",
                 object_id=str(ir.pk))
    return evidence_response(ir.answer_photo.open("rb"), content_type=ir.answer_photo_content_type,
                             name=f"{claim.number}-answer-{ir.pk}")


def _rerender(request: AuthenticatedRequest, claim: Claim, name: str, form: Any, status: int = 400) -> HttpResponse:
    ctx = _claim_context(request, claim)
    ctx["forms"][name] = form
    ctx["open_form"] = name
    ctx["error_form"] = form
    return render(request, "backoffice/claim.html", ctx, status=status)


@dataclass(frozen=True)
class Action:
    """One of the claim page's forms: how to build it from the POST, the service it calls,
    and what the staff member is told. Who may do it is the service's business."""

    form_name: str
    form: Callable[[AuthenticatedRequest, Claim], Any]
    call: Callable[[AuthenticatedRequest, Claim, Any], Any]
    done: Any


def _text_action(name: str, call: Callable[[AuthenticatedRequest, Claim, str], Any], done: Any) -> Action:
    return Action(name, lambda request, claim: _text_form(name, request.POST),
                  lambda request, claim, form: call(request, claim, form.cleaned_data["text"]), done)


def _correction_form(request: HttpRequest, claim: Claim, *, preview: bool = False) -> CorrectionForm:
    form = CorrectionForm(request.POST, lines=[ln.__dict__ for ln in claim.invoice.lines])
    if preview:
        form.fields["note"].required = False
    return form


ACTIONS: dict[str, Action] = {
    "take": Action("take", lambda request, claim: None,
                   lambda request, claim, form: services.claim_take(claim=claim, actor=request.user),
                   gettext_lazy("Müraciət sizə təyin edildi.")),
    "reassign": Action(
        "reassign", lambda request, claim: ReassignForm(request.POST, operators=operators_of(claim.branch_id)),
        lambda request, claim, form: services.claim_reassign(claim=claim, actor=request.user,
                                                             operator=form.cleaned_data["operator"]),
        gettext_lazy("Müraciət başqa operatora təyin edildi.")),
    "info": Action("info", lambda request, claim: _text_form("info", request.POST),
                   lambda request, claim, form: services.claim_request_info(
                       claim=claim, actor=request.user, question=form.cleaned_data["text"],
                       reply_by=form.cleaned_data.get("reply_by")),
                   gettext_lazy("Vətəndaşa sorğu göndərildi; müddət dayandırıldı.")),
    "forward_out": Action(
        "forward_out", lambda request, claim: ForwardOutForm(request.POST, auto_id="id_forward_out_%s"),
        lambda request, claim, form: services.claim_forward_out(claim=claim, actor=request.user,
                                                                body=form.cleaned_data["body"],
                                                                note=form.cleaned_data["note"]),
        gettext_lazy("Müraciət aidiyyəti üzrə göndərildi; vətəndaş məlumatlandırıldı.")),
    "unconsidered": Action(
        "unconsidered", lambda request, claim: UnconsideredForm(request.POST, auto_id="id_unconsidered_%s"),
        lambda request, claim, form: services.claim_leave_unconsidered(
            claim=claim, actor=request.user, reason=form.cleaned_data["reason"],
            nothing_new=form.cleaned_data["nothing_new"]),
        gettext_lazy("Təkrar müraciət baxılmadan saxlanıldı; vətəndaşa əsaslandırılmış cavab göndərildi.")),
    "close": _text_action("close", lambda request, claim, text: services.claim_close_no_correction(
        claim=claim, actor=request.user, explanation=text),
        gettext_lazy("Müraciət bağlandı; vətəndaşa izahat göndərildi.")),
    "extend": _text_action("extend", lambda request, claim, text: services.claim_extend_deadline(
        claim=claim, actor=request.user, reason=text),
        gettext_lazy("Müddət 30 iş gününə uzadıldı; vətəndaş məlumatlandırıldı.")),
    "cancel_inspection": _text_action("cancel_inspection", lambda request, claim, text: inspection_cancel(
        claim=claim, actor=request.user, reason=text),
        gettext_lazy("Yerində yoxlama ləğv edildi; vətəndaş məlumatlandırıldı.")),
    "inspection": Action(
        "inspection", lambda request, claim: OrderInspectionForm(request.POST, branch_id=claim.branch_id),
        lambda request, claim, form: inspection_order(claim=claim, actor=request.user, **form.cleaned_data),
        gettext_lazy("Yerində yoxlama təyin edildi; vətəndaşa tarix və vaxt bildirildi.")),
    "propose": Action(
        "correction", _correction_form,
        lambda request, claim, form: services.claim_propose_correction(
            claim=claim, actor=request.user, readings=form.readings(), note=form.cleaned_data["note"]),
        gettext_lazy("Düzəliş təklifi komissiyaya göndərildi.")),
}


@require_POST
@staff_required()
def claim_action(request: AuthenticatedRequest, number: str, action: str) -> HttpResponse:
    """One action of the claim page: the form is checked here, everything else (the claim's
    status, who may act) by the service, whose refusal is shown to the staff member: a
    refusal of who asks is 403, of what is asked a message on the page."""
    claim = claim_get_for_staff(user=request.user, number=number)
    if action == "preview":
        form = _correction_form(request, claim, preview=True)
        if not form.is_valid():
            return _rerender(request, claim, "correction", form)
        try:
            preview = services.correction_preview(claim=claim, readings=form.readings())
        except ServiceError as exc:
            form_add_error(form, exc)
            return _rerender(request, claim, "correction", form)
        ctx = _claim_context(request, claim)
        ctx["forms"]["correction"] = form
        ctx["preview"] = preview
        ctx["open_form"] = "correction"
        return render(request, "backoffice/claim.html", ctx)
    spec = ACTIONS.get(action)
    if spec is None:
        raise Http404
    form = spec.form(request, claim)
    if form is not None and not form.is_valid():
        return _rerender(request, claim, spec.form_name, form)
    try:
        spec.call(request, claim, form)
    except ServiceError as exc:
        if exc.forbidden:
            raise PermissionDenied(exc.message) from exc
        if form is not None and exc.field and exc.field in form.fields:
            # A refusal of what was typed (a date past the legal cap, a body no longer listed)
            # goes next to its field, with the rest of the form kept.
            form_add_error(form, exc)
            return _rerender(request, claim, spec.form_name, form)
        messages.error(request, exc.message)
    else:
        messages.success(request, str(spec.done))
    return redirect("backoffice:claim", number=claim.number)
