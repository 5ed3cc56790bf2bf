"""Notifications: every write of the app.

A notification is first a ``Delivery`` row, written in the transaction of the change that
causes it; its delivery task is enqueued only after that transaction commits. The task sends
it (e-mail through Django's mail backend, SMS through the SMS backend), retries retryable
failures with capped exponential backoff until ``DELIVERY_RETRY_HORIZON`` has passed, and marks
permanent ones failed at once. A periodic sweep re-enqueues rows whose task was lost or whose
retry is due, so a crash between commit and enqueue, or a worker stopped mid-send, loses
nothing (delivery is at least once; the reference made from the row's id lets the receiver
drop a repeat). A claim's messages to one recipient go out in order.

Claiming, retrying, the sweep and staff retries are the outbox engine's (core.outbox); this
module plugs in what is particular to notifications: rendering the rows and handing them to
the mail or SMS backend (``_send``).
"""

from __future__ import annotations

import logging
import smtplib
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.template import Context, Template
from django.utils import translation

from claims.outcome import outcome_sentences
from core.outbox import NotRetryable, Outbox, PermanentError, error_text

from .mail import email_message
from .models import Delivery, DeliveryStatus, Medium, NotificationTemplate
from .sms import (
    PermanentDeliveryError,
    RetryableDeliveryError,
    get_sms_backend,
    sms_fit,
    sms_reference,
    sms_segments,
)

if TYPE_CHECKING:
    from claims.models import Claim
    from identity.models import User

logger = logging.getLogger(__name__)

DEFAULT_LANGUAGE = "az"


# Only a failed delivery (with a text) can be sent again by staff.
DeliveryNotRetryable = NotRetryable


# --- Queueing --------------------------------------------------------------------------------


