"""The channel API: every write.

- channels and keys: registration, key creation (the clear key exists only in the return
  value), revocation, webhook secret rotation, key checking;
- the citizen a channel acts for (created on first sight, like identity.services.citizen_login
  but without a session) and the per-call audit entry;
- rate limits (fixed one-minute windows in the Django cache) and the account look-up (its
  foreign-account budget, shared with the portal, is claims.filing's);
- filing a claim with an Idempotency-Key (through claims.filing, as the portal does), answering
  an information request, withdrawing.

Webhooks (queueing, sending, recovery) are in api.webhooks.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import math
import secrets
import time
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from django.core.cache import cache
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone

from audit.services import audit_record
from claims import filing
from claims.evidence import PhotoDrafts, PhotoRejected
from claims.filing import AccountLookup
from claims.models import Claim, ReasonTemplate
from claims.services import claim_answer_info, claim_withdraw
from core.errors import ServiceError
from identity.models import User

from . import selectors
from .auth import CitizenAssertion
from .models import ApiChannel, ApiIdempotencyKey, ApiKey

logger = logging.getLogger(__name__)

KEY_PREFIX_BYTES = 6  # 12 hex characters


class ApiInputError(ServiceError):
    """Input that is well-formed but does not fit billing's data: ``errors`` maps the request's
    field names to messages (api.problems answers 400 with them)."""

    code = "invalid_input"

    def __init__(self, errors: Mapping[str, str]):
        self.errors = dict(errors)
        super().__init__("; ".join(f"{k}: {v}" for k, v in self.errors.items()), field=next(iter(self.errors), None))


class IdempotencyKeyReused(Exception):
    """The Idempotency-Key already produced a claim from a different request."""

    def __init__(self, number: str):
        self.number = number
        super().__init__(number)


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


def account_lookup(*, citizen: User, subscriber_code: str) -> AccountLookup:
    """The account with a subscriber code, as the citizen may see it (claims.filing.account_look_up).
    A look-up of somebody else's account (or of a code that does not exist) counts against the
    foreign look-up budget the citizen shares with the portal (claims.filing.LookupLimited); an
    unknown code is Http404."""
    code = subscriber_code.strip()
    if not selectors.SUBSCRIBER_CODE_RE.fullmatch(code):
        raise Http404
    try:
        return filing.account_look_up(citizen=citizen, subscriber_code=code)
    except filing.AccountNotFound as e:
        raise Http404 from e


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
    """File a claim for ``citizen`` through ``channel``, by claims.filing; returns the claim and
    whether it was created now (False: the same Idempotency-Key already filed it).

    The account and the invoice (one of its last 12 months) are looked up by code and number;
    claims.filing.claim_file checks that every meter on the invoice, and only those, has a
    reading and a photo, stores the photos (validated, re-encoded) and registers the claim with
    the channel's code, idempotent on a submission key derived from the Idempotency-Key. Input
    that does not fit billing's data is claims.filing.FilingRefused, by field (api.problems: 400);
    DuplicateOpenClaim / ServiceError pass through. Nothing is written when anything is refused.
    """
    account = filing.account_get(subscriber_code=subscriber_code)
    invoice = filing.invoice_of_account(subscriber_code=subscriber_code, number=invoice_number)
    with transaction.atomic():  # the claim and the key that filed it, together
        claim = filing.claim_file(
            citizen=citizen, account=account, invoice=invoice, reason=reason, reason_text=reason_text,
            readings=readings, photos=photos, phone=phone, email=email, comment=comment, language=language,
            login_method=login_method, channel=channel.code, consent=consent, photo_folder="drafts/api",
            submission_key=_submission_key(channel=channel, citizen=citizen, key=idempotency_key),
        )
        record, created = ApiIdempotencyKey.objects.get_or_create(
            channel=channel, citizen=citizen, key=idempotency_key,
            defaults={"fingerprint": fingerprint, "claim": claim},
        )
    if not created and not hmac.compare_digest(record.fingerprint, fingerprint):
        raise IdempotencyKeyReused(record.claim.number)
    return claim, created


def api_claim_answer(*, claim: Claim, citizen: User, text: str, photo: UploadedFile | None) -> Claim:
    """The citizen's answer to the claim's pending information request (text and/or photo),
    through claims.services.claim_answer_info. ApiInputError for a rejected photo."""
    with PhotoDrafts(folder="drafts/api") as drafts:  # the service copies the photo: the draft goes either way
        try:
            stored = drafts.put(photo)
        except PhotoRejected as e:
            raise ApiInputError({"photo": str(e)}) from e
        return claim_answer_info(claim=claim, actor=citizen, text=text,
                                 photo_path=stored.path if stored else "",
                                 photo_content_type=stored.content_type if stored else "")


def api_claim_withdraw(*, claim: Claim, citizen: User) -> Claim:
    return claim_withdraw(claim=claim, actor=citizen)
