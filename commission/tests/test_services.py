from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.storage import default_storage
from django.template.defaultfilters import floatformat
from django.utils import timezone, translation

from audit.models import AuditEntry
from billing.gateway import get_gateway
from billing.models import Adjustment, Posting
from billing.services import posting_send
from claims.models import ProposalStatus
from claims.services import ClaimError
from claims.transitions import ClaimOutcome, ClaimStatus
from commission import services
from commission.models import AgendaItem, DecisionKind
from commission.selectors import claims_awaiting_agenda, letter_for_claim
from commission.services import (
    CommissionError,
    agenda_add,
    agenda_remove,
    commission_return,
    decision_approve,
    decision_refuse,
    meeting_close,
    meeting_open,
)
from identity.models import Role, StaffAssignment
from notifications.models import Delivery
from testkit.factories import deliver_posting

from .conftest import bring_to_commission, make_staff

pytestmark = pytest.mark.django_db


def _money(value, language="az"):
    with translation.override(language):
        return floatformat(value, 2)


def _nothing_decided(item, claim):
    item.refresh_from_db()
    claim.refresh_from_db()
    assert item.decision == ""
    assert not item.letter
    assert claim.status == ClaimStatus.AT_COMMISSION
    assert item.proposal.status == ProposalStatus.PENDING
    assert not Adjustment.objects.filter(claim_number=claim.number).exists()
    assert not Delivery.objects.filter(claim=claim, event__startswith="closed").exists()


# --- approval ---------------------------------------------------------------------------------

def test_approve_queues_one_posting_and_the_claim_shows_it_is_being_posted(item, member, account):
    gw = get_gateway()
    before = gw.balance(account.subscriber_code)

    decided = decision_approve(item=item, actor=member)

    assert decided.amount == Decimal("-200.00") == item.proposal.difference
    claim = item.claim
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.POSTING
    assert claim.get_status_display() == "Düzəliş təsdiqlənib, billinqə ötürülür"
    assert claim.events.filter(kind="correction_approved", public=True).exists()
    posting = Posting.objects.get()
    assert posting.reference == f"claim:{claim.number}:item:{item.pk}" == decided.adjustment_reference
    assert (posting.amount, posting.subscriber_code, posting.invoice_number, posting.status) == (
        Decimal("-200.00"), account.subscriber_code, claim.invoice_number, "created")
    assert posting.note == "protocol K-2026/07"
    # Billing is not called in the decision: nothing is booked and nobody is told yet.
    assert not Adjustment.objects.exists()
    assert gw.balance(account.subscriber_code) == before
    assert not Delivery.objects.filter(claim=claim, event__startswith="closed").exists()


def test_the_posted_correction_closes_the_claim_and_tells_the_citizen_amount_and_new_balance(item, member,
                                                                                              account):
    gw = get_gateway()
    before = gw.balance(account.subscriber_code)
    decision_approve(item=item, actor=member)

    deliver_posting(item)

    adj = Adjustment.objects.get(account=account)
    assert adj.reference == f"claim:{item.claim.number}:item:{item.pk}"
    assert adj.amount == Decimal("-200.00")
    assert adj.invoice.number == item.claim.invoice_number
    new_balance = gw.balance(account.subscriber_code)
    assert new_balance == before - Decimal("200.00")
    posting = Posting.objects.get()
    assert posting.status == "delivered" and posting.balance_after == new_balance
    claim = item.claim
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.CLOSED
    assert claim.outcome == ClaimOutcome.CORRECTED
    assert claim.corrected_amount == Decimal("-200.00")
    assert claim.proposals.get().status == ProposalStatus.APPROVED
    messages = {d.medium: d for d in Delivery.objects.filter(claim=claim, event="closed_corrected")}
    assert set(messages) == {"email", "sms"}
    for message in messages.values():
        assert _money(Decimal("200.00")) in message.body  # "lowered by 200,00 AZN"
        assert _money(new_balance) in message.body
    assert messages["email"].recipient == "resad@example.az"
    assert messages["sms"].recipient == "+994501234567"
    assert claim.events.filter(kind="closed_corrected").exists()
    assert AuditEntry.objects.filter(claim=claim, action="commission_decision_approved").exists()


