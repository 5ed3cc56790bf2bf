"""The postings outbox seen by staff: a failed posting in the admin, sent again by an
administrator (and by nobody else), the commission's sweep closing a claim whose confirmation
step failed, and ``billing_reconcile``'s lists."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEntry
from billing.gateway import BillingUnavailable, LocalBillingGateway
from billing.models import Posting
from billing.services import posting_queue, posting_retry, posting_send
from claims.transitions import ClaimStatus
from commission.services import decision_approve, postings_confirm_sweep
from conftest import baku
from notifications.models import Delivery
from testkit.factories import ClaimFactory, StaffFactory, latest_item

pytestmark = pytest.mark.django_db
CLOCK = baku(2026, 10, 14)  # a Wednesday


def failed_posting(account, invoice_number="NOSUCH") -> Posting:
    posting = posting_queue(reference="claim:T:item:1", subscriber_code=account.subscriber_code,
                            invoice_number=invoice_number, amount=Decimal("-5.00"), posted_on=timezone.localdate(),
                            claim_number="T-1", note="protocol T")
    posting_send(posting_id=posting.pk)  # billing refuses: no such invoice
    posting.refresh_from_db()
    return posting


def test_a_refused_posting_is_failed_with_the_reason_in_the_admin(admin_client, account):
    posting = failed_posting(account)
    assert posting.status == "failed" and "unknown account or invoice" in posting.last_error
    page = admin_client.get(reverse("admin:billing_posting_changelist"), {"status__exact": "failed"})
    assert page.status_code == 200 and posting.reference in page.content.decode()


def test_an_administrator_sends_a_failed_posting_again_and_it_is_audited(admin_client, account):
    posting = failed_posting(account)
    response = admin_client.post(reverse("admin:billing_posting_changelist"),
                                 {"action": "retry_failed", "_selected_action": [posting.pk]}, follow=True)
    assert response.status_code == 200
    posting.refresh_from_db()
    assert (posting.status, posting.attempts) == ("created", 0)
    assert AuditEntry.objects.filter(action="billing_posting_retried", object_id=str(posting.pk)).exists()


def test_staff_without_the_admin_cannot_send_a_posting_again(client, account, branch):
    posting = failed_posting(account)
    operator = StaffFactory(operator=True, branch=branch)
    client.force_login(operator)
    response = client.post(reverse("admin:billing_posting_changelist"),
                           {"action": "retry_failed", "_selected_action": [posting.pk]})
    assert response.status_code in (302, 403)
    posting.refresh_from_db()
    assert posting.status == "failed"


def test_the_sweep_closes_a_claim_whose_confirmation_step_failed(branch, monkeypatch):
    with time_machine.travel(CLOCK, tick=True):
        claim = ClaimFactory(on_agenda=True, branch=branch)
        item = latest_item(claim)
        decided = decision_approve(item=item, actor=item.meeting.members.exclude(
            pk=item.proposal.proposed_by_id).first())
        posting = Posting.objects.get(reference=decided.adjustment_reference)
        with override_settings(BILLING_POSTING_SUBSCRIBERS=["billing.tests.test_postings.broken_subscriber"]):
            from billing import services

            services._subscribers.cache_clear()
            posting_send(posting_id=posting.pk)
        services._subscribers.cache_clear()
        claim.refresh_from_db()
        assert claim.status == ClaimStatus.POSTING  # booked at billing, the claim not yet closed

        assert postings_confirm_sweep() == 1
        claim.refresh_from_db()
        assert claim.status == ClaimStatus.CLOSED
        assert Delivery.objects.filter(claim=claim, event="closed_corrected").count() == 2
        assert postings_confirm_sweep() == 0  # nothing left to close


def broken_subscriber(posting: Posting) -> None:
    raise RuntimeError("the process stopped")


class BillingDown(LocalBillingGateway):
    """Billing that does not answer a posting (what the HTTP gateway raises for a refused or
    timed-out call, a 5xx or an answer outside the contract)."""

    def post_adjustment(self, **kwargs):
        raise BillingUnavailable("billing does not answer")


def test_by_default_billing_down_is_retried_for_7_days_then_the_posting_fails_for_staff(account, time_machine):
    # The default settings: no cap on attempts, a 7-day horizon (a long weekend's outage is
    # outlasted). The old rule (30 attempts) would have given up before.
    time_machine.move_to(CLOCK, tick=False)
    invoice = LocalBillingGateway().invoices_of_account(account.subscriber_code)[0]
    posting = posting_queue(reference="claim:H:item:1", subscriber_code=account.subscriber_code,
                            invoice_number=invoice.number, amount=Decimal("-5.00"), posted_on=timezone.localdate(),
                            claim_number="H-1")
    horizon = posting.created_at + timedelta(days=7)
    with override_settings(BILLING_GATEWAY="billing.tests.test_postings.BillingDown"):
        for _ in range(400):
            posting_send(posting_id=posting.pk)
            posting.refresh_from_db()
            assert posting.status == "created", (posting.attempts, timezone.now() - posting.created_at)
            if posting.next_attempt_at == horizon:
                break
            assert posting.next_attempt_at < horizon
            time_machine.move_to(posting.next_attempt_at, tick=False)
        # Still being retried after far more than 30 attempts, every one before the horizon; the
        # waits grew to an hour, and the last retry is moved up to the horizon itself.
        assert timezone.now() < horizon
        assert posting.attempts > 150
        assert "billing does not answer" in posting.last_error

        time_machine.move_to(horizon, tick=False)  # the first attempt at or past the horizon
        posting_send(posting_id=posting.pk)
    posting.refresh_from_db()
    assert (posting.status, posting.next_attempt_at) == ("failed", None)
    assert "billing does not answer" in posting.last_error

    # Listed by billing_reconcile, and an administrator may send it again (a new horizon).
    out = StringIO()
    with pytest.raises(SystemExit):
        call_command("billing_reconcile", stdout=out)
    assert "Decisions not posted: 1" in out.getvalue()
    assert f"{posting.reference}  claim H-1  -5.00 AZN  failed" in out.getvalue()
    posting_retry(posting_id=posting.pk, by=None)
    posting.refresh_from_db()
    assert (posting.status, posting.attempts, posting.created_at) == ("created", 0, horizon)
    posting_send(posting_id=posting.pk)  # billing is back
    posting.refresh_from_db()
    assert posting.status == "delivered"


def test_reconcile_lists_what_differs(account):
    gw = LocalBillingGateway()
    invoice = gw.invoices_of_account(account.subscriber_code)[0]
    ok = posting_queue(reference="claim:A:item:1", subscriber_code=account.subscriber_code,
                       invoice_number=invoice.number, amount=Decimal("-5.00"), posted_on=timezone.localdate(),
                       claim_number="A-1")
    posting_send(posting_id=ok.pk)
    failed = failed_posting(account)
    waiting = posting_queue(reference="claim:C:item:3", subscriber_code=account.subscriber_code,
                            invoice_number=invoice.number, amount=Decimal("-7.00"), posted_on=timezone.localdate(),
                            claim_number="C-3")
    # billing lost one booking and holds another amount under a second one
    gone = posting_queue(reference="claim:D:item:4", subscriber_code=account.subscriber_code,
                         invoice_number=invoice.number, amount=Decimal("-1.00"), posted_on=timezone.localdate(),
                         claim_number="D-4")
    posting_send(posting_id=gone.pk)
    from billing.models import Adjustment

    Adjustment.objects.filter(reference=gone.reference).delete()
    Adjustment.objects.filter(reference=ok.reference).update(amount=Decimal("-6.00"))

    out = StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("billing_reconcile", stdout=out)
    assert exit_.value.code == 1
    text = out.getvalue()
    assert "Decisions not posted: 2" in text
    assert failed.reference in text and waiting.reference in text
    assert "Postings billing does not know: 1" in text and gone.reference in text
    assert "Amounts that differ: 1" in text
    assert f"{ok.reference}  claim A-1  decided -5.00 AZN on {account.subscriber_code}, billing holds -6.00 AZN" \
        in text


def test_reconcile_says_all_agree(account):
    invoice = LocalBillingGateway().invoices_of_account(account.subscriber_code)[0]
    ok = posting_queue(reference="claim:A:item:1", subscriber_code=account.subscriber_code,
                       invoice_number=invoice.number, amount=Decimal("-5.00"), posted_on=timezone.localdate(),
                       claim_number="A-1")
    posting_send(posting_id=ok.pk)
    out = StringIO()
    call_command("billing_reconcile", stdout=out)
    assert "All 1 posting(s) agree with billing." in out.getvalue()
