"""Every change to a claim. Each service is one move of ``claims.workflow``: it takes the
actor, and ``workflow.begin`` refuses the move (nothing written) unless the claim's status
allows it and the actor is one of its parties; ``workflow.perform`` records it with its
timeline entry, audit entry and the subscribers' rows (notifications, webhooks) in one
transaction."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.gateway import AccountInfo, InvoiceInfo, get_gateway
from billing.models import Branch
from core.errors import NotAllowed, ServiceError
from identity.models import Role, User
from identity.roles import operators_of

from . import workflow
from .deadlines import compute_due_on, effective_due_on
from .models import (
    Channel,
    Claim,
    ClaimMeterEvidence,
    ClaimNumberSequence,
    CorrectionProposal,
    InfoRequest,
    ProposalStatus,
    ReasonTemplate,
)
from .snapshots import Calculation
from .transitions import OPEN_STATUSES, ClaimStatus

ClaimError = ServiceError  # the services' one error type (core.errors), under the name callers know


class DuplicateOpenClaim(ServiceError):
    code = "duplicate_open_claim"

    def __init__(self, number: str):
        self.number = number
        super().__init__(
            _("Bu faktura üzrə artıq açıq müraciət var: № %(number)s. Onun statusunu “Müraciətin statusunu yoxla” "
              "bölməsində izləyə bilərsiniz.") % {"number": number}, field="invoice_number",
        )


@dataclass(frozen=True)
class MeterDeclaration:
    meter_serial: str
    seal_number: str
    billed_reading: int | None
    declared_reading: int
    photo_path: str  # a validated, re-encoded file in default storage (claims.evidence.photo_store)
    photo_content_type: str


def claim_number_next(*, year: int) -> str:
    """The next claim number of the year, e.g. BA-2026-000042. Must run inside a transaction:
    the year's sequence row stays locked until it commits, so concurrent registrations on
    PostgreSQL never share a number."""
    seq, _created = ClaimNumberSequence.objects.select_for_update().get_or_create(year=year)
    seq.last += 1
    seq.save(update_fields=["last"])
    return f"BA-{year}-{seq.last:06d}"




def claim_register(
    *, citizen: User, account: AccountInfo, invoice: InvoiceInfo, reason: ReasonTemplate, reason_text: str,
    meters: list[MeterDeclaration], phone: str, email: str, comment: str, language: str, login_method: str,
    channel: str = Channel.PORTAL, submission_key: str, consent: bool, now: datetime | None = None,
) -> Claim:
    """Register a claim and forward it to the account's branch, in one transaction.

    Idempotent on ``submission_key``: a repeated submission returns the first claim. Raises
    DuplicateOpenClaim when the invoice already has an open claim, ServiceError on bad input;
    in both cases nothing is written.
    """
    existing = Claim.objects.filter(submission_key=submission_key, citizen=citizen).first()
    if existing is not None:
        return existing
    if not consent:
        raise ServiceError(_("Şəxsi məlumatların emalına razılığınızı təsdiq edin."), field="consent")
    if invoice.subscriber_code != account.subscriber_code:
        raise ServiceError(_("Faktura bu abonentə aid deyil."), field="invoice_number")
    if not meters:
        raise ServiceError(_("Hər sayğac üçün göstərici və şəkil tələb olunur."), field="meters")
    if reason.requires_text and not reason_text.strip():
        raise ServiceError(_("Müraciətin səbəbini yazın."), field="reason_text")
    now = now or timezone.now()
    open_claim = Claim.objects.filter(invoice_number=invoice.number, status__in=OPEN_STATUSES).first()
    if open_claim is not None:
        raise DuplicateOpenClaim(open_claim.number)
    branch = Branch.objects.get(code=account.branch_code)

    # Evidence files are copied before the transaction; a rolled-back registration leaves
    # only unreferenced files, which the draft clean-up removes.
    stored = []
    for m in meters:
        with default_storage.open(m.photo_path, "rb") as fh:
            ext = m.photo_path.rsplit(".", 1)[-1]
            stored.append(default_storage.save(f"claims/{now:%Y/%m}/{uuid.uuid4().hex}.{ext}",
                                               ContentFile(fh.read())))
    try:
        with transaction.atomic():
            local_day = timezone.localdate(now)
            claim = Claim(
                number=claim_number_next(year=local_day.year), citizen=citizen,
                channel=channel, login_method=login_method, language=language,
                subscriber_code=account.subscriber_code, invoice_number=invoice.number,
                invoice_snapshot=invoice.as_json(), holder_name=account.holder_name, address=account.address,
                branch=branch, reason=reason, reason_text=reason_text.strip(), phone=phone, email=email,
                comment=comment.strip(), consent_at=now, registered_at=now,
                due_on=compute_due_on(registered_on=local_day, working_days=settings.CLAIM_ANSWER_WORKING_DAYS),
                working_days=settings.CLAIM_ANSWER_WORKING_DAYS,
                submission_key=submission_key,
            )
            workflow.check(workflow.REGISTER, claim=claim, actor=citizen)
            claim.save()
            ClaimMeterEvidence.objects.bulk_create([
                ClaimMeterEvidence(claim=claim, meter_serial=m.meter_serial, seal_number=m.seal_number,
                                   billed_reading=m.billed_reading, declared_reading=m.declared_reading,
                                   photo=path, photo_content_type=m.photo_content_type)
                for m, path in zip(meters, stored, strict=True)
            ])
            workflow.perform(workflow.REGISTER, claim=claim, actor=citizen, at=now, audit={
                "number": claim.number, "subscriber_code": claim.subscriber_code, "invoice": claim.invoice_number,
                "reason": reason.code, "channel": channel, "login_method": login_method,
                "meters": [{"serial": m.meter_serial, "declared": m.declared_reading} for m in meters],
            })
            claim = _forward(claim)
    except IntegrityError:
        # A concurrent submission won: the same draft, or another claim for the same invoice.
        for path in stored:
            default_storage.delete(path)
        existing = Claim.objects.filter(submission_key=submission_key, citizen=citizen).first()
        if existing is not None:
            return existing
        open_claim = Claim.objects.filter(invoice_number=invoice.number, status__in=OPEN_STATUSES).first()
        if open_claim is not None:
            raise DuplicateOpenClaim(open_claim.number) from None
        raise
    except BaseException:
        for path in stored:
            default_storage.delete(path)
        raise
    for m in meters:
        if m.photo_path.startswith("drafts/"):
            transaction.on_commit(partial(default_storage.delete, m.photo_path))
    return claim


def operator_pick(*, branch: Branch) -> User | None:
    """The branch's active operator with the fewest open claims (None: nobody available)."""
    return (
        User.objects.filter(is_active=True, assignments__role=Role.OPERATOR, assignments__branch=branch)
        .annotate(open_claims=Count("assigned_claims", filter=Q(assigned_claims__status__in=OPEN_STATUSES),
                                    distinct=True))
        .order_by("open_claims", "id")
        .first()
    )


