"""Webhooks: a channel is told of every public move of the claims it filed.

A ``WebhookDelivery`` row is written in the transaction of the claim's change (the claims app
calls api.subscribers.on_claim_change, named in settings.CLAIM_CHANGE_SUBSCRIBERS), its task
enqueued on commit. The task signs and POSTs it, retries failures with capped exponential
backoff until ``API_WEBHOOK_RETRY_HORIZON`` (72 hours) after the event was written, then fails
it, and logs every attempt (``WebhookAttempt``); a periodic sweep re-enqueues rows whose task was
lost. Delivery is at least once; ``event_id`` lets the receiver drop a duplicate. A claim's
events reach a channel in order.

Claiming, retrying, the sweep and staff retries are the outbox engine's (core.outbox); this
module plugs in what is particular to webhooks: the payload and the signed POST with its attempt
log (``_send``); the per-claim order is the engine's (``in_order_of``).
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import logging
import time
import urllib.error
import urllib.request
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import DatabaseError, transaction
from django.utils import timezone

from audit.services import audit_record
from claims.models import ClaimEvent
from core.outbox import NotRetryable, Outbox, PermanentError, RetryableError, error_text
from identity.models import User

from .models import ApiChannel, WebhookAttempt, WebhookDelivery
from .urlguard import PublicHTTPHandler, PublicHTTPSHandler, UnsafeUrl, check_webhook_url

logger = logging.getLogger(__name__)

# --- Queueing ----------------------------------------------------------------------------------


def _money(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return str(Decimal(str(value)).quantize(Decimal("0.01")))


def webhook_payload(*, delivery: WebhookDelivery, event: ClaimEvent) -> dict[str, Any]:
    claim = event.claim
    due_on = claim.due_on
    return {
        "event_id": str(delivery.event_id),
        "type": "claim.event",
        "sequence": event.pk,
        "kind": event.kind,
        "claim_number": claim.number,
        "status": event.status,
        "outcome": claim.outcome or None,
        "corrected_amount": _money(claim.corrected_amount),
        "due_on": due_on.isoformat() if hasattr(due_on, "isoformat") else str(due_on),
        "note": event.note,
        "occurred_at": event.at.isoformat(),
        "channel": delivery.channel.code,
    }


def webhook_queue_for_event(*, event: ClaimEvent) -> WebhookDelivery | None:
    """Write the webhook delivery of a claim's timeline event, inside the transaction of the
    change that wrote the event, and enqueue its sending on commit. Only public events (those
    the citizen sees) go out; only to an active channel that filed the claim and has a URL.

    A failure here is logged and does not undo the claim's change (savepoint)."""
    if not event.public:
        return None
    claim = event.claim
    channel = ApiChannel.objects.filter(code=claim.channel, active=True).exclude(webhook_url="").first()
    if channel is None:
        return None
    try:
        with transaction.atomic():
            delivery = WebhookDelivery(channel=channel, claim=claim, claim_event=event, kind=event.kind)
            delivery.payload = webhook_payload(delivery=delivery, event=event)
            delivery.save()
    except DatabaseError:
        logger.exception("webhook for event %s of claim %s could not be queued", event.pk, claim.pk)
        return None
    WEBHOOKS.enqueue_on_commit(delivery.pk)
    return delivery


# --- Sending -----------------------------------------------------------------------------------


