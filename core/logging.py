"""Request ids and structured logs.

``RequestIdMiddleware`` takes the caller's ``X-Request-ID`` when it is sane (``[A-Za-z0-9._-]``,
1-64 characters) or makes one, keeps it for the request's logs and echoes it in the response.
``RequestContextFilter`` puts ``request_id``, ``role`` (citizen, staff, anonymous) and
``claim_number`` (the view's ``number`` argument) on every record; ``RedactingFilter`` masks
e-mail addresses, phone numbers and FINs in the message, so that none reaches the logs.
Names are never logged by the code; a message that carries one is a bug to fix where it is logged.
"""

from __future__ import annotations

import functools
import logging
import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from django.http import HttpRequest, HttpResponse
from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter as _BaseJsonFormatter

REQUEST_ID_HEADER = "X-Request-ID"
_SANE_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")

_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
_request: ContextVar[HttpRequest | None] = ContextVar("request", default=None)
_claim_number: ContextVar[str | None] = ContextVar("claim_number", default=None)


def current_request_id() -> str | None:
    return _request_id.get()


def carries_request_id(func: Callable[..., Any]) -> Callable[..., Any]:
    """For a task function, under ``@task``: the id of the request that enqueued it (passed by
    ``core.outbox.enqueue_task`` as ``request_id``) is the request id of the task's log lines,
    so one request's lines and its deliveries' lines are found together."""

    @functools.wraps(func)
    def wrapper(*args: Any, request_id: str | None = None, **kwargs: Any) -> Any:
        sane = request_id if isinstance(request_id, str) and _SANE_ID.fullmatch(request_id) else None
        token = _request_id.set(sane)
        try:
            return func(*args, **kwargs)
        finally:
            _request_id.reset(token)

    wrapper.carries_request_id = True  # type: ignore[attr-defined]  # read by enqueue_task
    return wrapper


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        given = request.headers.get(REQUEST_ID_HEADER, "")
        request_id = given if _SANE_ID.fullmatch(given) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]  # read by views and tasks that log
        tokens = (_request_id.set(request_id), _request.set(request), _claim_number.set(None))
        try:
            response = self.get_response(request)
        finally:
            _claim_number.reset(tokens[2])
            _request.reset(tokens[1])
            _request_id.reset(tokens[0])
        response[REQUEST_ID_HEADER] = request_id
        return response

    def process_view(self, request: HttpRequest, view_func: Any, view_args: Any, view_kwargs: dict[str, Any]) -> None:
        number = view_kwargs.get("number")
        if isinstance(number, str):
            _claim_number.set(number)
            request.claim_number = number  # type: ignore[attr-defined]  # for django.request's log line


def _role(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    # Only a user that the request has already loaded: a log line must not query the database.
    user = request.__dict__.get("_cached_user")
    if user is None or not getattr(user, "is_authenticated", False):
        return "anonymous" if user is not None else None
    if getattr(user, "fin", None) is not None:
        return "citizen"
    return "staff"


class RequestContextFilter(logging.Filter):
    """Adds request_id, role and claim_number (None outside a request) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        # django.request logs the response after the middleware has returned: it passes the
        # request along, which carries what the middleware learnt.
        request = getattr(record, "request", None)
        if not isinstance(request, HttpRequest):
            request = None
        if not hasattr(record, "request_id"):
            record.request_id = _request_id.get() or getattr(request, "request_id", None)
        if not hasattr(record, "role"):
            record.role = _role(_request.get() or request)
        if not hasattr(record, "claim_number"):
            record.claim_number = _claim_number.get() or getattr(request, "claim_number", None)
        return True


# An Azerbaijani FIN is 7 capital letters and digits (the service stores it in capitals); masked
# only when it mixes both, so that words, paths ("python3") and plain numbers survive. Claim
# numbers and ids are longer than 7 characters and left alone.
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"(?<![\w/])\+?(?:994|0)?[\s-]?\(?\d{2}\)?[\s-]?\d{3}[\s-]?\d{2}[\s-]?\d{2}(?![\w/])")
_FIN = re.compile(r"(?<![A-Za-z0-9])(?=[A-Z0-9]{0,6}\d)(?=[A-Z0-9]{0,6}[A-Z])[A-Z0-9]{7}(?![A-Za-z0-9])")


def redact(text: str) -> str:
    text = _EMAIL.sub("[e-mail]", text)
    text = _PHONE.sub("[phone]", text)
    return _FIN.sub("[fin]", text)


class RedactingFilter(logging.Filter):
    """Masks e-mail addresses, phone numbers and FINs in the rendered message (and traceback)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed call: the handler reports it, the request goes on
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


class JsonFormatter(_BaseJsonFormatter):
    """One JSON object a line: time, level, logger, message, request_id, role, claim_number."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("fmt", "%(levelname)s %(name)s %(message)s")
        kwargs.setdefault("timestamp", "time")  # ISO 8601, UTC
        kwargs.setdefault("rename_fields", {"levelname": "level", "name": "logger"})
        # The request object (django.request, django.server) is not logged: it is not JSON and may carry PII.
        kwargs.setdefault("reserved_attrs", [*RESERVED_ATTRS, "taskName", "request"])
        super().__init__(*args, **kwargs)

    def add_fields(self, log_record: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]) -> None:
        super().add_fields(log_record, record, message_dict)
        for key in ("request_id", "role", "claim_number"):
            log_record.setdefault(key, getattr(record, key, None))


def _sentry_before_send(event: Any, hint: Any) -> Any:
    request_id = _request_id.get()
    if request_id:
        event.setdefault("tags", {})["request_id"] = request_id
    return event


def sentry_init(*, dsn: str, environment: str, traces_sample_rate: float) -> None:
    """Error tracking; called from settings only when SENTRY_DSN is set. No personal data: no
    user, cookies or request bodies (forms carry FINs and phone numbers)."""
    import sentry_sdk
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        traces_sample_rate=traces_sample_rate,
        send_default_pii=False,
        max_request_body_size="never",
        integrations=[DjangoIntegration()],
        before_send=_sentry_before_send,
    )
