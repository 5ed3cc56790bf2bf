"""Error bodies as RFC 9457 problem details (``application/problem+json``).

Every error the API answers has ``type`` (a URI naming the kind of problem, documented in
docs/api.md), ``title`` (the same for every occurrence of the type), ``status``, ``detail``
(this occurrence, for a person) and ``instance`` (the request's path). Validation problems add
``errors``: ``[{"field": ..., "message": ...}]``; some types add members of their own
(``claim_number`` for an open claim on the invoice).
"""

from __future__ import annotations

import logging
import math
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.signals import got_request_exception
from django.http import Http404
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from billing.gateway import BillingUnavailable
from core.errors import ServiceError
from core.middleware import OUTAGE_ERRORS, RETRY_AFTER_SECONDS

logger = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"

# slug -> title; docs/api.md lists them with what the client should do.
TITLES: dict[str, str] = {
    "validation-error": "The request has invalid fields.",
    "malformed-request": "The request could not be read.",
    "not-authenticated": "Authentication is required.",
    "invalid-credentials": "The credentials are not valid.",
    "forbidden": "The channel may not do this.",
    "not-found": "Not found.",
    "method-not-allowed": "Method not allowed.",
    "not-acceptable": "Cannot answer in the requested format.",
    "unsupported-media-type": "Unsupported media type.",
    "rate-limited": "Too many requests.",
    "open-claim-exists": "The invoice already has an open claim.",
    "invalid-state": "The claim's status does not allow this.",
    "idempotency-key-reused": "The Idempotency-Key was used for a different request.",
    "claim-refused": "The claim cannot be accepted.",
    "server-error": "Internal error.",
    "billing-unavailable": "The billing system does not answer.",
    "service-unavailable": "The service is temporarily unavailable.",
}


# The titles as the caller reads them, in the language of Accept-Language (api.views activates it).
LOCALISED_TITLES: dict[str, Any] = {
    "validation-error": _("Sorğuda düzgün doldurulmamış sahələr var."),
    "malformed-request": _("Sorğunu oxumaq mümkün olmadı."),
    "not-authenticated": _("Kimliyin təsdiqi tələb olunur."),
    "invalid-credentials": _("Kimlik məlumatları etibarlı deyil."),
    "forbidden": _("Kanala bu əməliyyat icazəli deyil."),
    "not-found": _("Tapılmadı."),
    "method-not-allowed": _("Bu metoda icazə verilmir."),
    "not-acceptable": _("Cavabı istənilən formatda vermək mümkün deyil."),
    "unsupported-media-type": _("Məzmunun bu növü qəbul edilmir."),
    "rate-limited": _("Sorğular həddindən çoxdur."),
    "open-claim-exists": _("Bu faktura üzrə açıq müraciət artıq var."),
    "invalid-state": _("Müraciətin statusu buna imkan vermir."),
    "idempotency-key-reused": _("Bu Idempotency-Key başqa sorğu üçün istifadə olunub."),
    "claim-refused": _("Müraciət qəbul edilə bilməz."),
    "server-error": _("Daxili xəta."),
    "billing-unavailable": _("Billinq sistemi cavab vermir."),
    "service-unavailable": _("Xidmət müvəqqəti əlçatan deyil"),
}


def problem_title(slug: str) -> str:
    title = LOCALISED_TITLES.get(slug)
    return str(title) if title is not None else TITLES.get(slug, slug)


def problem_type(slug: str) -> str:
    return f"{settings.API_PROBLEM_TYPE_BASE}{slug}"


class Problem(exceptions.APIException):
    """An API error of a documented problem type, with optional extension members."""

    wait: float | None = None  # seconds for the Retry-After header (503: billing or a store restarting)

    def __init__(self, *, status_code: int, slug: str, detail: str, **extra: Any):
        super().__init__(detail=detail)
        self.status_code = status_code
        self.slug = slug
        self.extra = extra


# A service's refusal (core.errors.ServiceError) by its code: status and problem type.
_STATE_CODES = {"illegal_move", "invalid_state"}


def problem_for(error: ServiceError) -> exceptions.APIException:
    """The one mapping of a service's refusal to problem details."""
    errors = getattr(error, "errors", None)
    if errors:  # input that does not fit billing's data, by field
        return exceptions.ValidationError({name: [message] for name, message in errors.items()})
    if error.code == "duplicate_open_claim":
        return Problem(status_code=409, slug="open-claim-exists", detail=error.message,
                       claim_number=getattr(error, "number", ""))
    if error.code in _STATE_CODES:
        move = getattr(error, "move", None)
        state = getattr(error, "status", None)
        detail = (gettext("“%(status)s” statusunda olan müraciət “%(target)s” statusuna keçə bilməz.") % {
                      "status": state, "target": move.target or state} if move is not None else error.message)
        return Problem(status_code=409, slug="invalid-state", detail=detail)
    if error.forbidden:
        return exceptions.PermissionDenied(error.message)
    return Problem(status_code=422, slug="claim-refused", detail=error.message)