def _forward(claim: Claim) -> Claim:
    """Route a registered claim to its branch and its least-loaded operator (or leave it in
    the branch queue when the branch has none), and tell the citizen. Part of registration:
    the service makes this move itself, nobody else can."""
    claim = workflow.begin(workflow.FORWARD, claim=claim, actor=None)
    operator = operator_pick(branch=claim.branch)
    return workflow.perform(workflow.FORWARD, claim=claim, actor=None, note=claim.branch.name,
                            fields={"operator": operator}, audit={"branch": claim.branch.code},
                            notify_extra={"branch": claim.branch})


# --- Deadlines -----------------------------------------------------------------------------

def claim_due_on(claim: Claim, *, today: date | None = None, settled: bool = False) -> date:
    """The claim's due date from its history: its answer period (15 or, extended, 30 working
    days) from registration, pushed back by the working days spent waiting for the citizen.
    An unanswered request counts up to ``today``; with ``settled`` it is left out (the date
    kept in ``Claim.due_on``, which ``Claim.effective_due_on`` pushes back as the wait goes)."""
    pauses = [
        (timezone.localdate(r.asked_at), timezone.localdate(r.answered_at) if r.answered_at else None)
        for r in claim.info_requests.all() if r.answered_at is not None or not settled
    ]
    return compute_due_on(registered_on=timezone.localdate(claim.registered_at), working_days=claim.working_days,
                          pauses=pauses, today=None if settled else today or timezone.localdate())


