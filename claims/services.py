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
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.mail import EmailMessage
from django.core.mail.message import make_msgid
from django.core.mail.utils import DNS_NAME
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from billing.gateway import AccountInfo, InvoiceInfo, get_gateway
from billing.models import Branch
from core.aftercommit import delete_after_commit
from core.errors import NotAllowed, ServiceError
from core.outbox import Outbox
from identity.models import Role, User
from identity.roles import operators_of

from . import workflow
from .deadlines import (
    FORWARD_OUT_WORKING_DAYS,
    WorkingCalendar,
    compute_due_on,
    effective_due_on,
    latest_reply_by,
    paused_days,
    period_due_on,
)
from .models import (
    Channel,
    Claim,
    ClaimMeterEvidence,
    ClaimNumberSequence,
    CompetentBody,
    ConsentMethod,
    ConsentRecord,
    ConsentText,
    CorrectionProposal,
    InfoRequest,
    ProposalStatus,
    ReasonTemplate,
    Referral,
)
from .pseudonyms import fin_key
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
    consent_version: int | None = None,
) -> Claim:
    """Register a claim and forward it to the account's branch, in one transaction.

    The consent is recorded with the claim: the version of the text shown (``consent_version``,
    default the one in force) in the claim's language, its purposes, the channel and how it was
    given (on the portal's page, or asserted by the channel that filed the claim).

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
    consent_text = consent_text_current(language=language, version=consent_version)

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
                citizen_key=fin_key(getattr(citizen, "fin", None) or ""),
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
            ConsentRecord.objects.create(
                citizen=citizen, claim=claim, text=consent_text, purposes=consent_text.purposes, given_at=now,
                channel=channel, method=ConsentMethod.PAGE if channel == Channel.PORTAL else ConsentMethod.ASSERTION)
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
            delete_after_commit(m.photo_path)
    return claim


def consent_text_current(*, language: str, version: int | None = None) -> ConsentText:
    """The consent text in force (or of ``version``) in ``language``, else in Azerbaijani."""
    texts = ConsentText.objects.filter(published_at__lte=timezone.now())
    if version is not None:
        texts = texts.filter(version=version)
    for lang in (language, "az"):
        text = texts.filter(language=lang).order_by("-version").first()
        if text is not None:
            return text
    raise ServiceError(_("Şəxsi məlumatların emalına razılıq mətni dərc edilməyib."), field="consent")


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
    return workflow.perform(workflow.FORWARD, claim=claim, actor=None, params={"branch": claim.branch.code},
                            fields={"operator": operator}, audit={"branch": claim.branch.code},
                            notify_extra={"branch": claim.branch})


# --- Deadlines -----------------------------------------------------------------------------

def claim_due_on(claim: Claim, *, today: date | None = None, settled: bool = False) -> date:
    """The claim's due date from its history: its answer period (15 or, extended, 30 working
    days) from registration, pushed back by the working days spent waiting for the citizen.
    An unanswered request counts up to ``today``; with ``settled`` it is left out (the date
    kept in ``Claim.due_on``, which ``Claim.effective_due_on`` pushes back as the wait goes)."""
    pauses = [(timezone.localdate(r.asked_at), _pause_end(r)) for r in claim.info_requests.all()
              if _pause_end(r) is not None or not settled]
    return compute_due_on(registered_on=timezone.localdate(claim.registered_at), working_days=claim.working_days,
                          pauses=pauses, today=None if settled else today or timezone.localdate())


def _pause_end(request: InfoRequest) -> date | None:
    """The day a wait for the citizen ended: the answer, or the date asked for, whichever came
    first (the clock runs again after it, answered or not); None while it lasts."""
    if request.answered_at is not None:
        answered = timezone.localdate(request.answered_at)
        return min(answered, request.reply_by) if request.reply_by else answered
    if request.expired_at is not None:
        return request.reply_by or timezone.localdate(request.expired_at)
    return None


def forward_out_due_on(claim: Claim) -> date:
    """The last day to forward an appeal outside the utility's competence (art. 7.10)."""
    return period_due_on(start=timezone.localdate(claim.registered_at), working_days=FORWARD_OUT_WORKING_DAYS)


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
    return workflow.perform(move, claim=locked, actor=actor, fields={"operator": actor},
                            params={"operator": actor.display_name if actor else ""})


