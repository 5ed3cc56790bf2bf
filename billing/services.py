"""Billing's writes: the outbox of postings (adjustments the commission approved, on their way
to the billing system).

``posting_queue`` writes a ``Posting`` row in the caller's transaction (the commission's
decision) and enqueues its task on commit; ``posting_send`` (the task) hands it to the billing
gateway through the outbox engine (core.outbox): billing down, slow or answering outside the
contract is retried with capped exponential backoff until ``BILLING_POSTING_RETRY_HORIZON``
(7 days) after the posting was written, then the row is failed; a refusal (unknown account or
invoice, a different amount already booked under the reference) fails it at once. A failed
posting is visible to staff, who may send it again, and listed by ``manage.py
billing_reconcile``. Billing books a reference once, so a posting sent again (a retry, a sweep,
a worker that stopped mid-send) is never booked twice.

When a posting is settled (delivered or failed) the callables named in
``settings.BILLING_POSTING_SUBSCRIBERS`` are told (the commission closes the claim as
corrected); billing names no app above it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from functools import cache
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.module_loading import import_string

from audit.services import audit_record
from core.outbox import Outbox, PermanentError, RetryableError, error_text
from identity.models import User

from .gateway import BillingConflict, BillingError, BillingUnavailable, get_gateway
from .models import Posting

logger = logging.getLogger(__name__)


def posting_queue(*, reference: str, subscriber_code: str, invoice_number: str, amount: Decimal, posted_on: date,
                  claim_number: str, note: str = "") -> Posting:
    """Inside the caller's transaction: the posting row (one per reference; queued again, the
    existing row is returned) and its task enqueued when the transaction commits."""
    posting, created = Posting.objects.get_or_create(reference=reference, defaults={
        "subscriber_code": subscriber_code, "invoice_number": invoice_number, "amount": amount,
        "posted_on": posted_on, "claim_number": claim_number, "note": note[:200]})
    if created:
        POSTINGS.enqueue_on_commit(posting.pk)
    return posting


def _send(posting: Posting) -> dict[str, Any]:
    """The outbox engine's ``send``: book the adjustment at billing under its reference."""
    try:
        booked = get_gateway().post_adjustment(
            reference=posting.reference, subscriber_code=posting.subscriber_code,
            invoice_number=posting.invoice_number, amount=posting.amount, posted_on=posting.posted_on,
            claim_number=posting.claim_number, note=posting.note)
    except BillingUnavailable as e:
        raise RetryableError(error_text(e)) from e
    except BillingConflict as e:
        raise PermanentError(f"billing holds a different adjustment under {posting.reference}: {e}") from e
    except BillingError as e:
        raise PermanentError(str(e)) from e
    if booked.amount != posting.amount:
        raise PermanentError(f"billing holds {booked.amount} under {posting.reference}, not {posting.amount}")
    return {"billing_id": booked.billing_id[:80], "balance_after": booked.balance_after}


@cache
def _subscribers() -> tuple[Callable[[Posting], None], ...]:
    return tuple(import_string(path) for path in settings.BILLING_POSTING_SUBSCRIBERS)


def _settled(posting: Posting) -> None:
    fresh = Posting.objects.get(pk=posting.pk)
    for subscriber in _subscribers():
        try:
            subscriber(fresh)
        except Exception:  # the posting stands; the commission's sweep closes the claim later
            logger.exception("posting %s: subscriber %s failed", fresh.reference, subscriber)


POSTINGS: Outbox[Posting] = Outbox(
    model=Posting, task="billing.tasks.post_adjustment", send=_send, settings_prefix="BILLING_POSTING",
    what="posting", describe=lambda p: f"posting {p.reference} ({p.amount} AZN to {p.subscriber_code})",
    settled=_settled)


def posting_send(*, posting_id: int) -> None:
    """Post one adjustment; what the ``post_adjustment`` task calls. Idempotent (see
    core.outbox.Outbox.deliver): only a pending, due row is sent. Billing down is retried after
    BILLING_POSTING_BACKOFF_SECONDS, doubling up to BILLING_POSTING_BACKOFF_CAP (the last retry
    moved up to the horizon), until BILLING_POSTING_RETRY_HORIZON after the posting was written
    (and, if BILLING_POSTING_MAX_ATTEMPTS is set, at most that many attempts); an attempt that
    fails after that makes it ``failed``."""
    POSTINGS.deliver(posting_id)


def postings_sweep(*, batch_size: int = 500) -> int:
    """Re-enqueue postings whose task was lost or whose worker stopped mid-send (a stuck one
    whose horizon has passed is failed instead)."""
    return POSTINGS.sweep(batch_size=batch_size)


def postings_by_reference(references: list[str]) -> dict[str, Posting]:
    """The posting rows of these references (a selector for the commission's sweep)."""
    return {p.reference: p for p in Posting.objects.filter(reference__in=references)}


@transaction.atomic
def posting_retry(*, posting_id: int, by: User | None) -> Posting:
    """Staff send a failed posting again (after billing's team fixed the account or invoice):
    back to waiting with its attempts reset and a new retry horizon from now, its task enqueued
    on commit, an audit entry."""
    posting, before = POSTINGS.retry(posting_id)
    audit_record(actor=by, action="billing_posting_retried", object_type="billing.posting",
                 object_id=str(posting.pk), before=before,
                 after={"status": posting.status, "reference": posting.reference})
    return posting
