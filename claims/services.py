"""Every change to a claim. Each service checks the state machine, does its work in one
transaction together with its timeline entry, audit entry and notification rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record
from billing.gateway import AccountInfo, InvoiceInfo
from billing.models import Branch
from identity.models import Role, User
from notifications.models import Event
from notifications.services import notification_queue

from . import transitions
from .deadlines import compute_due_on
from .models import Channel, Claim, ClaimEvent, ClaimMeterEvidence, ClaimNumberSequence, ReasonTemplate
from .transitions import OPEN_STATUSES, ClaimStatus


class ClaimError(Exception):
    """A request the claim cannot take; the message is for the user."""


class DuplicateOpenClaim(ClaimError):
    def __init__(self, number: str):
        self.number = number
        super().__init__(
            _("Bu faktura üzrə artıq açıq müraciət var: № %(number)s. Onun statusunu “Müraciətin statusunu yoxla” "
              "bölməsində izləyə bilərsiniz.") % {"number": number}
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


def _event(claim: Claim, *, kind: str, note: str = "", public: bool = True, at: datetime | None = None) -> None:
    ClaimEvent.objects.create(claim=claim, at=at or timezone.now(), status=claim.status, kind=kind,
                              note=note, public=public)


def _snapshot(claim: Claim) -> dict[str, Any]:
    return {"status": claim.status, "operator": claim.operator_id, "due_on": claim.due_on.isoformat()}


def claim_register(
    *, citizen: User, account: AccountInfo, invoice: InvoiceInfo, reason: ReasonTemplate, reason_text: str,
    meters: list[MeterDeclaration], phone: str, email: str, comment: str, language: str, login_method: str,
    channel: str = Channel.PORTAL, submission_key: str, consent: bool, now: datetime | None = None,
) -> Claim:
    """Register a claim and forward it to the account's branch, in one transaction.

    Idempotent on ``submission_key``: a repeated submission returns the first claim. Raises
    DuplicateOpenClaim when the invoice already has an open claim, ClaimError on bad input;
    in both cases nothing is written.
    """
    existing = Claim.objects.filter(submission_key=submission_key, citizen=citizen).first()
    if existing is not None:
        return existing
    if not consent:
        raise ClaimError(_("Şəxsi məlumatların emalına razılığınızı təsdiq edin."))
    if invoice.subscriber_code != account.subscriber_code:
        raise ClaimError(_("Faktura bu abonentə aid deyil."))
    if not meters:
        raise ClaimError(_("Hər sayğac üçün göstərici və şəkil tələb olunur."))
    if reason.requires_text and not reason_text.strip():
        raise ClaimError(_("Müraciətin səbəbini yazın."))
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
            stored.append(default_storage.save(f"claims/{now:%Y/%m}/{submission_key}-{m.meter_serial}.{ext}",
                                               ContentFile(fh.read())))
    try:
        with transaction.atomic():
            local_day = timezone.localdate(now)
            claim = Claim.objects.create(
                number=claim_number_next(year=local_day.year), citizen=citizen, status=ClaimStatus.REGISTERED,
                channel=channel, login_method=login_method, language=language,
                subscriber_code=account.subscriber_code, invoice_number=invoice.number,
                invoice_snapshot=invoice.as_json(), holder_name=account.holder_name, address=account.address,
                branch=branch, reason=reason, reason_text=reason_text.strip(), phone=phone, email=email,
                comment=comment.strip(), consent_at=now, registered_at=now,
                due_on=compute_due_on(registered_on=local_day, working_days=settings.CLAIM_ANSWER_WORKING_DAYS),
                working_days=settings.CLAIM_ANSWER_WORKING_DAYS,
                submission_key=submission_key,
            )
            ClaimMeterEvidence.objects.bulk_create([
                ClaimMeterEvidence(claim=claim, meter_serial=m.meter_serial, seal_number=m.seal_number,
                                   billed_reading=m.billed_reading, declared_reading=m.declared_reading,
                                   photo=path, photo_content_type=m.photo_content_type)
                for m, path in zip(meters, stored, strict=True)
            ])
            _event(claim, kind="registered", at=now)
            audit_record(actor=citizen, action="claim_registered", claim=claim, after={
                "number": claim.number, "subscriber_code": claim.subscriber_code, "invoice": claim.invoice_number,
                "reason": reason.code, "channel": channel, "login_method": login_method,
                "meters": [{"serial": m.meter_serial, "declared": m.declared_reading} for m in meters],
            })
            notification_queue(claim=claim, event=Event.REGISTERED)
            claim = claim_forward(claim=claim)
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
    for m in meters:
        if m.photo_path.startswith("drafts/"):
            transaction.on_commit(lambda p=m.photo_path: default_storage.delete(p))
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


@transaction.atomic
def claim_forward(*, claim: Claim, by: User | None = None) -> Claim:
    """Route a registered claim to its branch and its least-loaded operator (or leave it in
    the branch queue when the branch has none), and tell the citizen."""
    claim = Claim.objects.select_for_update().get(pk=claim.pk)
    transitions.require(claim, to=ClaimStatus.FORWARDED)
    before = _snapshot(claim)
    claim.status = ClaimStatus.FORWARDED
    claim.operator = operator_pick(branch=claim.branch)
    claim.save(update_fields=["status", "operator"])
    _event(claim, kind="forwarded", note=claim.branch.name)
    audit_record(actor=by, action="claim_forwarded", claim=claim, before=before,
                 after=_snapshot(claim) | {"branch": claim.branch.code})
    notification_queue(claim=claim, event=Event.FORWARDED, extra={"branch": claim.branch})
    return claim


@transaction.atomic
def claim_move(*, claim: Claim, to: str, by: User | None, kind: str, note: str = "") -> Claim:
    """The generic state change: lock, check, change, timeline and audit. Callers add their own
    data and notifications in the same transaction."""
    return _change(_lock(claim), to=to, by=by, kind=kind, note=note)


# --- Back office -------------------------------------------------------------------------

def claim_due_on(claim: Claim, *, today: date | None = None) -> date:
    """The claim's due date from its history: its answer period (15 or, extended, 30 working
    days) from registration, pushed back by the working days spent waiting for the citizen."""
    pauses = [
        (timezone.localdate(r.asked_at), timezone.localdate(r.answered_at) if r.answered_at else None)
        for r in claim.info_requests.all()
    ]
    return compute_due_on(registered_on=timezone.localdate(claim.registered_at), working_days=claim.working_days,
                          pauses=pauses, today=today or timezone.localdate())


def _lock(claim: Claim) -> Claim:
    return Claim.objects.select_for_update().get(pk=claim.pk)


def _change(claim: Claim, *, to: str | None, by: User | None, kind: str, note: str = "", public: bool = True,
            audit_extra: dict[str, Any] | None = None, **fields: Any) -> Claim:
    """Inside a transaction: check the move, apply it and ``fields``, write timeline and audit."""
    if to is not None:
        transitions.require(claim, to=to)
    before = _snapshot(claim)
    if to is not None:
        claim.status = to
    for name, value in fields.items():
        setattr(claim, name, value)
    claim.save()
    _event(claim, kind=kind, note=note, public=public)
    audit_record(actor=by, action=f"claim_{kind}", claim=claim, before=before,
                 after=_snapshot(claim) | (audit_extra or {}))
    return claim


@transaction.atomic
def claim_take(*, claim: Claim, by: User) -> Claim:
    """An operator takes a claim from the branch queue (or starts on one assigned to him):
    it becomes his and moves to review."""
    claim = _lock(claim)
    if claim.operator_id not in (None, by.pk):
        raise ClaimError(_("Müraciət artıq başqa operatora təyin edilib."))
    if claim.status == ClaimStatus.FORWARDED:
        return _change(claim, to=ClaimStatus.IN_REVIEW, by=by, kind="review_started", operator=by,
                       note=_("Operator müraciəti araşdırmağa başladı."))
    if not claim.is_open:
        raise ClaimError(_("Müraciət bağlanıb."))
    return _change(claim, to=None, by=by, kind="taken", operator=by, public=False)


@transaction.atomic
def claim_reassign(*, claim: Claim, by: User, operator: User) -> Claim:
    """A branch manager hands a claim to another operator of its branch."""
    claim = _lock(claim)
    if not claim.is_open:
        raise ClaimError(_("Müraciət bağlanıb."))
    return _change(claim, to=None, by=by, kind="reassigned", operator=operator, public=False,
                   note=operator.display_name, audit_extra={"operator": operator.pk})


@transaction.atomic
def claim_request_info(*, claim: Claim, by: User, question: str) -> Claim:
    """Ask the citizen for information or a new photo. The deadline clock pauses."""
    from .models import InfoRequest

    question = question.strip()
    if not question:
        raise ClaimError(_("Vətəndaşdan nə istənildiyini yazın."))
    claim = _lock(claim)
    transitions.require(claim, to=ClaimStatus.AWAITING_CITIZEN)
    InfoRequest.objects.create(claim=claim, asked_by=by, asked_at=timezone.now(), question=question)
    _change(claim, to=ClaimStatus.AWAITING_CITIZEN, by=by, kind="info_requested", note=question)
    notification_queue(claim=claim, event=Event.INFO_REQUESTED, extra={"question": question})
    return claim


@transaction.atomic
def claim_answer_info(*, claim: Claim, citizen: User, text: str, photo_path: str = "",
                      photo_content_type: str = "") -> Claim:
    """The citizen answers an information request: the claim returns to its operator and the
    deadline clock runs again (the due date moves by the working days paused)."""
    claim = _lock(claim)
    if claim.citizen_id != citizen.pk:
        raise ClaimError(_("Müraciət tapılmadı."))
    if not text.strip() and not photo_path:
        raise ClaimError(_("Cavabı yazın və ya şəkil yükləyin."))
    transitions.require(claim, to=ClaimStatus.IN_REVIEW)
    request = claim.info_requests.filter(answered_at__isnull=True).order_by("-asked_at").first()
    if request is None:
        raise ClaimError(_("Cavab gözləyən sorğu yoxdur."))
    request.answered_at = timezone.now()
    request.answer_text = text.strip()
    if photo_path:
        with default_storage.open(photo_path, "rb") as fh:
            request.answer_photo.save(photo_path.rsplit("/", 1)[-1], ContentFile(fh.read()), save=False)
        request.answer_photo_content_type = photo_content_type
    request.save()
    claim = _change(claim, to=ClaimStatus.IN_REVIEW, by=citizen, kind="info_answered", note=text.strip()[:500])
    claim.due_on = claim_due_on(claim)
    claim.save(update_fields=["due_on"])
    return claim


@transaction.atomic
def claim_extend_deadline(*, claim: Claim, by: User, reason: str) -> Claim:
    """Extend the answer period to 30 working days (art. 10.1) when an inspection or the
    commission needs it; the reason is recorded and the citizen told."""
    reason = reason.strip()
    if not reason:
        raise ClaimError(_("Müddətin uzadılma səbəbini yazın."))
    claim = _lock(claim)
    if not claim.is_open:
        raise ClaimError(_("Müraciət bağlanıb."))
    if claim.working_days >= 30:
        raise ClaimError(_("Müddət artıq 30 iş gününə uzadılıb."))
    claim.working_days = 30
    claim = _change(claim, to=None, by=by, kind="deadline_extended", note=reason, working_days=30,
                    extension_reason=reason, due_on=claim_due_on(claim))
    notification_queue(claim=claim, event=Event.DEADLINE_EXTENDED,
                       extra={"new_due_on": claim.due_on, "reason": reason})
    return claim


@dataclass(frozen=True)
class CorrectionPreview:
    readings: dict[str, int]
    consumption: int
    old_amount: Any
    new_amount: Any
    calculation: dict[str, Any]

    @property
    def difference(self) -> Any:
        return self.new_amount - self.old_amount


def correction_preview(*, claim: Claim, readings: dict[str, int]) -> CorrectionPreview:
    """Recompute the disputed invoice with corrected current readings, at the tariffs in force
    over its period (split across a tariff change)."""
    from decimal import Decimal

    from billing.gateway import get_gateway

    snap = claim.invoice_snapshot
    consumption = 0
    for line in snap["lines"]:
        serial = line["meter_serial"]
        current = readings.get(serial, line["current_reading"])
        if current < line["previous_reading"]:
            raise ClaimError(_("Sayğac %(serial)s üçün göstərici əvvəlki göstəricidən (%(prev)s) az ola bilməz.")
                             % {"serial": serial, "prev": line["previous_reading"]})
        consumption += current - line["previous_reading"]
    priced = get_gateway().price(claim.subscriber_code, period_start=date.fromisoformat(snap["period_start"]),
                                 period_end=date.fromisoformat(snap["period_end"]), consumption=consumption)
    calculation = {
        "period_start": snap["period_start"], "period_end": snap["period_end"], "consumption": consumption,
        "water_amount": str(priced.water_amount), "sewerage_amount": str(priced.sewerage_amount),
        "parts": [{"service": p.service, "start": p.start.isoformat(), "end": p.end.isoformat(),
                   "volume": str(p.volume.quantize(Decimal("0.001"))), "price": str(p.price)} for p in priced.parts],
    }
    return CorrectionPreview(readings=dict(readings), consumption=consumption,
                             old_amount=Decimal(snap["total"]), new_amount=priced.total, calculation=calculation)


@transaction.atomic
def claim_propose_correction(*, claim: Claim, by: User, readings: dict[str, int], note: str):
    """Send a debt correction to the commission: the recomputed invoice with the operator's note."""
    from .models import CorrectionProposal, ProposalStatus

    note = note.strip()
    if not note:
        raise ClaimError(_("Komissiya üçün qeydi yazın."))
    claim = _lock(claim)
    transitions.require(claim, to=ClaimStatus.AT_COMMISSION)
    preview = correction_preview(claim=claim, readings=readings)
    if preview.difference == 0:
        raise ClaimError(_("Yenidən hesablanmış məbləğ fakturadakı ilə eynidir; düzəliş tələb olunmur."))
    claim.proposals.filter(status=ProposalStatus.PENDING).update(status=ProposalStatus.WITHDRAWN)
    proposal = CorrectionProposal.objects.create(
        claim=claim, proposed_by=by, proposed_at=timezone.now(), readings=preview.readings,
        consumption=preview.consumption, old_amount=preview.old_amount, new_amount=preview.new_amount,
        calculation=preview.calculation, note=note,
    )
    _change(claim, to=ClaimStatus.AT_COMMISSION, by=by, kind="sent_to_commission",
            note=_("Borca düzəliş təklifi daimi komissiyaya göndərildi."),
            audit_extra={"proposal": proposal.pk, "old": str(preview.old_amount), "new": str(preview.new_amount)})
    return proposal