def test_sending_the_posting_again_posts_it_once(item, member, account):
    gw = get_gateway()
    decision_approve(item=item, actor=member)
    deliver_posting(item)
    balance = gw.balance(account.subscriber_code)
    posting = Posting.objects.get()

    posting_send(posting_id=posting.pk)  # a duplicate task: the row is delivered, nothing is sent
    again = gw.post_adjustment(reference=posting.reference, subscriber_code=account.subscriber_code,
                               invoice_number=item.claim.invoice_number, amount=posting.amount,
                               posted_on=timezone.localdate(), claim_number=item.claim.number, note="retry")

    assert again.created is False
    assert Adjustment.objects.filter(account=account).count() == 1
    assert gw.balance(account.subscriber_code) == balance
    assert Delivery.objects.filter(claim=item.claim, event="closed_corrected").count() == 2  # e-mail and SMS once


def test_approving_again_is_refused_and_queues_nothing_more(item, member, secretary, account):
    decision_approve(item=item, actor=member)
    with pytest.raises(CommissionError, match="artıq qəbul edilib"):
        decision_approve(item=item, actor=secretary)
    assert Posting.objects.count() == 1


def test_a_posting_billing_already_holds_under_the_reference_completes_with_it(item, member, account):
    # Billing booked the posting but its answer was lost: sent again under the same reference,
    # billing returns the first booking.
    gw = get_gateway()
    before = gw.balance(account.subscriber_code)
    gw.post_adjustment(reference=services.adjustment_reference(item), subscriber_code=account.subscriber_code,
                       invoice_number=item.claim.invoice_number, amount=Decimal("-200.00"),
                       posted_on=timezone.localdate(), claim_number=item.claim.number, note="first attempt")

    decision_approve(item=item, actor=member)
    deliver_posting(item)

    assert Adjustment.objects.filter(account=account).count() == 1
    assert gw.balance(account.subscriber_code) == before - Decimal("200.00")
    item.claim.refresh_from_db()
    assert item.claim.status == ClaimStatus.CLOSED


def test_billing_holding_another_amount_under_the_reference_fails_the_posting_for_staff(item, member, account):
    gw = get_gateway()
    gw.post_adjustment(reference=services.adjustment_reference(item), subscriber_code=account.subscriber_code,
                       invoice_number=item.claim.invoice_number, amount=Decimal("-150.00"),
                       posted_on=timezone.localdate(), claim_number=item.claim.number, note="first attempt")
    decision_approve(item=item, actor=member)
    deliver_posting(item)

    posting = Posting.objects.get()
    assert posting.status == "failed"
    assert "-150.00" in posting.last_error
    item.claim.refresh_from_db()
    assert item.claim.status == ClaimStatus.POSTING  # not closed on a booking that is not the decision's
    assert not Delivery.objects.filter(claim=item.claim, event="closed_corrected").exists()
    assert Adjustment.objects.filter(account=account).count() == 1


def test_a_failure_in_the_decision_rolls_everything_back_and_queues_no_posting(item, member, account, monkeypatch):
    def broken_letter(**kwargs):
        raise RuntimeError("the PDF renderer crashed")

    monkeypatch.setattr(services, "decision_letter_pdf", broken_letter)
    with pytest.raises(RuntimeError):
        decision_approve(item=item, actor=member)
    _nothing_decided(item, item.claim)
    assert not Posting.objects.exists()
    monkeypatch.undo()

    decision_approve(item=item, actor=member)
    deliver_posting(item)
    assert Adjustment.objects.filter(account=account).count() == 1


def test_a_failure_after_the_letter_is_stored_leaves_no_letter_file(item, member, monkeypatch):
    stored = []
    real_save = default_storage.save

    def save(name, content, **kwargs):
        stored.append(real_save(name, content, **kwargs))
        return stored[-1]

    def broken_save(self, *args, **kwargs):
        if kwargs.get("update_fields") == ["letter"]:
            raise RuntimeError("database went away")
        return original(self, *args, **kwargs)

    original = AgendaItem.save
    monkeypatch.setattr(default_storage, "save", save)
    monkeypatch.setattr(AgendaItem, "save", broken_save)
    with pytest.raises(RuntimeError):
        decision_approve(item=item, actor=member)
    assert stored and not default_storage.exists(stored[0])
    monkeypatch.undo()
    _nothing_decided(item, item.claim)


