"""Notifications: every write of the app.

A notification is first a ``Delivery`` row, written in the transaction of the change that
causes it; its delivery task is enqueued only after that transaction commits. The task sends
it (e-mail through Django's mail backend, SMS through the SMS backend), retries retryable
failures with exponential backoff up to ``DELIVERY_MAX_ATTEMPTS``, and marks permanent ones
failed at once. A periodic sweep re-enqueues rows whose task was lost, so a crash between
commit and enqueue, or a worker stopped mid-send, loses nothing (delivery is at least once).
"""

from __future__ import annotations

import logging
import smtplib
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.message import make_msgid
from django.core.mail.utils import DNS_NAME
from django.db import transaction
from django.db.models import Q
from django.template import Context, Template
from django.utils import timezone, translation

from core.outbox import enqueue_each, enqueue_task, id_batches

from .models import Delivery, DeliveryStatus, Medium, NotificationTemplate
from .sms import PermanentDeliveryError, RetryableDeliveryError, get_sms_backend, sms_segments

if TYPE_CHECKING:
    from claims.models import Claim
    from identity.models import User

logger = logging.getLogger(__name__)

DEFAULT_LANGUAGE = "az"
ERROR_MAX_CHARS = 2000


class DeliveryNotRetryable(Exception):
    """Only a failed delivery can be sent again by staff."""


# --- Queueing --------------------------------------------------------------------------------