@transaction.atomic
def claim_close(*, claim: Claim, by: User | None, outcome: str, reason: str = "", amount: Any = None,
                extra: dict[str, Any] | None = None) -> Claim:
    """Close a claim as corrected (with the amount) or refused (with the reason) and tell the
    citizen by e-mail and SMS."""
    from .transitions import ClaimOutcome

    claim = _lock(claim)
    if outcome == ClaimOutcome.REFUSED and not reason.strip():
        raise ClaimError(_("İmtinanın səbəbini yazın."))
    note = reason.strip() if outcome == ClaimOutcome.REFUSED else ""
    claim = _change(claim, to=ClaimStatus.CLOSED, by=by, kind=f"closed_{outcome}", note=note, outcome=outcome,
                    outcome_reason=reason.strip(), corrected_amount=amount, closed_at=timezone.now())
    event = Event.CLOSED_CORRECTED if outcome == ClaimOutcome.CORRECTED else Event.CLOSED_REFUSED
    notification_queue(claim=claim, event=event, extra={"amount": amount, "reason": reason.strip(), **(extra or {})})
    return claim


def claim_close_no_correction(*, claim: Claim, by: User, explanation: str) -> Claim:
    """The operator closes a claim in review: no correction is due, with a written explanation
    sent to the citizen."""
    from .transitions import ClaimOutcome

    if not explanation.strip():
        raise ClaimError(_("Vətəndaşa göndəriləcək izahatı yazın."))
    return claim_close(claim=claim, by=by, outcome=ClaimOutcome.REFUSED, reason=explanation)


@transaction.atomic
def claim_return_to_review(*, claim: Claim, by: User | None, kind: str, note: str = "") -> Claim:
    claim = _lock(claim)
    return _change(claim, to=ClaimStatus.IN_REVIEW, by=by, kind=kind, note=note)


@transaction.atomic
def claim_withdraw(*, claim: Claim, citizen: User) -> Claim:
    """The citizen withdraws a claim that is not yet closed."""
    claim = _lock(claim)
    if claim.citizen_id != citizen.pk:
        raise ClaimError(_("Müraciət tapılmadı."))
    claim = _change(claim, to=ClaimStatus.WITHDRAWN, by=citizen, kind="withdrawn", closed_at=timezone.now())
    from inspections.services import inspections_cancel_open

    inspections_cancel_open(claim=claim, by=citizen)
    notification_queue(claim=claim, event=Event.WITHDRAWN)
    return claim


def drafts_purge(*, older_than_hours: int = 24) -> int:
    """Delete uploaded photos of claims that were never submitted (abandoned drafts)."""
    from datetime import timedelta

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