@transaction.atomic
def claim_reassign(*, claim: Claim, actor: User, operator: User) -> Claim:
    """A branch manager hands a claim to another operator of its branch."""
    claim = workflow.begin(workflow.REASSIGN, claim=claim, actor=actor)
    if not operators_of(claim.branch_id).filter(pk=operator.pk).exists():
        raise ServiceError(_("Seçilmiş operator bu müraciətin filialına aid deyil."), field="operator")
    return workflow.perform(workflow.REASSIGN, claim=claim, actor=actor, params={"operator": operator.display_name},
                            fields={"operator": operator}, audit={"operator": operator.pk})


@transaction.atomic
def claim_request_info(*, claim: Claim, actor: User, question: str, reply_by: date | None = None) -> Claim:
    """Ask the citizen for information or a new photo, to answer by ``reply_by`` (default
    ``INFO_REPLY_WORKING_DAYS`` working days). The deadline clock stops until the citizen
    answers or that date passes (``Claim.effective_due_on`` moves with every working day of
    waiting); all the waits of a claim add up to 30 working days at most (art. 10.2), so a
    later date, or a request once they are used up, is refused."""
    question = question.strip()
    if not question:
        raise ServiceError(_("Vətəndaşdan nə istənildiyini yazın."), field="text")
    claim = workflow.begin(workflow.REQUEST_INFO, claim=claim, actor=actor)
    now = timezone.now()
    today = timezone.localdate(now)
    cal = WorkingCalendar()
    used = paused_days(pauses=[(timezone.localdate(r.asked_at), end) for r in claim.info_requests.all()
                               if (end := _pause_end(r)) is not None], calendar=cal)
    latest = latest_reply_by(asked_on=today, used=used, calendar=cal)
    if latest is None:
        raise ServiceError(_("Məlumat gözləmə müddətinin 30 iş günlük həddi artıq istifadə olunub (maddə 10.2); "
                             "müraciətə məlum olanlar əsasında baxın."), code="pause_cap", field="text")
    if reply_by is None:
        reply_by = min(cal.add_working_days(today, settings.INFO_REPLY_WORKING_DAYS), latest)
    elif reply_by <= today:
        raise ServiceError(_("Cavab tarixi bu gündən sonra olmalıdır."), field="reply_by")
    elif reply_by > latest:
        raise ServiceError(_("Cavab tarixi %(latest)s tarixindən gec ola bilməz: gözləmələr cəmi 30 iş günündən "
                             "çox ola bilməz (maddə 10.2).") % {"latest": latest.strftime("%d.%m.%Y")},
                           field="reply_by")
    InfoRequest.objects.create(claim=claim, asked_by=actor, asked_at=now, question=question, reply_by=reply_by)
    return workflow.perform(workflow.REQUEST_INFO, claim=claim, actor=actor, note=question,
                            fields={"paused_on": today, "paused_until": reply_by},
                            notify_extra={"question": question, "reply_by": reply_by},
                            audit={"reply_by": reply_by.isoformat()})


def _pending_request(claim: Claim) -> InfoRequest:
    request = (claim.info_requests.filter(answered_at__isnull=True, expired_at__isnull=True)
               .order_by("-asked_at").first())
    if request is None:
        raise ServiceError(_("Cavab gözləyən sorğu yoxdur."), code="invalid_state")
    return request


@transaction.atomic
def claim_info_remind(*, claim: Claim, actor: None = None) -> Claim:
    """Remind the citizen of an unanswered request before the date asked for (made by the
    daily job, ``info_requests_sweep``). A request is reminded once."""
    claim = workflow.begin(workflow.REMIND_INFO, claim=claim, actor=actor)
    request = _pending_request(claim)
    if request.reminded_at is not None:
        raise ServiceError(_("Xatırlatma artıq göndərilib."), code="already_reminded")
    request.reminded_at = timezone.now()
    request.save(update_fields=["reminded_at"])
    return workflow.perform(workflow.REMIND_INFO, claim=claim, actor=actor, note=request.question[:500],
                            notify_extra={"question": request.question, "reply_by": request.reply_by})