def notification_context(*, claim: Claim, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The variables a notification template may use: claim, number, due_on, status (its label
    in the active language), status_code, subscriber_code, invoice_number, citizen_name,
    first_name, last_name, portal_url (the claim's page on the portal), branch_name (the claim's
    branch in the message's language), outcome and outcome_short (a closed claim's outcome in
    plain words, claims.outcome; the short one for SMS), org
    (settings.ORGANISATION), reply_to (where a reply to the e-mail goes, settings.EMAIL_REPLY_TO;
    empty: nowhere), plus the event's ``extra`` (which wins on a name clash)."""
    citizen = claim.citizen
    first_name, last_name = citizen.first_name, citizen.last_name
    org = settings.ORGANISATION
    context: dict[str, Any] = {
        "claim": claim,
        "number": claim.number,
        "due_on": claim.due_on,
        "status": claim.get_status_display(),
        "status_code": claim.status,
        "subscriber_code": claim.subscriber_code,
        "invoice_number": claim.invoice_number,
        "first_name": first_name,
        "last_name": last_name,
        "citizen_name": " ".join(p for p in (first_name, last_name) if p),
        "portal_url": f"{str(org['portal_url']).rstrip('/')}/claims/{claim.number}/",
        "org": org,
        "reply_to": settings.EMAIL_REPLY_TO,
    }
    context.update(extra or {})
    # The ending in plain words, never a negative amount (claims.outcome): “outcome” for the
    # e-mail, “outcome_short” (its first sentence) for the SMS.
    context.setdefault("branch_name", claim.branch.text(translation.get_language() or DEFAULT_LANGUAGE))
    balance, amount = context.get("new_balance"), context.get("amount")
    context.setdefault("outcome", " ".join(outcome_sentences(claim, balance=balance, amount=amount)))
    context.setdefault("outcome_short", " ".join(outcome_sentences(claim, balance=balance, amount=amount,
                                                                   short=True)))
    return context


def _render(source: str, context: dict[str, Any]) -> str:
    # Plain text (SMS, text e-mail): no HTML escaping.
    return Template(source).render(Context(context, autoescape=False))


def _language_of(claim: Claim) -> str:
    codes = {code for code, _name in settings.LANGUAGES}
    return claim.language if claim.language in codes else DEFAULT_LANGUAGE


@transaction.atomic
def notification_queue(*, claim: Claim, event: str, extra: dict[str, Any] | None = None) -> list[Delivery]:
    """Write the e-mail (to ``claim.email``) and SMS (to ``claim.phone``) of ``event`` for
    ``claim``, in the claim's language (the Azerbaijani template when that language has none),
    and enqueue their delivery when the surrounding transaction commits.

    Call it inside the transaction of the change that causes the notification: if that
    transaction rolls back, no row is left and nothing is enqueued. A medium whose recipient
    is empty is skipped. A missing or broken template does not break the caller's change: the
    row is written ``failed`` with the reason in ``last_error``, visible to staff.
    """
    language = _language_of(claim)
    templates = {
        (t.medium, t.language): t
        for t in NotificationTemplate.objects.filter(event=event, language__in={language, DEFAULT_LANGUAGE})
    }
    deliveries: list[Delivery] = []
    with translation.override(language):
        context = notification_context(claim=claim, extra=extra)
        for medium, recipient in ((Medium.EMAIL, claim.email), (Medium.SMS, claim.phone)):
            if not recipient:
                continue
            delivery = Delivery(claim=claim, event=event, medium=medium, language=language, recipient=recipient)
            template = templates.get((medium, language)) or templates.get((medium, DEFAULT_LANGUAGE))
            try:
                if template is None:
                    raise LookupError(f"no template for {event}/{medium} in '{language}' or '{DEFAULT_LANGUAGE}'")
                delivery.language = template.language
                if medium == Medium.EMAIL:
                    delivery.subject = " ".join(_render(template.subject, context).split())[:200]
                    delivery.body = _render(template.body, context).strip() + "\n"
                else:
                    delivery.body = sms_fit(" ".join(_render(template.body, context).split()))
                    delivery.segments = sms_segments(delivery.body)
            except Exception as e:  # a staff-edited template must not break a claim's change
                logger.exception("notification %s/%s for claim %s could not be rendered", event, medium, claim.pk)
                delivery.status = DeliveryStatus.FAILED
                delivery.last_error = error_text(e)
            delivery.save()
            deliveries.append(delivery)
            if delivery.status == DeliveryStatus.CREATED:
                DELIVERIES.enqueue_on_commit(delivery.pk)
    return deliveries


@transaction.atomic
def staff_email_queue(*, event: str, recipient: str, subject: str, body: str, language: str = DEFAULT_LANGUAGE
                      ) -> Delivery:
    """An e-mail to a staff member (not about one claim), delivered like every other message."""
    delivery = Delivery.objects.create(event=event, medium=Medium.EMAIL, language=language, recipient=recipient,
                                       subject=subject[:200], body=body)
    DELIVERIES.enqueue_on_commit(delivery.pk)
    return delivery


# --- Sending ---------------------------------------------------------------------------------


def _send(delivery: Delivery) -> dict[str, Any]:
    """The outbox engine's ``send``: hand the message to its provider; what to store on the
    delivered row. A socket or SMTP error (an OSError) is retried by the engine."""
    try:
        reference = _hand_over(delivery)
    except smtplib.SMTPRecipientsRefused as e:
        if _permanently_refused(e):
            raise PermanentError(error_text(e)) from e
        raise
    return {"provider_reference": (reference or "")[:100]}


def _hand_over(delivery: Delivery) -> str:
    """Send the message under a reference made from the delivery's id (the e-mail's Message-ID,
    the SMS's client reference), so that a repeat after a crash can be dropped by the receiver;
    returns the reference to store."""
    if delivery.medium == Medium.EMAIL:
        message = email_message(delivery)
        if message.send(fail_silently=False) != 1:
            raise RetryableDeliveryError("the e-mail backend did not send the message")
        return str(message.extra_headers["Message-ID"])
    if delivery.medium == Medium.SMS:
        return get_sms_backend().send(to=delivery.recipient, text=delivery.body, sender=settings.SMS_SENDER,
                                      reference=sms_reference(delivery.pk))
    raise PermanentDeliveryError(f"unknown medium {delivery.medium!r}")


def _permanently_refused(error: smtplib.SMTPRecipientsRefused) -> bool:
    # 5xx for every recipient: the mailbox does not exist or will never take it.
    codes = [code for code, _msg in error.recipients.values()]
    return bool(codes) and all(code >= 500 for code in codes)


def _has_text(delivery: Delivery) -> None:
    if not delivery.body:
        raise DeliveryNotRetryable(f"delivery {delivery.pk} has no text (its template failed); fix the template")


# The outbox engine (core.outbox) with this app's send; limits from DELIVERY_RETRY_HORIZON,
# DELIVERY_BACKOFF_BASE, DELIVERY_BACKOFF_CAP, DELIVERY_MAX_ATTEMPTS and DELIVERY_STALE_SECONDS.
# The messages of one claim to one recipient on one medium go out in the order they were written.
DELIVERIES: Outbox[Delivery] = Outbox(
    model=Delivery, task="notifications.tasks.deliver_notification", send=_send, settings_prefix="DELIVERY",
    what="delivery", describe=lambda d: f"delivery {d.pk} ({d.medium} to {d.recipient})",
    in_order_of=("claim_id", "medium", "recipient"))


def delivery_send(*, delivery_id: int) -> None:
    """Send one delivery; what the ``deliver_notification`` task calls (core.outbox.Outbox.deliver).

    Idempotent: only a ``created`` row that is due (no ``next_attempt_at`` or one in the past)
    is sent; a row that is ``sending`` (another worker has it), delivered or failed is left
    alone, so a task that runs twice sends once. The row is marked ``sending`` and committed
    before the provider is called, outside any lock. Afterwards it is ``delivered`` (with
    ``delivered_at`` and the provider's reference), ``created`` again with ``next_attempt_at``
    after a retryable failure (backoff ``DELIVERY_BACKOFF_BASE`` doubling per attempt, capped
    at ``DELIVERY_BACKOFF_CAP``; its task re-enqueued for then), or ``failed`` (a permanent
    error, or a temporary one after ``DELIVERY_RETRY_HORIZON``). While an earlier message of
    the same claim to the same recipient is pending, it waits without using an attempt.
    """
    DELIVERIES.deliver(delivery_id)


# --- Recovery --------------------------------------------------------------------------------


def deliveries_sweep(*, batch_size: int = 500) -> int:
    """Re-enqueue deliveries whose task was lost; returns how many were enqueued
    (core.outbox.Outbox.sweep, with ``DELIVERY_STALE_SECONDS`` and ``DELIVERY_RETRY_HORIZON``):
    due ``created`` rows untouched for the stale period are enqueued again (this is how retries
    go on through an outage), ``sending`` rows untouched that long (their worker stopped, or
    could not record the outcome) go back to ``created`` and are enqueued, or to ``failed``
    when past their horizon. Safe to run concurrently with workers and another sweep.
    """
    return DELIVERIES.sweep(batch_size=batch_size)


@transaction.atomic
def delivery_retry(*, delivery_id: int, by: User | None) -> Delivery:
    """Staff: send a ``failed`` delivery again. It goes back to ``created`` with its attempts
    reset and is enqueued on commit. Raises ``DeliveryNotRetryable`` for any other status, or
    for a row without text (its template failed)."""
    from audit.services import audit_record

    delivery, before = DELIVERIES.retry(delivery_id, check=_has_text)
    audit_record(actor=by, action="delivery_retried", claim=delivery.claim, before=before,
                 after={"status": delivery.status}, object_type="notifications.delivery",
                 object_id=str(delivery.pk))
    return delivery