# --- Back office -------------------------------------------------------------------------

@transaction.atomic
def claim_take(*, claim: Claim, actor: User | None) -> Claim:
    """An operator of the claim's branch starts the review of a forwarded claim that is his
    or nobody's (it becomes his), or takes an open claim nobody holds. Taking a claim one
    already holds changes nothing."""
    locked = workflow.lock(claim)
    move = workflow.TAKE if locked.status == ClaimStatus.FORWARDED else workflow.PICK_UP
    if move is workflow.PICK_UP and locked.is_open and locked.operator_id is not None:
        if actor is not None and locked.operator_id == actor.pk:
            return locked  # already his: nothing to record
        raise ServiceError(_("Müraciət artıq başqa operatora təyin edilib."), code="already_assigned")
    locked = workflow.begin(move, claim=locked, actor=actor)
    note = _("Operator müraciəti araşdırmağa başladı.") if move is workflow.TAKE else ""
    return workflow.perform(move, claim=locked, actor=actor, note=note, fields={"operator": actor})


@transaction.atomic
def claim_reassign(*, claim: Claim, actor: User, operator: User) -> Claim:
    """A branch manager hands a claim to another operator of its branch."""
    claim = workflow.begin(workflow.REASSIGN, claim=claim, actor=actor)
    if not operators_of(claim.branch_id).filter(pk=operator.pk).exists():
        raise ServiceError(_("Seçilmiş operator bu müraciətin filialına aid deyil."), field="operator")
    return workflow.perform(workflow.REASSIGN, claim=claim, actor=actor, note=operator.display_name,
                            fields={"operator": operator}, audit={"operator": operator.pk})


@transaction.atomic
def claim_request_info(*, claim: Claim, actor: User, question: str) -> Claim:
    """Ask the citizen for information or a new photo. The deadline clock stops until the
    citizen answers (``Claim.effective_due_on`` moves with every working day of waiting)."""
    question = question.strip()
    if not question:
        raise ServiceError(_("Vətəndaşdan nə istənildiyini yazın."), field="text")
    claim = workflow.begin(workflow.REQUEST_INFO, claim=claim, actor=actor)
    now = timezone.now()
    InfoRequest.objects.create(claim=claim, asked_by=actor, asked_at=now, question=question)
    return workflow.perform(workflow.REQUEST_INFO, claim=claim, actor=actor, note=question,
                            fields={"paused_on": timezone.localdate(now)}, notify_extra={"question": question})


@transaction.atomic
def claim_answer_info(*, claim: Claim, actor: User, text: str, photo_path: str = "",
                      photo_content_type: str = "") -> Claim:
    """The citizen answers an information request: the claim returns to its operator and the
    deadline clock runs again (the due date moves by the working days paused)."""
    try:
        claim = workflow.begin(workflow.ANSWER_INFO, claim=claim, actor=actor)
    except NotAllowed:
        raise ServiceError(_("Müraciət tapılmadı."), code="not_found") from None
    if not text.strip() and not photo_path:
        raise ServiceError(_("Cavabı yazın və ya şəkil yükləyin."), field="text")
    request = claim.info_requests.filter(answered_at__isnull=True).order_by("-asked_at").first()
    if request is None:
        raise ServiceError(_("Cavab gözləyən sorğu yoxdur."), code="invalid_state")
    request.answered_at = timezone.now()
    request.answer_text = text.strip()
    if photo_path:
        with default_storage.open(photo_path, "rb") as fh:
            request.answer_photo.save(f"{uuid.uuid4().hex}.{photo_path.rsplit('.', 1)[-1]}",
                                      ContentFile(fh.read()), save=False)
        request.answer_photo_content_type = photo_content_type
    request.save()
    return workflow.perform(workflow.ANSWER_INFO, claim=claim, actor=actor, note=text.strip()[:500],
                            fields={"paused_on": None, "due_on": claim_due_on(claim, settled=True)})