def test_the_decision_letter_is_a_pdf_with_the_claim_and_protocol(item, member):
    decided = decision_approve(item=item, actor=member)
    assert decided.letter
    with decided.letter.open("rb") as fh:
        pdf = fh.read()
    assert pdf.startswith(b"%PDF")
    assert item.claim.number.encode() in pdf
    assert b"K-2026/07" in pdf
    assert item.claim.subscriber_code.encode() in pdf
    assert letter_for_claim(item.claim) == decided


def test_the_letter_is_in_english_for_a_claim_in_english(citizen, account, operator, jpeg_upload, meeting,
                                                         secretary, member):
    claim = bring_to_commission(citizen, account, operator, jpeg_upload, language="en")
    decided = decision_approve(item=agenda_add(meeting=meeting, actor=secretary, claim=claim), actor=member)
    deliver_posting(decided)
    decided.refresh_from_db()
    with decided.letter.open("rb") as fh:
        pdf = fh.read()
    assert b"Decision of the permanent commission" in pdf
    assert b"On citizens' appeals" in pdf.replace(b"\\'", b"'")
    assert claim.number.encode() in pdf
    assert Delivery.objects.get(claim=claim, event="closed_corrected", medium="email").language == "en"


def test_a_changed_amount_needs_a_note(item, member, account):
    with pytest.raises(CommissionError) as refused:
        decision_approve(item=item, actor=member, amount=Decimal("-150.00"))
    assert refused.value.field == "note"
    _nothing_decided(item, item.claim)

    decided = decision_approve(item=item, actor=member, amount=Decimal("-150.00"),
                               note="Sayğacın şəklinə görə 150 m³ artıq hesablanıb.")
    assert decided.amount == Decimal("-150.00")
    deliver_posting(decided)
    assert Adjustment.objects.get(account=account).amount == Decimal("-150.00")
    item.claim.refresh_from_db()
    assert item.claim.corrected_amount == Decimal("-150.00")


def test_a_zero_amount_is_refused(item, member):
    with pytest.raises(CommissionError) as refused:
        decision_approve(item=item, actor=member, amount=Decimal("0"), note="heç nə")
    assert refused.value.field == "amount"
    _nothing_decided(item, item.claim)


# --- who may decide ---------------------------------------------------------------------------

def test_four_eyes_whoever_proposed_cannot_decide_even_as_a_member_present(citizen, account, operator, jpeg_upload,
                                                                         secretary):
    StaffAssignment.objects.create(user=operator, role=Role.COMMISSION_MEMBER, branch=None)
    claim = bring_to_commission(citizen, account, operator, jpeg_upload)
    meeting = meeting_open(actor=secretary, held_on=timezone.localdate(), protocol_number="K-4E",
                           members=[secretary, operator])
    item = agenda_add(meeting=meeting, actor=secretary, claim=claim)

    with pytest.raises(ClaimError, match="dörd göz"):
        decision_approve(item=item, actor=operator)
    with pytest.raises(ClaimError, match="dörd göz"):
        decision_refuse(item=item, actor=operator, reason="Əsas yoxdur")
    _nothing_decided(item, claim)


def test_a_member_not_present_at_the_meeting_cannot_decide(item, member_absent):
    with pytest.raises(ClaimError, match="iştirak edən"):
        decision_approve(item=item, actor=member_absent)
    with pytest.raises(ClaimError, match="iştirak edən"):
        decision_refuse(item=item, actor=member_absent, reason="Əsas yoxdur")
    _nothing_decided(item, item.claim)


def test_a_member_who_lost_the_commission_role_cannot_decide(item, member):
    StaffAssignment.objects.filter(user=member).delete()
    with pytest.raises(ClaimError):
        decision_approve(item=item, actor=member)
    _nothing_decided(item, item.claim)


