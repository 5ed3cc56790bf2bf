"""SMS: a small backend interface chosen by ``settings.SMS_BACKEND`` (a dotted path, the way
Django chooses ``EMAIL_BACKEND``), and the segment arithmetic of GSM 03.38.

Backends raise ``RetryableDeliveryError`` for failures that may pass (gateway down, timeout,
5xx) and ``PermanentDeliveryError`` for those that will not (a 4xx: bad number, bad
credentials, rejected text). The delivery service retries the first with backoff and marks the
second failed at once.

Every message carries a client reference made from its delivery's id (``sms_reference``): a
message sent again after a crash carries the same one, and the gateway drops the repeat.
docs/sms.md describes the gateway request and how to write a backend for another provider.
"""

from __future__ import annotations

import base64
import http.client
import json
import re
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass
from typing import IO, Any

import phonenumbers
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from core.outbox import PermanentError, RetryableError


class DeliveryError(Exception):
    """A message could not be handed to its provider."""


class RetryableDeliveryError(DeliveryError, RetryableError):
    """The provider may accept the message later: try again with backoff (the outbox engine's
    RetryableError)."""


class PermanentDeliveryError(DeliveryError, PermanentError):
    """The provider will never accept this message as it is: do not retry (the outbox engine's
    PermanentError)."""


class BaseSmsBackend:
    """Send one text message. ``reference`` is the client reference (the same for every attempt
    of one delivery: the provider drops a repeat); ``send`` returns the provider's reference for
    the message (its own id, or ``reference`` when it gives none)."""

    def __init__(self, **options: Any) -> None:
        self.options = options

    def send(self, *, to: str, text: str, sender: str, reference: str = "") -> str:
        raise NotImplementedError


def sms_reference(delivery_id: int) -> str:
    """The client reference of a delivery's SMS: ``SMS_REFERENCE_PREFIX`` and its id."""
    return f"{settings.SMS_REFERENCE_PREFIX}{delivery_id}"


class ConsoleSmsBackend(BaseSmsBackend):
    """Writes each message to stdout (or the ``stream`` given); for development."""

    _lock = threading.Lock()

    def __init__(self, *, stream: IO[str] | None = None, **options: Any) -> None:
        super().__init__(**options)
        self.stream = stream

    def send(self, *, to: str, text: str, sender: str, reference: str = "") -> str:
        reference = reference or f"console-{uuid.uuid4().hex[:12]}"
        stream = self.stream or sys.stdout
        with self._lock:
            stream.write(
                f"SMS from {sender} to {to} ({sms_segments(text)} segment(s), ref {reference})\n{text}\n{'-' * 79}\n"
            )
            stream.flush()
        return reference


@dataclass(frozen=True)
class SmsMessage:
    to: str
    text: str
    sender: str
    reference: str


# Messages "sent" by LocmemSmsBackend, like django.core.mail.outbox; tests empty it.
outbox: list[SmsMessage] = []


class LocmemSmsBackend(BaseSmsBackend):
    """Keeps messages in the module-level ``outbox`` list; for tests."""

    def send(self, *, to: str, text: str, sender: str, reference: str = "") -> str:
        reference = reference or f"locmem-{len(outbox) + 1}"
        outbox.append(SmsMessage(to=to, text=text, sender=sender, reference=reference))
        return reference