def notification_context(*, claim: Claim, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The variables a notification template may use: claim, number, due_on, status (its label
    in the active language), status_code, subscriber_code, invoice_number, citizen_name,
    first_name, last_name, portal_url (the claim's page on the portal), org
    (settings.ORGANISATION), plus the event's ``extra`` (which wins on a name clash)."""
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
    }
    context.update(extra or {})
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
                    delivery.body = " ".join(_render(template.body, context).split())
                    delivery.segments = sms_segments(delivery.body)
            except Exception as e:  # a staff-edited template must not break a claim's change
                logger.exception("notification %s/%s for claim %s could not be rendered", event, medium, claim.pk)
                delivery.status = DeliveryStatus.FAILED
                delivery.last_error = _error_text(e)
            delivery.save()
            deliveries.append(delivery)
            if delivery.status == DeliveryStatus.CREATED:
                # robust: a broker that is down must not fail the committed change; the sweep
                # enqueues the row later.
                transaction.on_commit(partial(_enqueue, delivery.pk), robust=True)
    return deliveries


@transaction.atomic
def staff_email_queue(*, event: str, recipient: str, subject: str, body: str, language: str = DEFAULT_LANGUAGE
                      ) -> Delivery:
    """An e-mail to a staff member (not about one claim), delivered like every other message."""
    delivery = Delivery.objects.create(event=event, medium=Medium.EMAIL, language=language, recipient=recipient,
                                       subject=subject[:200], body=body)
    transaction.on_commit(partial(_enqueue, delivery.pk), robust=True)
    return delivery


def _enqueue(delivery_id: int, run_after: datetime | None = None) -> None:
    from .tasks import deliver_notification  # tasks import this module

    enqueue_task(deliver_notification, delivery_id, run_after)


# --- Sending ---------------------------------------------------------------------------------


def delivery_send(*, delivery_id: int) -> None:
    """Send one delivery; what the ``deliver_notification`` task calls.

    Idempotent: only a ``created`` row that is due (no ``next_attempt_at`` or one in the past)
    is sent; a row that is ``sending`` (another worker has it), delivered or failed is left
    alone, so a task that runs twice sends once. The row is marked ``sending`` and committed
    before the provider is called, outside any lock. Afterwards it is ``delivered`` (with
    ``delivered_at`` and the provider's reference), ``created`` again with ``next_attempt_at``
    after a retryable failure (and its task re-enqueued for then), or ``failed``.
    """
    now = timezone.now()
    with transaction.atomic():
        delivery = Delivery.objects.select_for_update().filter(pk=delivery_id).first()
        if delivery is None:
            logger.warning("delivery %s does not exist", delivery_id)
            return
        if delivery.status != DeliveryStatus.CREATED:
            return
        if delivery.next_attempt_at is not None and delivery.next_attempt_at > now:
            return  # an early duplicate; the retry's own task or the sweep sends it when due
        delivery.status = DeliveryStatus.SENDING
        delivery.attempts += 1
        delivery.save(update_fields=["status", "attempts", "updated_at"])
    attempt = delivery.attempts

    try:
        reference = _send(delivery)
    except PermanentDeliveryError as e:
        _mark_failed(delivery, attempt=attempt, error=_error_text(e))
    except (RetryableDeliveryError, OSError) as e:  # smtplib.SMTPException and socket errors are OSErrors
        if isinstance(e, smtplib.SMTPRecipientsRefused) and _permanently_refused(e):
            _mark_failed(delivery, attempt=attempt, error=_error_text(e))
        else:
            _retry_later(delivery, attempt=attempt, error=_error_text(e))
    except Exception as e:
        # A bug or a misconfiguration: keep the row moving (bounded retries, then failed)
        # rather than leave it in "sending".
        logger.exception("delivery %s: unexpected error", delivery.pk)
        _retry_later(delivery, attempt=attempt, error=_error_text(e))
    else:
        _mark_delivered(delivery, reference=reference)


def _send(delivery: Delivery) -> str:
    if delivery.medium == Medium.EMAIL:
        message_id = make_msgid(domain=str(DNS_NAME))
        message = EmailMessage(
            subject=delivery.subject, body=delivery.body, from_email=settings.DEFAULT_FROM_EMAIL,
            to=[delivery.recipient], headers={"Message-ID": message_id},
        )
        if message.send(fail_silently=False) != 1:
            raise RetryableDeliveryError("the e-mail backend did not send the message")
        return message_id
    if delivery.medium == Medium.SMS:
        return get_sms_backend().send(to=delivery.recipient, text=delivery.body, sender=settings.SMS_SENDER)
    raise PermanentDeliveryError(f"unknown medium {delivery.medium!r}")


def _permanently_refused(error: smtplib.SMTPRecipientsRefused) -> bool:
    # 5xx for every recipient: the mailbox does not exist or will never take it.
    codes = [code for code, _msg in error.recipients.values()]
    return bool(codes) and all(code >= 500 for code in codes)


def _error_text(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:ERROR_MAX_CHARS]


def _mark_delivered(delivery: Delivery, *, reference: str) -> None:
    now = timezone.now()
    # "created" too: the sweep may have taken a slow send for a lost one; the message went.
    Delivery.objects.filter(pk=delivery.pk, status__in=[DeliveryStatus.SENDING, DeliveryStatus.CREATED]).update(
        status=DeliveryStatus.DELIVERED, delivered_at=now, provider_reference=(reference or "")[:100],
        next_attempt_at=None, updated_at=now,
    )
    logger.info("delivery %s (%s to %s) delivered, ref %s", delivery.pk, delivery.medium, delivery.recipient,
                reference)


def _mark_failed(delivery: Delivery, *, attempt: int, error: str) -> None:
    now = timezone.now()
    Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.SENDING, attempts=attempt).update(
        status=DeliveryStatus.FAILED, last_error=error, next_attempt_at=None, updated_at=now,
    )
    logger.error("delivery %s (%s to %s) failed after %s attempt(s): %s", delivery.pk, delivery.medium,
                 delivery.recipient, attempt, error)


def _retry_later(delivery: Delivery, *, attempt: int, error: str) -> None:
    if attempt >= settings.DELIVERY_MAX_ATTEMPTS:
        _mark_failed(delivery, attempt=attempt, error=error)
        return
    now = timezone.now()
    next_attempt_at = now + timedelta(seconds=settings.DELIVERY_BACKOFF_SECONDS * 2 ** (attempt - 1))
    # Only the attempt that owns the row decides its fate.
    updated = Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.SENDING, attempts=attempt).update(
        status=DeliveryStatus.CREATED, next_attempt_at=next_attempt_at, last_error=error, updated_at=now,
    )
    logger.warning("delivery %s (%s to %s) attempt %s failed, next at %s: %s", delivery.pk, delivery.medium,
                   delivery.recipient, attempt, next_attempt_at.isoformat(), error)
    if updated:
        try:
            _enqueue(delivery.pk, run_after=next_attempt_at)
        except Exception:
            logger.exception("delivery %s: could not enqueue the retry; the sweep will", delivery.pk)