@transaction.atomic
def claim_info_expire(*, claim: Claim, actor: None = None) -> Claim:
    """The date asked for passed unanswered: the claim returns to its operator, who decides on
    what is known, and the citizen is told (made by the daily job). The wait counts up to
    that date."""
    claim = workflow.begin(workflow.EXPIRE_INFO, claim=claim, actor=actor)
    request = _pending_request(claim)
    if request.reply_by is None or request.reply_by >= timezone.localdate():
        raise ServiceError(_("Cavab tarixi hələ keçməyib."), code="not_yet")
    request.expired_at = timezone.now()
    request.save(update_fields=["expired_at"])
    return workflow.perform(workflow.EXPIRE_INFO, claim=claim, actor=actor, note=request.question[:500],
                            fields={"paused_on": None, "paused_until": None,
                                    "due_on": claim_due_on(claim, settled=True)},
                            notify_extra={"question": request.question, "reply_by": request.reply_by})


def info_requests_sweep(*, today: date | None = None) -> dict[str, int]:
    """The daily job: remind the citizens whose date is ``INFO_REMIND_WORKING_DAYS`` working
    days away or nearer, and hand back to their operators the claims whose date has passed.
    Idempotent; a claim that moved meanwhile is skipped."""
    today = today or timezone.localdate()
    cal = WorkingCalendar()
    remind_until = cal.add_working_days(today, settings.INFO_REMIND_WORKING_DAYS)
    pending = InfoRequest.objects.filter(answered_at__isnull=True, expired_at__isnull=True,
                                         reply_by__isnull=False, claim__status=ClaimStatus.AWAITING_CITIZEN)
    done = {"reminded": 0, "expired": 0}
    for request in pending.filter(reply_by__lt=today).select_related("claim").order_by("pk"):
        try:
            claim_info_expire(claim=request.claim)
            done["expired"] += 1
        except ServiceError:
            continue
    for request in pending.filter(reply_by__gte=today, reply_by__lte=remind_until, reminded_at__isnull=True
                                  ).select_related("claim").order_by("pk"):
        try:
            claim_info_remind(claim=request.claim)
            done["reminded"] += 1
        except ServiceError:
            continue
    return done


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
    request = _pending_request(claim)
    request.answered_at = timezone.now()
    request.answer_text = text.strip()
    if photo_path:
        with default_storage.open(photo_path, "rb") as fh:
            request.answer_photo.save(f"{uuid.uuid4().hex}.{photo_path.rsplit('.', 1)[-1]}",
                                      ContentFile(fh.read()), save=False)
        request.answer_photo_content_type = photo_content_type
    request.save()
    return workflow.perform(workflow.ANSWER_INFO, claim=claim, actor=actor, note=text.strip()[:500],
                            fields={"paused_on": None, "paused_until": None,
                                    "due_on": claim_due_on(claim, settled=True)})


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
    shown = effective_due_on(due_on=due_on, paused_on=claim.paused_on, today=timezone.localdate(),
                             until=claim.paused_until) \
        if claim.status == ClaimStatus.AWAITING_CITIZEN else due_on
    return workflow.perform(workflow.EXTEND, claim=claim, actor=actor, note=reason,
                            params={"due_on": shown.isoformat()},
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
    """Record the commission's decision on a claim (called by commission.services inside the
    decision's transaction, with the claim locked): approved, the claim waits for billing to
    confirm the correction's posting (``claim_confirm_posting`` closes it as corrected); refused,
    it is closed with the reason. The proposal the item carries is approved or refused."""
    move = workflow.APPROVE if approved else workflow.REFUSE
    fields: dict[str, Any] = {"outcome_reason": reason, "corrected_amount": amount}
    if not approved:
        fields["closed_at"] = timezone.now()
    claim = workflow.perform(move, claim=claim, actor=actor, context=context,  # checks the move first
                             note="" if approved else reason, fields=fields,
                             notify_extra={"amount": amount, "reason": reason, **extra})
    proposal = context.item.proposal
    proposal.status = ProposalStatus.APPROVED if approved else ProposalStatus.REFUSED
    proposal.save(update_fields=["status"])
    return claim


@transaction.atomic
def claim_confirm_posting(*, claim: Claim, actor: User | None, new_balance: Decimal | None,
                          extra: dict[str, Any] | None = None) -> Claim:
    """Billing confirmed the posting of an approved correction: the claim closes as corrected
    and the citizen is told the amount and the new balance. Made by the service itself
    (``actor=None``, the posting outbox's confirmation); anybody else is refused."""
    claim = workflow.begin(workflow.CONFIRM_POSTING, claim=claim, actor=actor)
    return workflow.perform(workflow.CONFIRM_POSTING, claim=claim, actor=actor,
                            fields={"closed_at": timezone.now()},
                            params={"amount": str(claim.corrected_amount)},
                            audit={"new_balance": str(new_balance) if new_balance is not None else None},
                            notify_extra={"amount": claim.corrected_amount, "reason": "", "new_balance": new_balance,
                                          **(extra or {})})


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
    return workflow.perform(workflow.RETURN_FROM_COMMISSION, claim=claim, actor=actor, audit={"reason": reason})


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


# --- Outside competence (art. 7.10) -------------------------------------------------------

def _referral_text(*, claim: Claim, body: CompetentBody, note: str) -> str:
    org = settings.ORGANISATION
    lines = [
        f"{body.name}",
        f"{body.address}",
        "",
        _("Vətəndaşların müraciətləri haqqında Qanunun 7.10-cu maddəsinə əsasən, %(org)s-ə daxil olmuş və "
          "səlahiyyətinə aid olmayan müraciət aidiyyəti üzrə Sizə göndərilir.") % {"org": org["name"]},
        "",
        _("Müraciət nömrəsi: %(number)s") % {"number": claim.number},
        _("Qeydiyyat tarixi: %(date)s") % {"date": timezone.localtime(claim.registered_at).strftime("%d.%m.%Y")},
        _("Müraciət edən: %(name)s") % {"name": claim.holder_name or claim.citizen.display_name},
        _("Ünvan: %(address)s") % {"address": claim.address},
        _("Əlaqə: %(phone)s, %(email)s") % {"phone": claim.phone, "email": claim.email},
        _("Abonent kodu: %(code)s; faktura: %(invoice)s") % {"code": claim.subscriber_code,
                                                               "invoice": claim.invoice_number},
        "",
        _("Müraciətin mətni: %(text)s") % {"text": claim.reason_text or claim.reason.text_az},
        "",
        _("Göndərilmə səbəbi: %(note)s") % {"note": note},
        "",
        _("Sübutlar (sayğacın şəkilləri) əlavə olunur. Müraciət edən şəxsə məlumat verilib."),
        "",
        f"{org['name']} · {org['phone']} · {org['email']}",
    ]
    return "\n".join(lines) + "\n"


@transaction.atomic
def claim_forward_out(*, claim: Claim, actor: User, body: CompetentBody, note: str) -> Claim:
    """Forward an appeal outside the utility's competence to the competent ``body`` (art. 7.10):
    a letter with the evidence is e-mailed to the body (a ``Referral`` on the outbox engine,
    delivered after commit and retried), the claim closes as forwarded and the citizen is told
    where it went. Due within 3 working days of registration (``forward_out_due_on``); a later
    forwarding is still made, and recorded as late in the audit entry."""
    note = note.strip()
    if not note:
        raise ServiceError(_("Müraciətin niyə aidiyyəti üzrə göndərildiyini yazın."), field="note")
    claim = workflow.begin(workflow.FORWARD_OUT, claim=claim, actor=actor)
    body = CompetentBody.objects.filter(pk=body.pk, active=True).first()  # type: ignore[assignment]
    if body is None:
        raise ServiceError(_("Səlahiyyətli qurumu siyahıdan seçin."), field="body")
    due = forward_out_due_on(claim)
    with translation.override("az"):  # the letter to another state body is in the state language
        text = _referral_text(claim=claim, body=body, note=note)
        subject = _("Müraciət aidiyyəti üzrə göndərilir — № %(number)s") % {"number": claim.number}
    referral = Referral.objects.create(claim=claim, body=body, recipient=body.email, subject=subject[:200],
                                       text=text)
    REFERRALS.enqueue_on_commit(referral.pk)
    return workflow.perform(workflow.FORWARD_OUT, claim=claim, actor=actor, note=f"{body.name}: {note}",
                            fields={"competent_body": body, "outcome_reason": note, "corrected_amount": None,
                                    "closed_at": timezone.now()},
                            audit={"body": body.pk, "referral": referral.pk, "due_on": due.isoformat(),
                                   "late": timezone.localdate() > due},
                            notify_extra={"body": body, "reason": note})


def _send_referral(referral: Referral) -> dict[str, Any]:
    """The outbox engine's ``send``: the letter with the claim's meter photos attached."""
    message = EmailMessage(subject=referral.subject, body=referral.text, to=[referral.recipient],
                           headers={"Message-ID": make_msgid(domain=DNS_NAME)})
    for evidence in referral.claim.evidence.all():
        if evidence.photo and default_storage.exists(evidence.photo.name):
            with default_storage.open(evidence.photo.name, "rb") as fh:
                message.attach(f"{evidence.meter_serial}.{evidence.photo.name.rsplit('.', 1)[-1]}", fh.read(),
                               evidence.photo_content_type)
    message.send()
    return {}


REFERRALS: Outbox[Referral] = Outbox(
    model=Referral, task="claims.tasks.deliver_referral", send=_send_referral, settings_prefix="REFERRAL",
    what="referral", describe=lambda r: f"referral {r.pk} ({r.claim_id} to {r.recipient})")


def referral_send(*, referral_id: int) -> None:
    REFERRALS.deliver(referral_id)


def referrals_sweep() -> int:
    return REFERRALS.sweep()


# --- Repeat appeals (art. 8.1.4) ----------------------------------------------------------

REASONED_OUTCOMES = ("corrected", "refused")


def repeat_answers(claim: Claim) -> list[Claim]:
    """The reasoned answers (closed corrected or refused) the same person got on the same
    invoice within the year before ``claim`` was registered (matched by the FIN's keyed hash,
    which outlives anonymisation)."""
    if not claim.citizen_key:
        return []
    return list(Claim.objects.filter(
        citizen_key=claim.citizen_key, invoice_number=claim.invoice_number, status=ClaimStatus.CLOSED,
        outcome__in=REASONED_OUTCOMES, closed_at__gte=claim.registered_at - timedelta(days=365),
        closed_at__lt=claim.registered_at,
    ).exclude(pk=claim.pk).order_by("closed_at"))


@transaction.atomic
def claim_leave_unconsidered(*, claim: Claim, actor: User, reason: str, nothing_new: bool) -> Claim:
    """Leave a repeat appeal unconsidered (art. 8.1.4): only when the same person got three
    reasoned answers on the same invoice within a year and the operator confirms that nothing
    new is declared; the citizen gets the reasoned answer (due within 5 working days of
    registration)."""
    reason = reason.strip()
    claim = workflow.begin(workflow.LEAVE_UNCONSIDERED, claim=claim, actor=actor)
    earlier = repeat_answers(claim)
    if len(earlier) < 3:
        raise ServiceError(_("Müraciət baxılmadan saxlanıla bilməz: eyni məsələ üzrə son bir ildə üç əsaslandırılmış "
                             "cavab verilməyib (maddə 8.1.4)."), code="not_repeat")
    if not nothing_new:
        raise ServiceError(_("Müraciətdə yeni hal göstərilmədiyini təsdiq edin."), field="nothing_new")
    if not reason:
        raise ServiceError(_("Vətəndaşa göndəriləcək əsaslandırılmış cavabı yazın."), field="reason")
    numbers = [c.number for c in earlier]
    return workflow.perform(workflow.LEAVE_UNCONSIDERED, claim=claim, actor=actor, note=reason,
                            fields={"outcome_reason": reason, "corrected_amount": None, "closed_at": timezone.now()},
                            audit={"earlier": numbers}, notify_extra={"reason": reason, "earlier": numbers})