def webhook_signature(*, secret: str, timestamp: int, body: bytes) -> str:
    """The ``X-Signature`` header value: ``t=<ts>,v1=<hex HMAC-SHA256 of "<ts>.<body>">``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def webhook_body(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:  # a 3xx is an answer, not a hop
        return None


# Connections only to public addresses (api.urlguard), no redirects.
webhook_opener = urllib.request.build_opener(_NoRedirects, PublicHTTPSHandler, PublicHTTPHandler)


def _post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> tuple[int, str]:
    """The answer's status. Its body is neither read nor kept: a webhook URL must not become a
    way to read what some other server answers (it would be shown back in the admin)."""
    check_webhook_url(url)
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 - checked above
    try:
        with webhook_opener.open(request, timeout=timeout) as response:
            return response.status, ""
    except urllib.error.HTTPError as e:
        e.close()
        return e.code, ""


def _send(delivery: WebhookDelivery) -> dict[str, Any]:
    """The outbox engine's ``send``: one signed POST, logged as a WebhookAttempt. A 2xx answer
    delivers it; any other answer or a network error is retryable; a channel that is disabled
    or has no URL any more fails the row at once."""
    channel = ApiChannel.objects.get(pk=delivery.channel_id)
    url = channel.webhook_url
    if not channel.active or not url or not url.lower().startswith(("http://", "https://")):
        raise PermanentError("the channel is disabled or has no http(s) webhook URL")
    try:
        check_webhook_url(url)
    except UnsafeUrl as e:
        raise PermanentError(str(e)) from e

    attempt = delivery.attempts
    at = timezone.now()
    body = webhook_body(delivery.payload)
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "borc-webhooks/1",
        "X-Signature": webhook_signature(secret=channel.webhook_secret, timestamp=timestamp, body=body),
        "X-Webhook-Event-Id": str(delivery.event_id),
        "X-Webhook-Attempt": str(attempt),
    }
    started = time.monotonic()
    status_code: int | None = None
    response_text = error = ""
    try:
        status_code, response_text = _post(url, body, headers, settings.API_WEBHOOK_TIMEOUT_SECONDS)
    except (OSError, http.client.HTTPException, ValueError) as e:  # refused, timeout, reset, bad answer
        error = error_text(e)
    except Exception as e:  # a bug: still logged as an attempt, and retried like a failure
        logger.exception("webhook %s: unexpected error", delivery.pk)
        error = error_text(e)
    duration_ms = int((time.monotonic() - started) * 1000)
    if status_code is not None and not 200 <= status_code < 300:
        error = f"HTTP {status_code}"
    WebhookAttempt.objects.create(delivery=delivery, number=attempt, at=at, url=url[:500], status_code=status_code,
                                  error=error, response_body=response_text[:500], duration_ms=duration_ms)
    if error:
        raise RetryableError(error)
    return {"last_error": ""}


WEBHOOKS: Outbox[WebhookDelivery] = Outbox(
    model=WebhookDelivery,
    task="api.tasks.send_webhook",
    send=_send,
    # API_WEBHOOK_RETRY_HORIZON, _BACKOFF_SECONDS, _BACKOFF_CAP, _MAX_ATTEMPTS and _STALE_SECONDS
    settings_prefix="API_WEBHOOK",
    what="webhook delivery",
    describe=lambda d: f"webhook {d.pk} to channel {d.channel_id}",
    in_order_of=("channel_id", "claim_id"),  # a claim's events reach a channel in order
)


def webhook_send(*, delivery_id: int) -> None:
    """Send one webhook delivery; what the ``send_webhook`` task calls (core.outbox.Outbox.deliver).

    Idempotent: only a ``created`` row that is due is sent; the row is marked ``sending`` and
    committed before the endpoint is called. A claim's events reach a channel in order: one
    waits while an earlier one of the same claim is still pending. Each attempt is logged as a
    WebhookAttempt. A 2xx answer delivers it; any other answer or a network error schedules a
    retry after API_WEBHOOK_BACKOFF_SECONDS * 2^(attempt-1), capped at API_WEBHOOK_BACKOFF_CAP
    (the last retry moved up to the horizon), until API_WEBHOOK_RETRY_HORIZON after the row was
    written (and, if API_WEBHOOK_MAX_ATTEMPTS is set, at most that many attempts); an attempt
    that fails after that makes it ``failed`` (visible and retryable in the admin). A channel
    that is disabled or has no URL any more fails the row at once.
    """
    WEBHOOKS.deliver(delivery_id)


# --- Recovery ----------------------------------------------------------------------------------


def webhooks_sweep(*, batch_size: int = 500) -> int:
    """Re-enqueue webhook deliveries whose task was lost; returns how many were enqueued
    (core.outbox.Outbox.sweep, with API_WEBHOOK_STALE_SECONDS and API_WEBHOOK_RETRY_HORIZON).

    ``created`` rows that are due and untouched for API_WEBHOOK_STALE_SECONDS (their enqueue was
    lost, or the retry's deferred task cannot be deferred by the backend) are enqueued and
    touched; ``sending`` rows untouched that long (the worker stopped mid-send) go back to
    ``created`` and are enqueued, or to ``failed`` when their horizon has passed (or, if
    API_WEBHOOK_MAX_ATTEMPTS is set, their attempts are used up). Safe to run concurrently.
    """
    return WEBHOOKS.sweep(batch_size=batch_size)


WebhookNotRetryable = NotRetryable  # only a failed delivery can be sent again


@transaction.atomic
def webhook_retry(*, delivery_id: int, by: User | None) -> WebhookDelivery:
    """An administrator sends a ``failed`` delivery again (attempts reset, a new retry horizon
    from now); enqueued on commit.
    Raises ``WebhookNotRetryable`` for any other status."""
    delivery, before = WEBHOOKS.retry(delivery_id)
    audit_record(actor=by, action="webhook_retried", object_type="api.webhookdelivery", object_id=str(delivery.pk),
                 before=before, after={"status": delivery.status})
    return delivery
