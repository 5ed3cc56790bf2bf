"""The permanent commission: every write. Meetings, their agenda, and the decisions on the
debt corrections that operators send to the commission.

Each service runs in one transaction with its audit entry (and, for a claim, its timeline
entry); a refused request raises ``ServiceError`` (``field`` names the form field the message
belongs next to) and changes nothing. The moves a claim makes here (agenda, return, approve,
refuse) and who may make them are declared in ``claims.workflow``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from audit.services import audit_record
from billing.models import Posting
from billing.services import posting_queue, postings_by_reference
from claims import workflow
from claims.models import Claim, CorrectionProposal, ProposalStatus
from claims.services import claim_confirm_posting, claim_decide, claim_return_from_commission
from claims.transitions import ClaimStatus
from core.errors import NotAllowed, ServiceError
from core.outbox import OutboxStatus
from identity import roles
from identity.models import Role, StaffAssignment, User

from .letters import decision_letter_pdf
from .models import AgendaItem, DecisionKind, Meeting

logger = logging.getLogger(__name__)
COMMISSION_ROLES = roles.COMMISSION_ROLES
CENT = Decimal("0.01")
CommissionError = ServiceError


def _amount(value: Decimal) -> str:
    return formats.number_format(value, 2, use_l10n=True)


def _require_secretary(actor: User) -> None:
    if not roles.has_role(actor, Role.COMMISSION_SECRETARY):
        raise NotAllowed(_("Bunu yalnız komissiyanın katibi edə bilər."))


# --- Meetings ---------------------------------------------------------------------------------

@transaction.atomic
def meeting_open(*, actor: User, held_on: date, protocol_number: str, members: Iterable[User]) -> Meeting:
    """The secretary opens a meeting: its date, its protocol number (unique) and the members
    present, each of whom must hold the commission member or secretary role. Only members
    present may decide on its agenda."""
    _require_secretary(actor)
    protocol_number = " ".join((protocol_number or "").split())
    if not protocol_number:
        raise CommissionError(_("Protokolun nömrəsini yazın."), field="protocol_number")
    present = list({m.pk: m for m in members}.values())
    if not present:
        raise CommissionError(_("İclasda iştirak edən üzvləri seçin."), field="members")
    eligible = set(
        StaffAssignment.objects.filter(user__in=present, user__is_active=True, role__in=COMMISSION_ROLES)
        .values_list("user_id", flat=True)
    )
    outsiders = [m.display_name for m in present if m.pk not in eligible]
    if outsiders:
        raise CommissionError(_("Komissiyanın üzvü deyil: %(names)s.") % {"names": ", ".join(outsiders)},
                              field="members")
    existing = Meeting.objects.filter(protocol_number__iexact=protocol_number).first()
    duplicate = CommissionError(
        _("%(number)s nömrəli protokol artıq var (%(date)s tarixli iclas). Başqa nömrə yazın.")
        % {"number": existing.protocol_number if existing else protocol_number,
           "date": (existing.held_on if existing else held_on).strftime("%d.%m.%Y")},
        field="protocol_number",
    )
    if existing is not None:
        raise duplicate
    try:
        with transaction.atomic():
            meeting = Meeting.objects.create(held_on=held_on, protocol_number=protocol_number, secretary=actor)
    except IntegrityError:  # opened concurrently under the same number
        raise duplicate from None
    meeting.members.set(present)
    audit_record(actor=actor, action="commission_meeting_opened", object_type="commission.meeting",
                 object_id=str(meeting.pk), after={
                     "protocol": protocol_number, "held_on": held_on.isoformat(),
                     "members": sorted(m.pk for m in present),
                 })
    return meeting


@transaction.atomic
def meeting_close(*, meeting: Meeting, actor: User) -> Meeting:
    """The secretary closes a meeting once every item on its agenda is decided (or taken off
    it); a closed meeting takes no more items or decisions."""
    _require_secretary(actor)
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    if meeting.closed:
        return meeting
    if meeting.items.filter(decision="").exists():
        raise CommissionError(_("Gündəlikdə qərar qəbul edilməmiş məsələlər var. Onlara qərar verin və ya "
                                "gündəlikdən çıxarın."))
    meeting.closed = True
    meeting.save(update_fields=["closed"])
    audit_record(actor=actor, action="commission_meeting_closed", object_type="commission.meeting",
                 object_id=str(meeting.pk), after={"protocol": meeting.protocol_number})
    return meeting


# --- Agenda -----------------------------------------------------------------------------------

def _pending_proposal(claim: Claim) -> CorrectionProposal | None:
    return claim.proposals.filter(status=ProposalStatus.PENDING).order_by("-proposed_at", "-id").first()


@transaction.atomic
def agenda_add(*, meeting: Meeting, actor: User, claim: Claim) -> AgendaItem:
    """The secretary puts a claim sent to the commission on an open meeting's agenda, with its
    pending correction proposal. A claim is on at most one undecided item; an undecided item
    left from an earlier proposal (the claim went back to its operator and was sent again) is
    replaced."""
    _require_secretary(actor)
    claim = workflow.lock(claim)
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    if meeting.closed:
        raise CommissionError(_("İclas bağlanıb; gündəliyə məsələ əlavə etmək olmaz."), field="meeting")
    proposal = _pending_proposal(claim)
    if claim.status != ClaimStatus.AT_COMMISSION or proposal is None:
        raise CommissionError(_("Müraciət komissiyaya göndərilməyib və ya onun düzəliş təklifi geri götürülüb."))
    current = AgendaItem.objects.filter(claim=claim, decision="", proposal=proposal).select_related("meeting").first()
    if current is not None:
        raise CommissionError(
            _("Müraciət artıq %(protocol)s nömrəli protokolun gündəliyindədir.")
            % {"protocol": current.meeting.protocol_number}, field="meeting")
    for stale in AgendaItem.objects.filter(claim=claim, decision="").select_related("meeting"):
        audit_record(actor=actor, action="commission_agenda_replaced", claim=claim, object_type="commission.agendaitem",
                     object_id=str(stale.pk), before={"meeting": stale.meeting.protocol_number,
                                                      "proposal": stale.proposal_id})
        stale.delete()
    workflow.check(workflow.AGENDA_ADD, claim=claim, actor=actor)
    item = AgendaItem.objects.create(meeting=meeting, claim=claim, proposal=proposal)
    workflow.perform(workflow.AGENDA_ADD, claim=claim, actor=actor,
                     params={"held_on": meeting.held_on.isoformat(), "protocol": meeting.protocol_number},
                     audit={"meeting": meeting.pk, "item": item.pk, "proposal": proposal.pk})
    return item


@transaction.atomic
def agenda_remove(*, item: AgendaItem, actor: User) -> None:
    """The secretary takes an undecided item off the agenda (put there by mistake, or its
    claim has gone back to the operator). The claim, if still at the commission, returns to
    the list of claims awaiting a meeting."""
    _require_secretary(actor)
    claim = workflow.lock(item.claim)
    item = AgendaItem.objects.select_for_update(of=("self",)).select_related("meeting").get(pk=item.pk)
    if item.decision:
        raise CommissionError(_("Bu məsələ üzrə qərar artıq qəbul edilib."))
    if item.meeting.closed:
        raise CommissionError(_("İclas bağlanıb."))
    protocol, pk = item.meeting.protocol_number, item.pk
    item.delete()
    if claim.status not in workflow.AGENDA_REMOVE.sources:
        # The claim has left the commission (returned, withdrawn): the stale item just goes.
        audit_record(actor=actor, action="commission_agenda_removed", claim=claim,
                     object_type="commission.agendaitem", object_id=str(pk), before={"meeting": protocol})
        return
    workflow.perform(workflow.AGENDA_REMOVE, claim=claim, actor=actor,
                     params={"protocol": protocol},
                     audit={"item": pk})


@transaction.atomic
def commission_return(*, claim: Claim, actor: User, reason: str) -> Claim:
    """The secretary returns a claim to its operator without a decision, with the reason (the
    correction needs another look: a new inspection, a different reading). Its undecided
    agenda items are taken off and its pending proposal withdrawn; the claim is in review."""
    _require_secretary(actor)
    claim = workflow.lock(claim)
    workflow.check(workflow.RETURN_FROM_COMMISSION, claim=claim, actor=actor)
    for stale in AgendaItem.objects.select_for_update(of=("self",)).filter(claim=claim, decision="") \
            .select_related("meeting"):
        if stale.meeting.closed:
            continue
        audit_record(actor=actor, action="commission_agenda_removed", claim=claim,
                     object_type="commission.agendaitem", object_id=str(stale.pk),
                     before={"meeting": stale.meeting.protocol_number})
        stale.delete()
    return claim_return_from_commission(claim=claim, actor=actor, reason=reason)


# --- Decisions --------------------------------------------------------------------------------

def _prepare_decision(item: AgendaItem, actor: User | None) -> tuple[AgendaItem, Claim, CorrectionProposal, Meeting]:
    """Lock the claim, then the item (the order every commission service takes), and check
    that ``actor`` may decide on it now."""
    claim = workflow.lock(Claim(pk=item.claim_id))
    found = (AgendaItem.objects.select_for_update(of=("self",))
             .select_related("meeting", "meeting__secretary", "proposal").filter(pk=item.pk).first())
    if found is None:  # taken off the agenda meanwhile (the claim went back to its operator)
        raise CommissionError(_("Bu təklif artıq qüvvədə deyil: müraciət komissiyadan geri qaytarılıb və ya "
                                "bağlanıb. Məsələni gündəlikdən çıxarın."), code="invalid_state")
    item = found
    meeting, proposal = item.meeting, item.proposal
    if item.decision:
        raise CommissionError(_("Bu məsələ üzrə qərar artıq qəbul edilib."))
    if meeting.closed:
        raise CommissionError(_("İclas bağlanıb."))
    if actor is not None and proposal.proposed_by_id == actor.pk:
        # Four-eyes rule (workflow.DECIDING_MEMBER): whoever proposed a correction never
        # decides on it, whatever roles he also holds. Said in so many words.
        raise NotAllowed(_("Düzəlişi təklif etmiş şəxs onun barədə qərar qəbul edə bilməz "
                           "(“dörd göz” qaydası)."), code="four_eyes")
    if not workflow.APPROVE.may(actor, claim, workflow.Context(item=item)):
        raise NotAllowed(_("Qərarı yalnız bu iclasda iştirak edən komissiya üzvləri qəbul edə bilər."))
    if claim.status != ClaimStatus.AT_COMMISSION or proposal.status != ProposalStatus.PENDING:
        raise CommissionError(_("Bu təklif artıq qüvvədə deyil: müraciət komissiyadan geri qaytarılıb və ya "
                                "bağlanıb. Məsələni gündəlikdən çıxarın."))
    if meeting.held_on > timezone.localdate():
        raise CommissionError(_("İclas hələ keçirilməyib (%(date)s).")
                              % {"date": meeting.held_on.strftime("%d.%m.%Y")})
    item.claim = claim
    return item, claim, proposal, meeting


def _store_letter(item: AgendaItem, pdf: bytes, stored: list[str]) -> None:
    item.letter.save(f"{item.claim.number}-{item.pk}.pdf", ContentFile(pdf), save=False)
    stored.append(item.letter.name)
    item.save(update_fields=["letter"])


def _drop_letters(stored: list[str]) -> None:
    # Files are not transactional: a rolled-back decision leaves no letter behind.
    for name in stored:
        default_storage.delete(name)


def adjustment_reference(item: AgendaItem) -> str:
    """The billing reference of an item's adjustment: deterministic, so every attempt at the
    same decision posts under the same reference."""
    return f"claim:{item.claim.number}:item:{item.pk}"


def decision_approve(*, item: AgendaItem, actor: User, amount: Decimal | None = None, note: str = "") -> AgendaItem:
    """A member present at the meeting approves the correction: the proposal is approved, the
    decision letter is stored, a posting of the adjustment to billing is queued, and the claim
    shows "correction approved, being posted" until billing confirms it; then
    ``posting_settled`` closes it as corrected and the citizen gets the e-mail and SMS with the
    amount and the new balance.

    ``amount`` is the change of the debt (negative lowers it); it defaults to the proposal's
    difference, and an amount other than that needs a ``note`` saying why. Refused with
    ``CommissionError`` (nothing changes) when ``actor`` is not a member present at the meeting,
    when ``actor`` proposed the correction (four-eyes rule), when the item is decided or stale.

    Billing is not called here: the posting is a row of the outbox (``billing.services``)
    written in this transaction, under the deterministic reference ``claim:<number>:item:<item
    pk>``, and sent by a worker with retries once the decision commits. So a decision can be
    taken while billing is down, and billing, which books a reference once, never gets the
    correction twice.
    """
    note = (note or "").strip()
    stored: list[str] = []
    try:
        with transaction.atomic():
            prepared, claim, proposal, meeting = _prepare_decision(item, actor)
            proposed = proposal.difference
            try:
                value = proposed if amount is None else Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)
            except (InvalidOperation, TypeError, ValueError):
                raise CommissionError(_("Məbləği düzgün yazın, məsələn: -12.40."), field="amount") from None
            if value == 0:
                raise CommissionError(_("Düzəlişin məbləği sıfır ola bilməz. Düzəliş lazım deyilsə, imtina edin."),
                                      field="amount")
            if value != proposed and not note:
                raise CommissionError(
                    _("Məbləğ təklif ediləndən (%(proposed)s AZN) fərqlidir: səbəbini qeyddə yazın.")
                    % {"proposed": _amount(proposed)}, field="note")

            reference = adjustment_reference(prepared)
            posting = posting_queue(
                reference=reference, subscriber_code=claim.subscriber_code, invoice_number=claim.invoice_number,
                amount=value, posted_on=timezone.localdate(), claim_number=claim.number,
                note=f"protocol {meeting.protocol_number}")
            prepared.decision = DecisionKind.APPROVED
            prepared.amount = value
            prepared.note = note
            prepared.decided_by = actor
            prepared.decided_at = timezone.now()
            prepared.adjustment_reference = reference
            prepared.save()
            audit_record(actor=actor, action="commission_decision_approved", claim=claim,
                         object_type="commission.agendaitem", object_id=str(prepared.pk),
                         before={"decision": "", "proposal": proposal.pk, "proposed": str(proposed)},
                         after={"decision": prepared.decision, "amount": str(value), "note": note,
                                "reference": reference, "posting": posting.pk, "protocol": meeting.protocol_number})
            prepared.claim = claim_decide(claim=claim, actor=actor, context=workflow.Context(item=prepared),
                                          approved=True, amount=value, reason="",
                                          extra={"protocol": meeting.protocol_number})
            _store_letter(prepared, decision_letter_pdf(item=prepared), stored)
    except BaseException:
        _drop_letters(stored)
        raise
    return prepared


def posting_settled(posting: Posting) -> None:
    """Told by billing's posting outbox (``settings.BILLING_POSTING_SUBSCRIBERS``) when a
    posting is delivered or given up. Delivered: the claim of its decision closes as corrected
    (the citizen is told the amount and the new balance billing reported). Given up: the claim
    stays "being posted", visible to staff, and ``manage.py billing_reconcile`` lists it.
    Idempotent: a claim that is no longer waiting for its posting is left alone."""
    if posting.status != OutboxStatus.DELIVERED:
        logger.error("posting %s of claim %s failed: %s", posting.reference, posting.claim_number,
                     posting.last_error)
        return
    item = AgendaItem.objects.filter(adjustment_reference=posting.reference).select_related("meeting").first()
    if item is None:
        return
    stored: list[str] = []
    try:
        with transaction.atomic():
            claim = workflow.lock(Claim(pk=item.claim_id))
            if claim.status != ClaimStatus.POSTING:
                return
            item.claim = claim_confirm_posting(claim=claim, actor=None, new_balance=posting.balance_after,
                                               extra={"protocol": item.meeting.protocol_number})
            old_letter = item.letter.name
            # The letter again, now with the balance billing reported after booking.
            _store_letter(item, decision_letter_pdf(item=item, new_balance=posting.balance_after), stored)
    except BaseException:
        _drop_letters(stored)
        raise
    if old_letter and old_letter != item.letter.name:
        _drop_letters([old_letter])


def postings_confirm_sweep(*, batch_size: int = 200) -> int:
    """Close the claims still shown "being posted" whose posting billing has confirmed (the
    confirmation's subscriber failed or its process stopped in between); returns how many."""
    waiting = dict(AgendaItem.objects.filter(claim__status=ClaimStatus.POSTING, decision=DecisionKind.APPROVED)
                   .exclude(adjustment_reference="").values_list("adjustment_reference", "claim_id")[:batch_size])
    closed = 0
    for posting in postings_by_reference(list(waiting)).values():
        if posting.status == OutboxStatus.DELIVERED:
            posting_settled(posting)
            closed += 1
    return closed


def decision_refuse(*, item: AgendaItem, actor: User, reason: str) -> AgendaItem:
    """A member present at the meeting refuses the correction, with a reason the citizen
    reads: the proposal is refused, the decision letter stored, and the claim closed as
    refused (the citizen gets the e-mail and SMS with the reason). The same membership and
    four-eyes checks as ``decision_approve``; nothing is posted to billing."""
    reason = (reason or "").strip()
    stored: list[str] = []
    try:
        with transaction.atomic():
            prepared, claim, proposal, meeting = _prepare_decision(item, actor)
            if not reason:
                raise CommissionError(_("İmtinanın səbəbini yazın: onu vətəndaş oxuyacaq."), field="reason")
            prepared.decision = DecisionKind.REFUSED
            prepared.amount = None
            prepared.note = reason
            prepared.decided_by = actor
            prepared.decided_at = timezone.now()
            prepared.save()
            audit_record(actor=actor, action="commission_decision_refused", claim=claim,
                         object_type="commission.agendaitem", object_id=str(prepared.pk),
                         before={"decision": "", "proposal": proposal.pk},
                         after={"decision": prepared.decision, "reason": reason,
                                "protocol": meeting.protocol_number})
            prepared.claim = claim_decide(claim=claim, actor=actor, context=workflow.Context(item=prepared),
                                          approved=False, amount=None, reason=reason,
                                          extra={"protocol": meeting.protocol_number})
            _store_letter(prepared, decision_letter_pdf(item=prepared), stored)
    except BaseException:
        _drop_letters(stored)
        raise
    return prepared

