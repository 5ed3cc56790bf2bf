"""The channel API: every write.

- channels and keys: registration, key creation (the clear key exists only in the return
  value), revocation, webhook secret rotation, key checking;
- the citizen a channel acts for (created on first sight, like identity.services.citizen_login
  but without a session) and the per-call audit entry;
- rate limits (fixed one-minute windows in the Django cache) and the foreign-account look-up
  budget shared with the portal;
- filing a claim with an Idempotency-Key, answering an information request, withdrawing;
- webhooks: a ``WebhookDelivery`` row is written in the transaction of the claim's change (see
  api.signals), its task enqueued on commit; the task signs and POSTs it, retries failures with
  exponential backoff up to ``API_WEBHOOK_MAX_ATTEMPTS`` and logs every attempt; a periodic sweep
  re-enqueues rows whose task was lost. Delivery is at least once; ``event_id`` lets the
  receiver drop a duplicate.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import logging
import math
import secrets
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record
from billing.gateway import AccountInfo, get_gateway
from claims.evidence import PhotoRejected, photo_store
from claims.models import Claim, ClaimEvent, ReasonTemplate
from claims.services import MeterDeclaration, claim_answer_info, claim_register, claim_withdraw
from core.outbox import enqueue_each, enqueue_task, id_batches
from identity.models import User

from . import selectors
from .auth import CitizenAssertion
from .models import ApiChannel, ApiIdempotencyKey, ApiKey, WebhookAttempt, WebhookDelivery, WebhookStatus

logger = logging.getLogger(__name__)

ERROR_MAX_CHARS = 2000
KEY_PREFIX_BYTES = 6  # 12 hex characters


class ApiInputError(Exception):
    """Input that is well-formed but does not fit billing's data: ``errors`` maps the request's
    field names to messages."""

    def __init__(self, errors: Mapping[str, str]):
        self.errors = dict(errors)
        super().__init__("; ".join(f"{k}: {v}" for k, v in self.errors.items()))


class IdempotencyKeyReused(Exception):
    """The Idempotency-Key already produced a claim from a different request."""

    def __init__(self, number: str):
        self.number = number
        super().__init__(number)


class LookupLimited(Exception):
    def __init__(self, wait: int):
        self.wait = wait
        super().__init__(wait)


# --- Channels and keys ----------------------------------------------------------------------


def _secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def api_channel_register(*, code: str, name: str, citizen_jwt_public_key: str, webhook_url: str = "",
                         by: User | None = None, active: bool = True) -> ApiChannel:
    """Register a channel (an administrator's act). Its webhook secret is generated; the public
    key must be an RSA (2048+) or EC P-256 PEM. Raises django ValidationError on bad input."""
    channel = ApiChannel(code=code, name=name, citizen_jwt_public_key=citizen_jwt_public_key.strip(),
                         webhook_url=webhook_url, active=active)
    channel.full_clean()
    channel.save()
    audit_record(actor=by, action="api_channel_registered", object_type="api.channel", object_id=channel.code,
                 after={"code": channel.code, "name": channel.name, "webhook_url": channel.webhook_url})
    return channel


@transaction.atomic
def api_key_create(*, channel: ApiChannel, by: User | None = None, name: str = "") -> tuple[ApiKey, str]:
    """A new key for ``channel``: returns the row and the clear key ``<prefix>.<secret>``, which
    is stored nowhere and must be handed to the channel now. Older keys stay valid until
    revoked (rotation)."""
    prefix = secrets.token_hex(KEY_PREFIX_BYTES)
    secret = secrets.token_urlsafe(32)
    key = ApiKey.objects.create(channel=channel, name=name, prefix=prefix, secret_hash=_secret_hash(secret),
                                created_by=by)
    audit_record(actor=by, action="api_key_created", object_type="api.key", object_id=prefix,
                 after={"channel": channel.code, "name": name})
    return key, f"{prefix}.{secret}"


@transaction.atomic
def api_key_revoke(*, key: ApiKey, by: User | None = None) -> ApiKey:
    """Revoke a key at once (idempotent): calls with it are refused with 401."""
    key = ApiKey.objects.select_for_update().get(pk=key.pk)
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
        audit_record(actor=by, action="api_key_revoked", object_type="api.key", object_id=key.prefix,
                     after={"channel": key.channel.code})
    return key


@transaction.atomic
def api_channel_webhook_secret_rotate(*, channel: ApiChannel, by: User | None = None) -> str:
    """A new webhook signing secret; returned so that it can be handed to the channel. Events
    signed from now on use it."""
    from .models import webhook_secret_new

    channel = ApiChannel.objects.select_for_update().get(pk=channel.pk)
    channel.webhook_secret = webhook_secret_new()
    channel.save(update_fields=["webhook_secret"])
    audit_record(actor=by, action="api_webhook_secret_rotated", object_type="api.channel", object_id=channel.code)
    return channel.webhook_secret


def api_key_check(*, raw: str) -> ApiKey | None:
    """The active key (with its channel) that ``<prefix>.<secret>`` names, or None. Compares
    hashes in constant time; records the last use at most once a minute per key."""
    prefix, sep, secret = raw.partition(".")
    if not sep or not prefix or not secret or len(prefix) > 16 or len(secret) > 128:
        return None
    key = ApiKey.objects.select_related("channel").filter(prefix=prefix, revoked_at__isnull=True).first()
    if key is None or not hmac.compare_digest(key.secret_hash, _secret_hash(secret)):
        return None
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at > timedelta(seconds=60):
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    return key


# --- The citizen and the audit trail ------------------------------------------------------------


def citizen_for_assertion(*, assertion: CitizenAssertion) -> User:
    """The citizen a verified assertion names, created on first sight as
    identity.services.citizen_login does (no usable password), without a session."""
    user = User.objects.filter(fin=assertion.fin).first()
    if user is None:
        user = User(username=f"citizen-{assertion.fin}", fin=assertion.fin, first_name=assertion.first_name,
                    last_name=assertion.last_name)
        user.set_unusable_password()
        try:
            with transaction.atomic():
                user.save()
                audit_record(actor=user, action="citizen_created", after={"via": "api", "source": assertion.source})
        except IntegrityError:  # created concurrently by another call
            user = User.objects.get(fin=assertion.fin)
    elif assertion.first_name and (user.first_name, user.last_name) != (assertion.first_name, assertion.last_name):
        User.objects.filter(pk=user.pk).update(first_name=assertion.first_name, last_name=assertion.last_name)
        user.first_name, user.last_name = assertion.first_name, assertion.last_name
    return user


def api_call_audit(*, request: Any, status: int, operation: str) -> None:
    """One audit entry per call of an identified channel: one INSERT, nothing else."""
    channel = getattr(request, "api_channel", None)
    if channel is None:
        return
    citizen = getattr(request, "api_citizen", None)
    key = getattr(request, "api_key", None)
    audit_record(
        actor=citizen, action="api_call", object_type=channel.code, object_id=operation[:64],
        actor_label="" if citizen is not None else f"api:{channel.code}",
        after={"method": request.method, "path": request.path[:300], "status": status,
               "key": key.prefix if key is not None else ""},
        ip=request.META.get("REMOTE_ADDR") or None,
    )


# --- Rate limits --------------------------------------------------------------------------------


def rate_window_hit(key: str, *, limit: int, window: int = 60) -> int | None:
    """Count one request in ``key``'s current fixed window; None when within ``limit``, else
    the seconds until the window ends (for Retry-After)."""
    now = time.time()
    start = int(now // window) * window
    bucket = f"{key}:{start}"
    cache.add(bucket, 0, timeout=window + 5)
    try:
        count = cache.incr(bucket)
    except ValueError:  # evicted between add and incr
        cache.set(bucket, 1, timeout=window + 5)
        count = 1
    if count > limit:
        return max(1, math.ceil(start + window - now))
    return None


def foreign_lookup_allow(*, citizen: User, subscriber_code: str) -> None:
    """Count a look-up of an account the citizen does not hold; raises LookupLimited past
    FOREIGN_ACCOUNT_LOOKUPS_PER_HOUR. The counter is the portal's (same cache key), so the
    citizen has one budget whichever way he looks; an account already looked at in this hour is
    not counted again (the API reads it in several calls: account, invoices, meters)."""
    now = timezone.now()
    hour = f"{now:%Y%m%d%H}"
    seen = f"api-foreign-seen:{citizen.pk}:{subscriber_code}:{hour}"
    if cache.get(seen):
        return
    counter = f"foreign-lookups:{citizen.pk}:{hour}"  # portal.views._foreign_lookup_allowed
    cache.add(counter, 0, timeout=3600)
    try:
        count = cache.incr(counter)
    except ValueError:
        cache.set(counter, 1, timeout=3600)
        count = 1
    if count > settings.FOREIGN_ACCOUNT_LOOKUPS_PER_HOUR:
        next_hour = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        raise LookupLimited(max(1, math.ceil((next_hour - now).total_seconds())))
    cache.set(seen, 1, timeout=3600)


@dataclass(frozen=True)
class AccountLookup:
    account: AccountInfo
    holds: bool  # the citizen holds the account: full data; else masked


def account_lookup(*, citizen: User, subscriber_code: str) -> AccountLookup:
    """The account with a subscriber code, as the citizen may see it. A look-up of somebody
    else's account (or of a code that does not exist) counts against the foreign look-up budget
    (LookupLimited); an unknown code is Http404."""
    code = subscriber_code.strip()
    if not selectors.SUBSCRIBER_CODE_RE.fullmatch(code):
        raise Http404
    account = get_gateway().account_by_code(code)
    holds = account is not None and bool(account.holder_fin) and account.holder_fin == citizen.fin
    if not holds:
        foreign_lookup_allow(citizen=citizen, subscriber_code=code)
    if account is None:
        raise Http404
    return AccountLookup(account=account, holds=holds)


# --- Claims ---------------------------------------------------------------------------------------


def api_request_fingerprint(data: Any) -> str:
    """A digest of a multipart request's fields and files' contents, to recognise a repeat."""
    items: list[tuple[str, str]] = []
    for name in sorted(data.keys()):
        values = data.getlist(name) if hasattr(data, "getlist") else [data[name]]
        for value in values:
            if isinstance(value, UploadedFile):
                digest = hashlib.sha256()
                for chunk in value.chunks():
                    digest.update(chunk)
                value.seek(0)
                items.append((name, f"file:{digest.hexdigest()}"))
            else:
                items.append((name, str(value)))
    return hashlib.sha256(json.dumps(items, ensure_ascii=False).encode()).hexdigest()


def _submission_key(*, channel: ApiChannel, citizen: User, key: str) -> str:
    # claims.Claim.submission_key is unique across citizens: the citizen is part of it, so that
    # two citizens of one channel may use the same Idempotency-Key. Hashed to fit 80 characters.
    return f"api:{channel.code}:{citizen.fin}:{hashlib.sha256(key.encode()).hexdigest()[:32]}"


def api_claim_replay(*, channel: ApiChannel, citizen: User, key: str, fingerprint: str) -> Claim | None:
    """The claim an earlier request with this Idempotency-Key filed, or None. Raises
    IdempotencyKeyReused when the earlier request was a different one."""
    record = (ApiIdempotencyKey.objects.select_related("claim")
              .filter(channel=channel, citizen=citizen, key=key).first())
    if record is None:
        return None
    if not hmac.compare_digest(record.fingerprint, fingerprint):
        raise IdempotencyKeyReused(record.claim.number)
    return record.claim


def api_claim_file(
    *, channel: ApiChannel, citizen: User, login_method: str, idempotency_key: str, fingerprint: str,
    subscriber_code: str, invoice_number: str, reason: ReasonTemplate, reason_text: str, phone: str, email: str,
    comment: str, language: str, consent: bool, readings: Mapping[str, int], photos: Mapping[str, UploadedFile],
) -> tuple[Claim, bool]:
    """File a claim for ``citizen`` through ``channel``; returns the claim and whether it was
    created now (False: the same Idempotency-Key already filed it).

    Checks the account, that the invoice is one of its last 12 months, and that every meter on
    the invoice, and only those, has a reading and a photo (ApiInputError, by field). Photos go
    through claims.evidence.photo_store (validated, re-encoded). Then claims.services.claim_register
    with the channel's code, idempotent on a submission key derived from the Idempotency-Key;
    DuplicateOpenClaim / ClaimError pass through. Nothing is written when anything is refused.
    """
    account = get_gateway().account_by_code(subscriber_code)
    if account is None:
        raise ApiInputError({"subscriber_code": _("Bu abonent kodu tapılmadı. Fakturadakı kodu yoxlayıb yenidən "
                                                  "daxil edin.")})
    invoice = next((i for i in selectors.invoices_recent(subscriber_code=subscriber_code)
                    if i.number == invoice_number), None)
    if invoice is None:
        raise ApiInputError({"invoice_number": _("Bu nömrəli faktura abonentin son 12 ayın fakturaları arasında "
                                                 "yoxdur.")})
    meters = selectors.meters_of_invoice(account=account, invoice=invoice)
    serials = {m.serial_number for m in meters}
    errors: dict[str, str] = {}
    for m in meters:
        if m.serial_number not in readings:
            errors[f"reading[{m.serial_number}]"] = _("Sayğacın bu günə göstəricisini daxil edin.")
        if m.serial_number not in photos:
            errors[f"photo[{m.serial_number}]"] = _("Göstəricinin göründüyü sayğacın şəklini yükləyin.")
    for serial in sorted(set(readings) - serials):
        errors[f"reading[{serial}]"] = _("Bu sayğac fakturada yoxdur.")
    for serial in sorted(set(photos) - serials):
        errors[f"photo[{serial}]"] = _("Bu sayğac fakturada yoxdur.")
    if errors:
        raise ApiInputError(errors)

    stored: dict[str, Any] = {}
    try:
        for m in meters:
            try:
                stored[m.serial_number] = photo_store(photos[m.serial_number], folder="drafts/api")
            except PhotoRejected as e:
                errors[f"photo[{m.serial_number}]"] = str(e)
        if errors:
            raise ApiInputError(errors)
        lines = {ln.meter_serial: ln for ln in invoice.lines}
        declarations = [
            MeterDeclaration(
                meter_serial=m.serial_number, seal_number=m.seal_number,
                billed_reading=lines[m.serial_number].current_reading,
                declared_reading=readings[m.serial_number],
                photo_path=stored[m.serial_number].path, photo_content_type=stored[m.serial_number].content_type,
            )
            for m in meters
        ]
        with transaction.atomic():
            claim = claim_register(
                citizen=citizen, account=account, invoice=invoice, reason=reason, reason_text=reason_text,
                meters=declarations, phone=phone, email=email, comment=comment, language=language,
                login_method=login_method, channel=channel.code, consent=consent,
                submission_key=_submission_key(channel=channel, citizen=citizen, key=idempotency_key),
            )
            record, created = ApiIdempotencyKey.objects.get_or_create(
                channel=channel, citizen=citizen, key=idempotency_key,
                defaults={"fingerprint": fingerprint, "claim": claim},
            )
        if not created and not hmac.compare_digest(record.fingerprint, fingerprint):
            raise IdempotencyKeyReused(record.claim.number)
        return claim, created
    finally:
        # claim_register copied the photos (before its transaction); the drafts are not needed,
        # whether it succeeded, replayed or refused.
        for photo in stored.values():
            default_storage.delete(photo.path)


def api_claim_answer(*, claim: Claim, citizen: User, text: str, photo: UploadedFile | None) -> Claim:
    """The citizen's answer to the claim's pending information request (text and/or photo),
    through claims.services.claim_answer_info. ApiInputError for a rejected photo."""
    stored = None
    if photo is not None:
        try:
            stored = photo_store(photo, folder="drafts/api")
        except PhotoRejected as e:
            raise ApiInputError({"photo": str(e)}) from e
    try:
        return claim_answer_info(claim=claim, citizen=citizen, text=text,
                                 photo_path=stored.path if stored else "",
                                 photo_content_type=stored.content_type if stored else "")
    finally:
        if stored is not None:
            default_storage.delete(stored.path)


def api_claim_withdraw(*, claim: Claim, citizen: User) -> Claim:
    return claim_withdraw(claim=claim, citizen=citizen)


# --- Webhooks: queueing ----------------------------------------------------------------------------


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
    transaction.on_commit(partial(_enqueue, delivery.pk), robust=True)
    return delivery


def _enqueue(delivery_id: int, run_after: datetime | None = None) -> None:
    from .tasks import send_webhook  # tasks import this module

    enqueue_task(send_webhook, delivery_id, run_after)


# --- Webhooks: sending -------------------------------------------------------------------------------


def webhook_signature(*, secret: str, timestamp: int, body: bytes) -> str:
    """The ``X-Signature`` header value: ``t=<ts>,v1=<hex HMAC-SHA256 of "<ts>.<body>">``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def webhook_body(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:  # a 3xx is an answer, not a hop
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def _post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> tuple[int, str]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 - http(s) only
    try:
        with _opener.open(request, timeout=timeout) as response:
            return response.status, response.read(500).decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        try:
            text = e.read(500).decode("utf-8", "replace")
        except Exception:  # noqa: BLE001 - the body is only for the log
            text = ""
        return e.code, text


def _error_text(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:ERROR_MAX_CHARS]


def webhook_send(*, delivery_id: int) -> None:
    """Send one webhook delivery; what the ``send_webhook`` task calls.

    Idempotent: only a ``created`` row that is due is sent; the row is marked ``sending`` and
    committed before the endpoint is called. A claim's events reach a channel in order: one
    waits while an earlier one of the same claim is still pending. Each attempt is logged as a WebhookAttempt. A 2xx
    answer delivers it; any other answer or a network error schedules a retry after
    API_WEBHOOK_BACKOFF_SECONDS * 2^(attempt-1), up to API_WEBHOOK_MAX_ATTEMPTS, then ``failed``
    (visible and retryable in the admin). A channel that is disabled or has no URL any more
    fails the row at once.
    """
    now = timezone.now()
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().filter(pk=delivery_id).first()
        if delivery is None or delivery.status != WebhookStatus.CREATED:
            return
        if delivery.next_attempt_at is not None and delivery.next_attempt_at > now:
            return  # an early duplicate; the retry's own task or the sweep sends it when due
        # One claim's events go out in order: while an earlier one is pending (being retried),
        # this one waits, without using an attempt; the earlier one's end enqueues it. Locking
        # the earlier row closes the race with its completion (see _webhook_next_in_line).
        earlier = (WebhookDelivery.objects.select_for_update()
                   .filter(channel_id=delivery.channel_id, claim_id=delivery.claim_id, pk__lt=delivery.pk,
                           status__in=[WebhookStatus.CREATED, WebhookStatus.SENDING])
                   .order_by("pk").first())
        if earlier is not None:
            wait_until = now + timedelta(seconds=settings.API_WEBHOOK_TIMEOUT_SECONDS)
            if earlier.status == WebhookStatus.CREATED and earlier.next_attempt_at is not None:
                wait_until = max(wait_until, earlier.next_attempt_at)
            delivery.next_attempt_at = wait_until
            delivery.save(update_fields=["next_attempt_at", "updated_at"])
            return
        delivery.status = WebhookStatus.SENDING
        delivery.attempts += 1
        delivery.save(update_fields=["status", "attempts", "updated_at"])
    attempt = delivery.attempts
    channel = ApiChannel.objects.get(pk=delivery.channel_id)
    url = channel.webhook_url
    if not channel.active or not url or not url.lower().startswith(("http://", "https://")):
        _webhook_failed(delivery, attempt=attempt, error="the channel is disabled or has no http(s) webhook URL")
        return

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
        error = _error_text(e)
    except Exception as e:  # a bug must not leave the row in "sending"
        logger.exception("webhook %s: unexpected error", delivery.pk)
        error = _error_text(e)
    duration_ms = int((time.monotonic() - started) * 1000)
    if status_code is not None and not 200 <= status_code < 300:
        error = f"HTTP {status_code}"
    WebhookAttempt.objects.create(delivery=delivery, number=attempt, at=now, url=url[:500], status_code=status_code,
                                  error=error, response_body=response_text[:500], duration_ms=duration_ms)
    if not error:
        _webhook_delivered(delivery)
    else:
        _webhook_retry_later(delivery, attempt=attempt, error=error)


def _webhook_next_in_line(delivery: WebhookDelivery) -> None:
    """The claim's next event for the channel, waiting behind this one: due now, enqueued."""
    following = (WebhookDelivery.objects
                 .filter(channel_id=delivery.channel_id, claim_id=delivery.claim_id, pk__gt=delivery.pk,
                         status=WebhookStatus.CREATED)
                 .order_by("pk").values_list("pk", flat=True).first())
    if following is None:
        return
    WebhookDelivery.objects.filter(pk=following, status=WebhookStatus.CREATED).update(next_attempt_at=None)
    try:
        _enqueue(following)
    except Exception:
        logger.exception("webhook %s: could not enqueue; the sweep will", following)


def _webhook_delivered(delivery: WebhookDelivery) -> None:
    now = timezone.now()
    # "created" too: the sweep may have taken a slow send for a lost one; the event went.
    WebhookDelivery.objects.filter(pk=delivery.pk, status__in=[WebhookStatus.SENDING, WebhookStatus.CREATED]).update(
        status=WebhookStatus.DELIVERED, delivered_at=now, next_attempt_at=None, last_error="", updated_at=now,
    )
    _webhook_next_in_line(delivery)


def _webhook_failed(delivery: WebhookDelivery, *, attempt: int, error: str) -> None:
    now = timezone.now()
    WebhookDelivery.objects.filter(pk=delivery.pk, status=WebhookStatus.SENDING, attempts=attempt).update(
        status=WebhookStatus.FAILED, last_error=error, next_attempt_at=None, updated_at=now,
    )
    logger.error("webhook %s to %s failed after %s attempt(s): %s", delivery.pk, delivery.channel_id, attempt, error)
    _webhook_next_in_line(delivery)  # a given-up event does not hold the claim's later ones back


def _webhook_retry_later(delivery: WebhookDelivery, *, attempt: int, error: str) -> None:
    if attempt >= settings.API_WEBHOOK_MAX_ATTEMPTS:
        _webhook_failed(delivery, attempt=attempt, error=error)
        return
    now = timezone.now()
    next_attempt_at = now + timedelta(seconds=settings.API_WEBHOOK_BACKOFF_SECONDS * 2 ** (attempt - 1))
    updated = WebhookDelivery.objects.filter(pk=delivery.pk, status=WebhookStatus.SENDING, attempts=attempt).update(
        status=WebhookStatus.CREATED, next_attempt_at=next_attempt_at, last_error=error, updated_at=now,
    )
    logger.warning("webhook %s attempt %s failed, next at %s: %s", delivery.pk, attempt, next_attempt_at.isoformat(),
                   error)
    if updated:
        try:
            _enqueue(delivery.pk, run_after=next_attempt_at)
        except Exception:
            logger.exception("webhook %s: could not enqueue the retry; the sweep will", delivery.pk)


# --- Webhooks: recovery ---------------------------------------------------------------------------------


def webhooks_sweep(*, batch_size: int = 500) -> int:
    """Re-enqueue webhook deliveries whose task was lost; returns how many were enqueued.

    ``created`` rows that are due and untouched for API_WEBHOOK_STALE_SECONDS (their enqueue was
    lost, or the retry's deferred task cannot be deferred by the backend) are enqueued and
    touched; ``sending`` rows untouched that long (the worker stopped mid-send) go back to
    ``created`` and are enqueued, or to ``failed`` when out of attempts. Safe to run concurrently.
    """
    now = timezone.now()
    cutoff = now - timedelta(seconds=settings.API_WEBHOOK_STALE_SECONDS)
    max_attempts = settings.API_WEBHOOK_MAX_ATTEMPTS
    enqueued = 0

    stale = WebhookDelivery.objects.filter(status=WebhookStatus.SENDING, updated_at__lt=cutoff)
    stale.filter(attempts__gte=max_attempts).update(
        status=WebhookStatus.FAILED, next_attempt_at=None, updated_at=now,
        last_error=f"the worker stopped while sending attempt {max_attempts}; gave up",
    )
    for ids in id_batches(stale.filter(attempts__lt=max_attempts), batch_size):
        WebhookDelivery.objects.filter(pk__in=ids, status=WebhookStatus.SENDING, updated_at__lt=cutoff).update(
            status=WebhookStatus.CREATED, next_attempt_at=None, updated_at=now,
            last_error="the worker stopped while sending; sent again by the sweep",
        )
        enqueued += enqueue_each(ids, _enqueue, "webhook delivery")

    due = WebhookDelivery.objects.filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now), status=WebhookStatus.CREATED,
    ).filter(updated_at__lt=cutoff)
    for ids in id_batches(due, batch_size):
        WebhookDelivery.objects.filter(pk__in=ids, status=WebhookStatus.CREATED).update(updated_at=now)
        enqueued += enqueue_each(ids, _enqueue, "webhook delivery")
    if enqueued:
        logger.info("webhook sweep: %s deliveries enqueued", enqueued)
    return enqueued


class WebhookNotRetryable(Exception):
    pass


@transaction.atomic
def webhook_retry(*, delivery_id: int, by: User | None) -> WebhookDelivery:
    """An administrator sends a ``failed`` delivery again (attempts reset); enqueued on commit."""
    delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery_id)
    if delivery.status != WebhookStatus.FAILED:
        raise WebhookNotRetryable(f"delivery {delivery.pk} is {delivery.status}, not failed")
    before = {"status": delivery.status, "attempts": delivery.attempts, "last_error": delivery.last_error}
    delivery.status = WebhookStatus.CREATED
    delivery.attempts = 0
    delivery.next_attempt_at = None
    delivery.save(update_fields=["status", "attempts", "next_attempt_at", "updated_at"])
    audit_record(actor=by, action="webhook_retried", object_type="api.webhookdelivery", object_id=str(delivery.pk),
                 before=before, after={"status": delivery.status})
    transaction.on_commit(partial(_enqueue, delivery.pk), robust=True)
    return delivery