def test_no_decision_before_the_meeting_is_held(claim, secretary, member):
    meeting = meeting_open(actor=secretary, held_on=timezone.localdate() + timedelta(days=3), protocol_number="K-NEXT",
                           members=[secretary, member])
    item = agenda_add(meeting=meeting, actor=secretary, claim=claim)
    with pytest.raises(CommissionError, match="hələ keçirilməyib"):
        decision_approve(item=item, actor=member)
    _nothing_decided(item, claim)


def test_a_claim_returned_to_its_operator_cannot_be_decided(item, member, secretary):
    commission_return(claim=item.claim, actor=secretary, reason="Yerində yoxlama lazımdır.")
    claim = item.claim
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.IN_REVIEW
    assert claim.proposals.get().status == ProposalStatus.WITHDRAWN
    assert not AgendaItem.objects.filter(pk=item.pk).exists()  # the undecided item went with it
    assert claim.events.filter(kind="returned_from_commission", public=True).exists()
    with pytest.raises(CommissionError):
        decision_approve(item=item, actor=member)
    assert not Adjustment.objects.exists()


def test_only_the_secretary_returns_a_claim_and_with_a_reason(item, member, operator, secretary):
    for actor in (member, operator):
        with pytest.raises(CommissionError):
            commission_return(claim=item.claim, actor=actor, reason="Yenidən baxılsın.")
    with pytest.raises(CommissionError, match="səbəbini"):
        commission_return(claim=item.claim, actor=secretary, reason="  ")
    item.claim.refresh_from_db()
    assert item.claim.status == ClaimStatus.AT_COMMISSION
    assert AgendaItem.objects.filter(pk=item.pk).exists()


# --- refusal ----------------------------------------------------------------------------------

def test_refuse_closes_the_claim_with_the_reason_and_tells_the_citizen(item, member, account):
    balance = get_gateway().balance(account.subscriber_code)
    reason = "Yerində yoxlama fakturadakı göstəricini təsdiq etdi."

    decided = decision_refuse(item=item, actor=member, reason=f"  {reason} ")

    claim = item.claim
    claim.refresh_from_db()
    assert decided.decision == DecisionKind.REFUSED and decided.note == reason
    assert claim.status == ClaimStatus.CLOSED
    assert claim.outcome == ClaimOutcome.REFUSED
    assert claim.outcome_reason == reason
    assert claim.proposals.get().status == ProposalStatus.REFUSED
    messages = Delivery.objects.filter(claim=claim, event="closed_refused")
    assert sorted(messages.values_list("medium", flat=True)) == ["email", "sms"]
    assert reason in messages.get(medium="email").body
    assert reason[:40].strip() in messages.get(medium="sms").body  # cut at a word
    assert not Adjustment.objects.exists()
    assert get_gateway().balance(account.subscriber_code) == balance
    with decided.letter.open("rb") as fh:
        pdf = fh.read()
    assert pdf.startswith(b"%PDF") and claim.number.encode() in pdf
    assert letter_for_claim(claim) == decided


def test_refuse_needs_a_reason(item, member):
    with pytest.raises(CommissionError) as refused:
        decision_refuse(item=item, actor=member, reason="   ")
    assert refused.value.field == "reason"
    _nothing_decided(item, item.claim)


# --- meetings and agenda ----------------------------------------------------------------------

def test_only_the_secretary_opens_a_meeting(member, secretary):
    with pytest.raises(CommissionError, match="katibi"):
        meeting_open(actor=member, held_on=timezone.localdate(), protocol_number="K-1", members=[member])
    meeting = meeting_open(actor=secretary, held_on=timezone.localdate(), protocol_number=" K-1 ", members=[member])
    assert meeting.protocol_number == "K-1"
    assert list(meeting.members.all()) == [member]
    assert AuditEntry.objects.filter(action="commission_meeting_opened", object_id=str(meeting.pk)).exists()


def test_a_protocol_number_is_used_once(meeting, secretary, member):
    with pytest.raises(CommissionError, match="K-2026/07 nömrəli protokol artıq var") as refused:
        meeting_open(actor=secretary, held_on=timezone.localdate(), protocol_number="k-2026/07", members=[member])
    assert refused.value.field == "protocol_number"