@transaction.atomic
def claim_extend_deadline(*, claim: Claim, actor: User, reason: str) -> Claim:
    """Extend the answer period to 30 working days (art. 10.1) when an inspection or the
    commission needs it; the reason is recorded and the citizen told."""
    reason = reason.strip()
    if not reason:
        raise ServiceError(_("Müddətin uzadılma səbəbini yazın."), field="text")
    claim = workflow.begin(workflow.EXTEND, claim=claim, actor=actor)
    if claim.working_days >= 30:
        raise ServiceError(_("Müddət artıq 30 iş gününə uzadılıb."))
    claim.working_days = 30
    due_on = claim_due_on(claim, settled=True)
    shown = effective_due_on(due_on=due_on, paused_on=claim.paused_on, today=timezone.localdate()) \
        if claim.status == ClaimStatus.AWAITING_CITIZEN else due_on
    return workflow.perform(workflow.EXTEND, claim=claim, actor=actor, note=reason,
                            fields={"extension_reason": reason, "due_on": due_on},
                            notify_extra={"new_due_on": shown, "reason": reason})


@dataclass(frozen=True)
class CorrectionPreview:
    readings: dict[str, int]
    consumption: int
    old_amount: Decimal
    new_amount: Decimal
    calculation: Calculation

    @property
    def difference(self) -> Decimal:
        return self.new_amount - self.old_amount


def correction_preview(*, claim: Claim, readings: dict[str, int]) -> CorrectionPreview:
    """Recompute the disputed invoice with corrected current readings, at the tariffs in force
    over its period (split across a tariff change)."""
    snap = InvoiceInfo.from_json(claim.invoice_snapshot)
    consumption = 0
    for line in snap.lines:
        serial = line.meter_serial
        current = readings.get(serial, line.current_reading)
        if current < line.previous_reading:
            raise ServiceError(_("Sayğac %(serial)s üçün göstərici əvvəlki göstəricidən (%(prev)s) az ola bilməz.")
                               % {"serial": serial, "prev": line.previous_reading})
        consumption += current - line.previous_reading
    priced = get_gateway().price(claim.subscriber_code, period_start=snap.period_start, period_end=snap.period_end,
                                 consumption=consumption)
    calculation = Calculation(
        period_start=snap.period_start, period_end=snap.period_end, consumption=consumption,
        water_amount=priced.water_amount, sewerage_amount=priced.sewerage_amount,
        parts=tuple(replace(p, volume=p.volume.quantize(Decimal("0.001"))) for p in priced.parts),
    )
    return CorrectionPreview(readings=dict(readings), consumption=consumption, old_amount=snap.total,
                             new_amount=priced.total, calculation=calculation)


@transaction.atomic
def claim_propose_correction(*, claim: Claim, actor: User, readings: dict[str, int], note: str) -> CorrectionProposal:
    """Send a debt correction to the commission: the recomputed invoice with the operator's note."""
    note = note.strip()
    if not note:
        raise ServiceError(_("Komissiya üçün qeydi yazın."), field="note")
    claim = workflow.begin(workflow.PROPOSE_CORRECTION, claim=claim, actor=actor)
    preview = correction_preview(claim=claim, readings=readings)
    if preview.difference == 0:
        raise ServiceError(_("Yenidən hesablanmış məbləğ fakturadakı ilə eynidir; düzəliş tələb olunmur."))
    claim.proposals.filter(status=ProposalStatus.PENDING).update(status=ProposalStatus.WITHDRAWN)
    proposal = CorrectionProposal.objects.create(
        claim=claim, proposed_by=actor, proposed_at=timezone.now(), readings=preview.readings,
        consumption=preview.consumption, old_amount=preview.old_amount, new_amount=preview.new_amount,
        calculation=preview.calculation.to_json(), note=note,
    )
    workflow.perform(workflow.PROPOSE_CORRECTION, claim=claim, actor=actor,
                     note=_("Borca düzəliş təklifi daimi komissiyaya göndərildi."),
                     audit={"proposal": proposal.pk, "old": str(preview.old_amount), "new": str(preview.new_amount)})
    return proposal


