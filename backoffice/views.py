"""Staff pages: login, the operator's work queue, the claim page and its actions."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.views import LoginView
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from audit.models import AuditEntry
from audit.services import audit_record
from billing.gateway import get_gateway
from billing.models import Category
from claims import services
from claims.models import ClaimEvent
from claims.services import ClaimError
from claims.transitions import ClaimStatus
from identity.models import Role

from . import access, selectors
from .decorators import staff_required
from .forms import CorrectionForm, QueueFilterForm, ReassignForm, TextForm

PAGE_SIZE = 50

# The labels of the claim page's one-text forms. Each form has its own ids (several are on
# the page at once) and keeps its label when it comes back with an error.
TEXT_LABELS = {
    "info": gettext_lazy("Vətəndaşdan nə istənilir (məlumat və ya yeni şəkil)"),
    "close": gettext_lazy("Vətəndaşa izahat: niyə düzəliş tələb olunmur"),
    "extend": gettext_lazy("Müddətin 30 iş gününə uzadılma səbəbi"),
}


def _text_form(action: str, data=None) -> TextForm:
    return TextForm(data, label=TEXT_LABELS[action], auto_id=f"id_{action}_%s")


class StaffLoginView(LoginView):
    template_name = "backoffice/login.html"

    def get_default_redirect_url(self):
        user = self.request.user
        if access.has_role(user, Role.OPERATOR, Role.BRANCH_MANAGER, Role.ADMINISTRATOR):
            return reverse("backoffice:queue")
        if access.has_role(user, Role.INSPECTOR):
            return reverse("inspections:visits")
        if access.has_role(user, Role.COMMISSION_MEMBER, Role.COMMISSION_SECRETARY):
            return reverse("commission:agenda")
        return reverse("backoffice:queue")


@staff_required(Role.OPERATOR, Role.BRANCH_MANAGER)
def queue(request: HttpRequest) -> HttpResponse:
    form = QueueFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    qs = selectors.queue_for(request.user, **{k: v for k, v in filters.items() if v})
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    today, near = selectors.deadline_marks()
    params = request.GET.copy()
    params.pop("page", None)
    return render(request, "backoffice/queue.html", {
        "form": form, "page": page, "today": today, "near": near, "params": params.urlencode(),
    })


def _claim_context(request: HttpRequest, claim) -> dict:
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
    can_work = access.can_work_on(request.user, claim)
    ctx = {
        "claim": claim, "account": account, "history": history, "chart": selectors.consumption_chart(history),
        "hints": selectors.plausibility_hints(claim, invoices), "inspections": inspections, "proposals": proposals,
        "info_requests": list(claim.info_requests.all()),
        "events": ClaimEvent.objects.filter(claim=claim).order_by("at", "id"),
        "audit": AuditEntry.objects.filter(claim=claim).select_related("actor").order_by("-at", "-id")[:200],
        "can_work": can_work, "is_manager": access.is_manager_of(request.user, claim.branch_id),
        "can_take": can_work and claim.operator_id in (None, request.user.pk)
        and (claim.status == ClaimStatus.FORWARDED or (claim.operator_id is None and claim.is_open)),
        "reason": claim.reason.text((get_language() or "az")[:2]),
        "category": Category(account.category).label if account else "",
        "S": ClaimStatus,
        "forms": {},
    }
    if can_work and claim.status == ClaimStatus.IN_REVIEW:
        from inspections.forms import OrderInspectionForm

        ctx["forms"] = {
            "inspection": OrderInspectionForm(branch_id=claim.branch_id),
            "info": _text_form("info"),
            "close": _text_form("close"),
            "correction": CorrectionForm(lines=claim.invoice_snapshot.get("lines", []),
                                         initial_readings=initial_readings),
        }
    if can_work and claim.is_open and claim.working_days < 30:
        ctx["forms"]["extend"] = _text_form("extend")
    if ctx["is_manager"] and claim.is_open:
        ctx["forms"]["reassign"] = ReassignForm(operators=access.operators_of(claim.branch_id))
    return ctx


@staff_required()
def claim_page(request: HttpRequest, number: str) -> HttpResponse:
    claim = access.claim_get_for_staff(user=request.user, number=number)
    audit_record(actor=request.user, action="claim_viewed", claim=claim, object_type="claim", object_id=claim.number,
                 ip=request.META.get("REMOTE_ADDR"))
    return render(request, "backoffice/claim.html", _claim_context(request, claim))


@staff_required()
def evidence_photo(request: HttpRequest, number: str, evidence_id: int) -> FileResponse:
    claim = access.claim_get_for_staff(user=request.user, number=number)
    ev = claim.evidence.filter(pk=evidence_id).first()
    if ev is None:
        raise Http404
    audit_record(actor=request.user, action="photo_viewed", claim=claim, object_type="evidence", object_id=str(ev.pk))
    return FileResponse(ev.photo.open("rb"), content_type=ev.photo_content_type)


@staff_required()
def answer_photo(request: HttpRequest, number: str, request_id: int) -> FileResponse:
    claim = access.claim_get_for_staff(user=request.user, number=number)
    ir = claim.info_requests.filter(pk=request_id).exclude(answer_photo="").first()
    if ir is None:
        raise Http404
    audit_record(actor=request.user, action="photo_viewed", claim=claim, object_type="info_request",
                 object_id=str(ir.pk))
    return FileResponse(ir.answer_photo.open("rb"), content_type=ir.answer_photo_content_type)


def _rerender(request, claim, name, form, status=400):
    ctx = _claim_context(request, claim)
    ctx["forms"][name] = form
    ctx["open_form"] = name
    ctx["error_form"] = form
    return render(request, "backoffice/claim.html", ctx, status=status)


@require_POST
@staff_required()
def claim_action(request: HttpRequest, number: str, action: str) -> HttpResponse:
    claim = access.claim_get_for_staff(user=request.user, number=number)
    user = request.user
    manager = access.is_manager_of(user, claim.branch_id)
    if action == "reassign":
        if not manager:
            raise PermissionDenied
    elif not access.can_work_on(user, claim):
        raise PermissionDenied
    try:
        if action == "take":
            services.claim_take(claim=claim, by=user)
            messages.success(request, _("Müraciət sizə təyin edildi."))
        elif action == "reassign":
            form = ReassignForm(request.POST, operators=access.operators_of(claim.branch_id))
            if not form.is_valid():
                return _rerender(request, claim, "reassign", form)
            services.claim_reassign(claim=claim, by=user, operator=form.cleaned_data["operator"])
            messages.success(request, _("Müraciət başqa operatora təyin edildi."))
        elif action in ("info", "close", "extend"):
            if action != "extend" and claim.operator_id not in (user.pk, None) and not manager:
                raise PermissionDenied
            form = _text_form(action, request.POST)
            if not form.is_valid():
                return _rerender(request, claim, action, form)
            text = form.cleaned_data["text"]
            if action == "info":
                services.claim_request_info(claim=claim, by=user, question=text)
                messages.success(request, _("Vətəndaşa sorğu göndərildi; müddət dayandırıldı."))
            elif action == "close":
                services.claim_close_no_correction(claim=claim, by=user, explanation=text)
                messages.success(request, _("Müraciət bağlandı; vətəndaşa izahat göndərildi."))
            else:
                services.claim_extend_deadline(claim=claim, by=user, reason=text)
                messages.success(request, _("Müddət 30 iş gününə uzadıldı; vətəndaş məlumatlandırıldı."))
        elif action == "inspection":
            from inspections.forms import OrderInspectionForm
            from inspections.services import inspection_order

            form = OrderInspectionForm(request.POST, branch_id=claim.branch_id)
            if not form.is_valid():
                return _rerender(request, claim, "inspection", form)
            inspection_order(claim=claim, by=user, **form.cleaned_data)
            messages.success(request, _("Yerində yoxlama təyin edildi; vətəndaşa tarix və vaxt bildirildi."))
        elif action in ("preview", "propose"):
            form = CorrectionForm(request.POST, lines=claim.invoice_snapshot.get("lines", []))
            if action == "preview":
                form.fields["note"].required = False
            if not form.is_valid():
                return _rerender(request, claim, "correction", form)
            if action == "preview":
                preview = services.correction_preview(claim=claim, readings=form.readings())
                ctx = _claim_context(request, claim)
                ctx["forms"]["correction"] = form
                ctx["preview"] = preview
                ctx["open_form"] = "correction"
                return render(request, "backoffice/claim.html", ctx)
            services.claim_propose_correction(claim=claim, by=user, readings=form.readings(),
                                              note=form.cleaned_data["note"])
            messages.success(request, _("Düzəliş təklifi komissiyaya göndərildi."))
        else:
            raise Http404
    except ClaimError as exc:
        messages.error(request, str(exc))
    except services.transitions.IllegalTransition:
        messages.error(request, _("Bu əməliyyat müraciətin hazırkı statusunda mümkün deyil."))
    return redirect("backoffice:claim", number=claim.number)