class HttpGatewaySmsBackend(BaseSmsBackend):
    """POSTs each message to ``SMS_GATEWAY_URL`` with HTTP basic authentication
    (``SMS_GATEWAY_USER`` / ``SMS_GATEWAY_PASSWORD``) when a user or password is set.

    The request body is ``SMS_GATEWAY_BODY`` with its placeholders filled: ``{sender}``,
    ``{to}`` (E.164, ``+994…``), ``{to_digits}`` (the same without ``+``), ``{text}`` and
    ``{reference}``; sent as JSON (``SMS_GATEWAY_FORMAT = "json"``, any nesting) or as an HTML
    form (``"form"``, one level). By default ``{"from": …, "to": …, "text": …, "reference": …}``.

    A 2xx answer is acceptance; its JSON ``id`` or ``message_id`` (if any) is the provider's
    reference, else the client reference. 408, 429 and 5xx answers, timeouts and connection
    errors are retryable; other 4xx answers are permanent.
    """

    def __init__(self, *, url: str | None = None, user: str | None = None, password: str | None = None,
                 timeout: float | None = None, body: Any = None, body_format: str | None = None,
                 **options: Any) -> None:
        super().__init__(**options)
        self.url = url if url is not None else settings.SMS_GATEWAY_URL
        self.user = user if user is not None else settings.SMS_GATEWAY_USER
        self.password = password if password is not None else settings.SMS_GATEWAY_PASSWORD
        self.timeout = timeout if timeout is not None else settings.SMS_TIMEOUT
        self.body = body if body is not None else settings.SMS_GATEWAY_BODY
        self.body_format = body_format or settings.SMS_GATEWAY_FORMAT
        if urllib.parse.urlsplit(self.url).scheme not in ("http", "https"):
            raise ImproperlyConfigured("SMS_GATEWAY_URL must be an http:// or https:// URL")
        if self.body_format not in ("json", "form"):
            raise ImproperlyConfigured('SMS_GATEWAY_FORMAT must be "json" or "form"')
        if self.body_format == "form" and not (
                isinstance(self.body, dict) and all(isinstance(v, str | int | float) for v in self.body.values())):
            raise ImproperlyConfigured("SMS_GATEWAY_BODY for a form must be one level of names and values")
        fill_body(self.body, dict.fromkeys(BODY_PLACEHOLDERS, ""))  # unknown placeholders fail here

    def request_body(self, *, to: str, text: str, sender: str, reference: str) -> tuple[bytes, str]:
        """The body and its content type for one message."""
        e164 = to_e164(to)
        values = {"sender": sender, "to": e164, "to_digits": e164.lstrip("+"), "text": text, "reference": reference}
        filled = fill_body(self.body, values)
        if self.body_format == "form":
            return urllib.parse.urlencode(filled).encode("ascii"), "application/x-www-form-urlencoded; charset=utf-8"
        return json.dumps(filled, ensure_ascii=False).encode("utf-8"), "application/json; charset=utf-8"

    def send(self, *, to: str, text: str, sender: str, reference: str = "") -> str:
        data, content_type = self.request_body(to=to, text=text, sender=sender, reference=reference)
        headers = {"Content-Type": content_type, "Accept": "application/json"}
        if self.user or self.password:
            token = base64.b64encode(f"{self.user}:{self.password}".encode()).decode("ascii")
            headers["Authorization"] = f"Basic {token}"
        request = urllib.request.Request(  # noqa: S310 - the scheme is checked in __init__
            self.url, data=data, headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                body = response.read()
        except urllib.error.HTTPError as e:
            detail = _error_detail(e)
            if e.code >= 500 or e.code in (408, 429):
                raise RetryableDeliveryError(f"SMS gateway answered HTTP {e.code}: {detail}") from e
            raise PermanentDeliveryError(f"SMS gateway refused the message: HTTP {e.code}: {detail}") from e
        except (OSError, http.client.HTTPException) as e:  # URLError, timeouts, refused connections
            reason = getattr(e, "reason", e)
            raise RetryableDeliveryError(f"SMS gateway unreachable: {reason}") from e
        return _reference(body) or reference


BODY_PLACEHOLDERS = ("sender", "to", "to_digits", "text", "reference")
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def fill_body(template: Any, values: dict[str, str]) -> Any:
    """``template`` (JSON: objects, arrays, strings, numbers) with ``{name}`` in its strings
    replaced by ``values[name]``; a name not in ``values`` is ImproperlyConfigured."""
    if isinstance(template, dict):
        return {str(k): fill_body(v, values) for k, v in template.items()}
    if isinstance(template, list):
        return [fill_body(v, values) for v in template]
    if isinstance(template, str):
        def one(match: re.Match[str]) -> str:
            if match.group(1) not in values:
                raise ImproperlyConfigured(f"SMS_GATEWAY_BODY: unknown placeholder {match.group(0)}; "
                                           f"known: {', '.join(BODY_PLACEHOLDERS)}")
            return values[match.group(1)]
        return _PLACEHOLDER.sub(one, template)
    return template


def _error_detail(error: urllib.error.HTTPError) -> str:
    try:
        return error.read(500).decode("utf-8", "replace").strip() or str(error.reason)
    except OSError:
        return str(error.reason)


def _reference(body: bytes) -> str:
    try:
        answer = json.loads(body or b"null")
    except ValueError:
        return ""
    if isinstance(answer, dict):
        for key in ("id", "message_id"):
            if answer.get(key) not in (None, ""):
                return str(answer[key])[:100]
    return ""


def to_e164(number: str, region: str = "AZ") -> str:
    """``+994501234567`` for any way of writing an Azerbaijani (or international) number.
    An impossible number is a permanent failure: no retry will make it valid."""
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException as e:
        raise PermanentDeliveryError(f"not a phone number: {number!r}") from e
    if not phonenumbers.is_possible_number(parsed):
        raise PermanentDeliveryError(f"not a possible phone number: {number!r}")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def get_sms_backend(backend: str | None = None, **options: Any) -> BaseSmsBackend:
    """An instance of the backend named by ``backend`` or ``settings.SMS_BACKEND``."""
    klass: type[BaseSmsBackend] = import_string(backend or settings.SMS_BACKEND)
    return klass(**options)


def send_sms(*, to: str, text: str, sender: str | None = None, reference: str = "") -> str:
    """Send one SMS through the configured backend; returns the provider's reference."""
    return get_sms_backend().send(to=to, text=text, sender=sender or settings.SMS_SENDER, reference=reference)


# GSM 03.38 default alphabet (basic character set; 0x1B, the escape to the extension table,
# is left out) and the characters of its extension table, which take two septets each.
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

GSM7_SINGLE, GSM7_PART = 160, 153  # septets; a multipart message loses 7 to its header
UCS2_SINGLE, UCS2_PART = 70, 67  # UTF-16 code units


def sms_fit(text: str, max_segments: int | None = None) -> str:
    """``text`` cut at a word to fit ``max_segments`` (``SMS_MAX_SEGMENTS``) segments, with an
    ellipsis. The templates put free text (an operator's reason) last, so only that is ever cut;
    a test renders every template with the longest realistic values to hold them to it."""
    limit = settings.SMS_MAX_SEGMENTS if max_segments is None else max_segments
    if sms_segments(text) <= limit:
        return text
    ellipsis = "..." if is_gsm7(text) else "…"  # "…" would turn a GSM-7 text into UCS-2
    words = text.split(" ")
    while len(words) > 1:
        words.pop()
        candidate = " ".join(words).rstrip(" ,.;:") + ellipsis
        if sms_segments(candidate) <= limit:
            return candidate
    return text  # one unbroken word: sent as it is rather than emptied


def is_gsm7(text: str) -> bool:
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text)


def sms_segments(text: str) -> int:
    """How many SMS segments ``text`` takes.

    GSM-7 when every character is in the GSM 03.38 basic set or its extension table (an
    extension character counts 2): 160 septets in one message, 153 per part. Otherwise UCS-2:
    70 UTF-16 units in one message, 67 per part. Azerbaijani letters ə, ş, ğ, ı, ç and the
    dotted İ are not GSM-7 (ö, ü, Ö, Ü and Ç are), so most Azerbaijani texts are UCS-2.
    An escape pair or a surrogate pair is never split between parts.
    """
    if is_gsm7(text):
        units = [2 if ch in GSM7_EXTENSION else 1 for ch in text]
        single, part = GSM7_SINGLE, GSM7_PART
    else:
        units = [len(ch.encode("utf-16-le")) // 2 for ch in text]
        single, part = UCS2_SINGLE, UCS2_PART
    if sum(units) <= single:
        return 1
    parts, used = 1, 0
    for n in units:
        if used + n > part:
            parts, used = parts + 1, 0
        used += n
    return parts