def test_members_must_hold_a_commission_role(secretary, operator):
    with pytest.raises(CommissionError, match="Komissiyanın üzvü deyil: Leyla Məmmədova") as refused:
        meeting_open(actor=secretary, held_on=timezone.localdate(), protocol_number="K-2",
                     members=[secretary, operator])
    assert refused.value.field == "members"


def test_agenda_add_needs_a_claim_at_the_commission_once(claim, meeting, secretary, member, operator):
    with pytest.raises(CommissionError, match="katibi"):
        agenda_add(meeting=meeting, actor=member, claim=claim)
    assert list(claims_awaiting_agenda()) == [claim]

    item = agenda_add(meeting=meeting, actor=secretary, claim=claim)

    assert item.proposal == claim.proposals.get(status=ProposalStatus.PENDING)
    assert list(claims_awaiting_agenda()) == []
    other = meeting_open(actor=secretary, held_on=timezone.localdate(), protocol_number="K-3", members=[member])
    with pytest.raises(CommissionError, match="K-2026/07 nömrəli protokolun gündəliyindədir"):
        agenda_add(meeting=other, actor=secretary, claim=claim)
    assert claim.events.filter(kind="commission_agenda", public=False).exists()


def test_a_claim_in_review_cannot_go_on_the_agenda(citizen, account, operator, jpeg_upload, meeting, secretary):
    claim = bring_to_commission(citizen, account, operator, jpeg_upload)
    commission_return(claim=claim, actor=secretary, reason="Yerində yoxlama lazımdır.")
    with pytest.raises(CommissionError):
        agenda_add(meeting=meeting, actor=secretary, claim=claim)
    assert not AgendaItem.objects.exists()


def test_a_claim_sent_again_replaces_its_stale_agenda_item(item, secretary, operator, meeting):
    from claims.services import claim_propose_correction

    claim = item.claim
    commission_return(claim=claim, actor=secretary, reason="Yerində yoxlama lazımdır.")
    line = claim.invoice_snapshot["lines"][0]
    claim_propose_correction(claim=claim, actor=operator,
                             readings={line["meter_serial"]: line["current_reading"] - 100},
                             note="Yenidən baxıldı.")
    assert list(claims_awaiting_agenda()) == [claim]

    fresh = agenda_add(meeting=meeting, actor=secretary, claim=claim)

    assert list(AgendaItem.objects.filter(claim=claim)) == [fresh]
    assert fresh.proposal.status == ProposalStatus.PENDING and fresh.proposal.difference == Decimal("-100.00")


def test_agenda_remove_and_meeting_close(item, secretary, member):
    with pytest.raises(CommissionError, match="qərar qəbul edilməmiş"):
        meeting_close(meeting=item.meeting, actor=secretary)
    agenda_remove(item=item, actor=secretary)
    assert not AgendaItem.objects.exists()
    assert list(claims_awaiting_agenda()) == [item.claim]

    closed = meeting_close(meeting=item.meeting, actor=secretary)
    assert closed.closed
    with pytest.raises(CommissionError, match="bağlanıb"):
        agenda_add(meeting=closed, actor=secretary, claim=item.claim)


def test_a_decided_item_cannot_be_removed(item, secretary, member):
    decision_approve(item=item, actor=member)
    with pytest.raises(CommissionError):
        agenda_remove(item=item, actor=secretary)
    assert meeting_close(meeting=item.meeting, actor=secretary).closed


def test_letter_for_claim_is_none_until_decided(item):
    assert letter_for_claim(item.claim) is None


def test_a_secretary_who_is_also_present_may_decide(item, secretary):
    assert decision_refuse(item=item, actor=secretary, reason="Əsas yoxdur.").decision == DecisionKind.REFUSED


def test_an_administrator_without_a_commission_role_cannot_decide(item, meeting):
    admin = make_staff("admin-1", Role.ADMINISTRATOR)
    meeting.members.add(admin)
    with pytest.raises(CommissionError):
        decision_approve(item=item, actor=admin)
