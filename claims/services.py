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
            claim_forward(claim=claim)
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


def claim_move(*, claim: Claim, to: str, by: User | None, kind: str, note: str = "") -> Claim:
    """The generic state change used by the back-office services: lock, check, change,
    timeline and audit. Callers add their own data and notifications in the same transaction."""
    with transaction.atomic():
        claim = Claim.objects.select_for_update().get(pk=claim.pk)
        transitions.require(claim, to=to)
        before = _snapshot(claim)
        claim.status = to
        claim.save(update_fields=["status"])
        _event(claim, kind=kind, note=note)
        audit_record(actor=by, action=f"claim_{kind}", claim=claim, before=before, after=_snapshot(claim))
    return claim


def due_on_for(claim: Claim, *, today: date | None = None) -> date:
    return compute_due_on(registered_on=timezone.localdate(claim.registered_at),
                          working_days=settings.CLAIM_ANSWER_WORKING_DAYS, today=today)