def _field_errors(detail: Any, prefix: str | None = None) -> list[dict[str, Any]]:
    """DRF's nested error structure as a flat list of {field, message} (field None: the
    request as a whole)."""
    if isinstance(detail, dict):
        out: list[dict[str, Any]] = []
        for name, value in detail.items():
            if name in ("non_field_errors", "__all__"):
                field = prefix
            else:
                field = f"{prefix}.{name}" if prefix else str(name)
            out.extend(_field_errors(value, field))
        return out
    if isinstance(detail, list):
        out = []
        for i, value in enumerate(detail):
            if isinstance(value, (dict, list)):
                out.extend(_field_errors(value, f"{prefix}[{i}]" if prefix else f"[{i}]"))
            else:
                out.append({"field": prefix, "message": str(value)})
        return out
    return [{"field": prefix, "message": str(detail)}]


def _slug_for(exc: exceptions.APIException, code: int) -> str:
    if isinstance(exc, Problem):
        return exc.slug
    if isinstance(exc, exceptions.ValidationError):
        return "validation-error"
    if isinstance(exc, exceptions.ParseError):
        return "malformed-request"
    if isinstance(exc, exceptions.NotAuthenticated):
        return "not-authenticated" if code == 401 else "forbidden"
    if isinstance(exc, exceptions.AuthenticationFailed):
        return "invalid-credentials" if code == 401 else "forbidden"
    return {
        403: "forbidden", 404: "not-found", 405: "method-not-allowed", 406: "not-acceptable",
        415: "unsupported-media-type", 429: "rate-limited",
    }.get(code, "server-error" if code >= 500 else "malformed-request")


def problem_response(*, request: Any, status_code: int, slug: str, detail: str,
                     headers: dict[str, str] | None = None, **extra: Any) -> Response:
    body: dict[str, Any] = {
        "type": problem_type(slug),
        "title": problem_title(slug),
        "status": status_code,
        "detail": detail,
        "instance": request.get_full_path() if request is not None else "",
    }
    body.update(extra)
    return Response(body, status=status_code, headers=headers, content_type=PROBLEM_CONTENT_TYPE)


def problem_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's EXCEPTION_HANDLER: every error as problem details. An unexpected exception is
    logged (and signalled as Django does, so error reporting sees it) and answered 500."""
    request = context.get("request")
    if isinstance(exc, ServiceError):
        exc = problem_for(exc)
    if isinstance(exc, BillingUnavailable):  # billing down or slow: the channel tries again later
        exc = Problem(status_code=503, slug="billing-unavailable",
                      detail=gettext("Billinq sistemi cavab vermir; bir neçə dəqiqədən sonra yenidən cəhd edin."))
        exc.wait = 120
    if isinstance(exc, OUTAGE_ERRORS):  # the database or Redis restarting: the channel repeats the call
        logger.error("API: service unavailable (%s) on %s", type(exc).__name__,
                     request.get_full_path() if request else "?")
        set_rollback()
        exc = Problem(status_code=503, slug="service-unavailable", detail=gettext(
            "Sistemin bir hissəsi bir neçə dəqiqəlik bərpa olunur. Bir azdan yenidən cəhd edin."))
        exc.wait = RETRY_AFTER_SECONDS
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if not isinstance(exc, exceptions.APIException):
        logger.exception("API: unexpected error on %s", request.get_full_path() if request else "?")
        if request is not None:
            got_request_exception.send(sender=None, request=request._request)
        set_rollback()
        return problem_response(request=request, status_code=500, slug="server-error",
                                detail=gettext("Server cavab verə bilmədi; xəta qeydə alındı."))

    code = exc.status_code
    headers: dict[str, str] = {}
    auth_header = getattr(exc, "auth_header", None)
    if auth_header:
        headers["WWW-Authenticate"] = auth_header
    wait = getattr(exc, "wait", None)
    if wait is not None:
        headers["Retry-After"] = str(max(1, math.ceil(wait)))
    slug = _slug_for(exc, code)
    extra: dict[str, Any] = dict(getattr(exc, "extra", {}) or {})
    if isinstance(exc, exceptions.ValidationError):
        errors = _field_errors(exc.detail)
        extra["errors"] = errors
        detail = errors[0]["message"] if len(errors) == 1 else f"{len(errors)} fields are not valid."
        code = status.HTTP_400_BAD_REQUEST
    elif isinstance(exc, exceptions.Throttled):
        detail = gettext("Sorğular həddindən çoxdur; %(seconds)s saniyədən sonra yenidən cəhd edin.") % {
            "seconds": headers.get("Retry-After", "60")}
    else:
        detail = str(exc.detail) if not isinstance(exc.detail, (list, dict)) else str(exc.detail)
    set_rollback()
    return problem_response(request=request, status_code=code, slug=slug, detail=detail, headers=headers, **extra)