# --- Recovery --------------------------------------------------------------------------------


def deliveries_sweep(*, batch_size: int = 500) -> int:
    """Re-enqueue deliveries whose task was lost; returns how many were enqueued.

    - ``created`` rows that are due (``next_attempt_at`` empty or past) and untouched for
      ``DELIVERY_STALE_SECONDS``: their enqueue was lost (a crash between commit and enqueue,
      a broker outage) or is stuck. Each is touched when re-enqueued, so a long backlog gets at
      most one extra (harmless, idempotent) task per ``DELIVERY_STALE_SECONDS``, not one per
      sweep.
    - ``sending`` rows untouched for ``DELIVERY_STALE_SECONDS``: their worker stopped mid-send.
      They go back to ``created`` and are enqueued (the message may go twice: delivery is at
      least once), or to ``failed`` when they have used up ``DELIVERY_MAX_ATTEMPTS``.

    Works in batches of ``batch_size`` rows; safe to run concurrently with workers and with
    another sweep.
    """
    now = timezone.now()
    cutoff = now - timedelta(seconds=settings.DELIVERY_STALE_SECONDS)
    max_attempts = settings.DELIVERY_MAX_ATTEMPTS
    enqueued = 0

    stale = Delivery.objects.filter(status=DeliveryStatus.SENDING, updated_at__lt=cutoff)
    given_up = stale.filter(attempts__gte=max_attempts).update(
        status=DeliveryStatus.FAILED, next_attempt_at=None, updated_at=now,
        last_error=f"the worker stopped while sending attempt {max_attempts}; gave up",
    )
    if given_up:
        logger.error("sweep: %s stale deliveries failed after %s attempts", given_up, max_attempts)
    for ids in id_batches(stale.filter(attempts__lt=max_attempts), batch_size):
        Delivery.objects.filter(pk__in=ids, status=DeliveryStatus.SENDING, updated_at__lt=cutoff).update(
            status=DeliveryStatus.CREATED, next_attempt_at=None, updated_at=now,
            last_error="the worker stopped while sending; sent again by the sweep",
        )
        logger.warning("sweep: %s deliveries stuck in sending sent again", len(ids))
        enqueued += enqueue_each(ids, _enqueue, "delivery")

    # Served by the (status, next_attempt_at) index.
    due = Delivery.objects.filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now), status=DeliveryStatus.CREATED,
    ).filter(updated_at__lt=cutoff)
    for ids in id_batches(due, batch_size):
        Delivery.objects.filter(pk__in=ids, status=DeliveryStatus.CREATED).update(updated_at=now)
        enqueued += enqueue_each(ids, _enqueue, "delivery")
    if enqueued:
        logger.info("sweep: %s deliveries enqueued", enqueued)
    return enqueued


@transaction.atomic
def delivery_retry(*, delivery_id: int, by: User | None) -> Delivery:
    """Staff: send a ``failed`` delivery again. It goes back to ``created`` with its attempts
    reset and is enqueued on commit. Raises ``DeliveryNotRetryable`` for any other status."""
    from audit.services import audit_record

    delivery = Delivery.objects.select_for_update().get(pk=delivery_id)
    if delivery.status != DeliveryStatus.FAILED:
        raise DeliveryNotRetryable(f"delivery {delivery.pk} is {delivery.status}, not failed")
    if not delivery.body:
        raise DeliveryNotRetryable(f"delivery {delivery.pk} has no text (its template failed); fix the template")
    before = {"status": delivery.status, "attempts": delivery.attempts, "last_error": delivery.last_error}
    delivery.status = DeliveryStatus.CREATED
    delivery.attempts = 0
    delivery.next_attempt_at = None
    delivery.save(update_fields=["status", "attempts", "next_attempt_at", "updated_at"])
    audit_record(actor=by, action="delivery_retried", claim=delivery.claim, before=before,
                 after={"status": delivery.status}, object_type="notifications.delivery",
                 object_id=str(delivery.pk))
    transaction.on_commit(partial(_enqueue, delivery.pk), robust=True)
    return delivery