@transaction.atomic
def claim_close_no_correction(*, claim: Claim, actor: User, explanation: str) -> Claim:
    """The operator closes a claim in review: no correction is due, with a written explanation
    sent to the citizen. Only from review: a claim at the commission is closed by the
    commission's decision, never around it."""
    explanation = explanation.strip()
    if not explanation:
        raise ServiceError(_("Vətəndaşa göndəriləcək izahatı yazın."), field="text")
    claim = workflow.begin(workflow.CLOSE_NO_CORRECTION, claim=claim, actor=actor)
    return workflow.perform(workflow.CLOSE_NO_CORRECTION, claim=claim, actor=actor, note=explanation,
                            fields={"outcome_reason": explanation, "corrected_amount": None,
                                    "closed_at": timezone.now()},
                            notify_extra={"amount": None, "reason": explanation})


def claim_decide(*, claim: Claim, actor: User, context: workflow.Context, approved: bool, amount: Decimal | None,
                 reason: str, extra: dict[str, Any]) -> Claim:
    """Close a claim at the commission by its decision (called by commission.services inside
    the decision's transaction, with the claim locked): corrected with the amount, or refused
    with the reason. The proposal the item carries is approved or refused."""
    move = workflow.APPROVE if approved else workflow.REFUSE
    claim = workflow.perform(move, claim=claim, actor=actor, context=context,  # checks the move first
                             note="" if approved else reason,
                             fields={"outcome_reason": reason, "corrected_amount": amount,
                                     "closed_at": timezone.now()},
                             notify_extra={"amount": amount, "reason": reason, **extra})
    proposal = context.item.proposal
    proposal.status = ProposalStatus.APPROVED if approved else ProposalStatus.REFUSED
    proposal.save(update_fields=["status"])
    return claim


@transaction.atomic
def claim_return_from_commission(*, claim: Claim, actor: User, reason: str) -> Claim:
    """The commission's secretary returns a claim to its operator without a decision (the
    correction needs another look): the pending proposal is withdrawn and the claim is in
    review again. Its undecided agenda items go with it (commission.services does that
    first, inside the same transaction)."""
    reason = reason.strip()
    if not reason:
        raise ServiceError(_("Müraciətin operatora qaytarılma səbəbini yazın."), field="reason")
    claim = workflow.begin(workflow.RETURN_FROM_COMMISSION, claim=claim, actor=actor)
    claim.proposals.filter(status=ProposalStatus.PENDING).update(status=ProposalStatus.WITHDRAWN)
    return workflow.perform(workflow.RETURN_FROM_COMMISSION, claim=claim, actor=actor,
                            note=_("Müraciət əlavə araşdırma üçün operatora qaytarıldı."), audit={"reason": reason})


@transaction.atomic
def claim_withdraw(*, claim: Claim, actor: User) -> Claim:
    """The citizen withdraws a claim that is not yet closed: its pending correction is
    withdrawn, scheduled visits are cancelled (the inspections subscriber)."""
    try:
        claim = workflow.begin(workflow.WITHDRAW, claim=claim, actor=actor)
    except NotAllowed:
        raise ServiceError(_("Müraciət tapılmadı."), code="not_found") from None
    claim.proposals.filter(status=ProposalStatus.PENDING).update(status=ProposalStatus.WITHDRAWN)
    return workflow.perform(workflow.WITHDRAW, claim=claim, actor=actor, fields={"closed_at": timezone.now()})


def drafts_purge(*, older_than_hours: int = 24) -> int:
    """Delete uploaded photos of claims that were never submitted (abandoned drafts)."""
    limit = timezone.now() - timedelta(hours=older_than_hours)
    try:
        _dirs, files = default_storage.listdir("drafts")
    except FileNotFoundError:
        return 0
    removed = 0
    for name in files:
        path = f"drafts/{name}"
        if default_storage.get_modified_time(path) < limit:
            default_storage.delete(path)
            removed += 1
    return removed
