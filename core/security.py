"""Request and response safeguards that apply to every page and API answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _


class RequestSizeLimitMiddleware:
    """Refuse a body larger than REQUEST_MAX_BYTES (413) from its Content-Length, before a byte
    of it is read; a body without a length (chunked) is cut at the limit by Django's
    DATA_UPLOAD_MAX_MEMORY_SIZE for forms and by the proxy's own limit (nginx)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = -1
        limit = settings.REQUEST_MAX_BYTES
        if length < 0 or length > limit:
            return refused_too_large(request, limit)
        return self.get_response(request)


def refused_too_large(request: HttpRequest, limit: int) -> HttpResponse:
    mb = limit // (1024 * 1024)
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse(
            {"type": "about:blank", "title": "Request body too large", "status": 413,
             "detail": f"The request body may be at most {limit} bytes."},
            status=413, content_type="application/problem+json")
    else:
        message = _("Göndərilən məlumatın həcmi %(mb)s MB-dan çox olmamalıdır.") % {"mb": mb}
        response = HttpResponse(f"<!doctype html><title>413</title><p>{message}</p>", status=413)
    response["Connection"] = "close"  # the unread body is not kept on the connection
    return response


class NoStoreMiddleware:
    """``Cache-Control: no-store`` (and private) on every dynamic answer that does not say
    otherwise: pages and API answers carry personal data that no browser or proxy cache may keep
    (ASVS 8.2.1). Static files are served before this middleware and keep their long cache."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if not response.has_header("Cache-Control"):
            add_never_cache_headers(response)
        return response


EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "application/pdf": ".pdf"}


def evidence_response(file: Any, *, content_type: str, name: str) -> FileResponse:
    """An uploaded file handed out to staff or its owner: as an attachment (never rendered as a
    page of this site), its type not sniffed, in a sandbox with no script even if a browser
    renders it (a PDF viewer, an image opened directly), and not cached."""
    filename = name + EXTENSIONS.get(content_type, ".bin")
    response = FileResponse(file, content_type=content_type, as_attachment=True, filename=filename)
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
