"""Billing down is never a server error: a page that reads billing while it does not answer
gets a clear, translated "try again in a few minutes" (503, ``Retry-After``) instead of a 500.
What the citizen entered is kept in the session's draft (portal.drafts), so trying again goes
on from where they were. The API answers the same as problem details (api.problems)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme

from .gateway import BillingUnavailable

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 120


class BillingUnavailableMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, BillingUnavailable):
            return None
        logger.warning("billing unavailable on %s %s: %s", request.method, request.path, exception)
        # A GET is tried again as it was; after a POST the page it was posted from is shown again.
        retry_url = request.get_full_path() if request.method == "GET" else request.META.get("HTTP_REFERER", "")
        if not url_has_allowed_host_and_scheme(retry_url, allowed_hosts={request.get_host()}):
            retry_url = request.path
        user = getattr(request, "user", None)
        response = render(request, "billing/unavailable.html", {
            "retry_url": retry_url,
            "staff": bool(user is not None and user.is_authenticated and not getattr(user, "is_citizen", True)),
        }, status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
