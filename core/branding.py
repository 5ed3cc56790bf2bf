"""The organisation's brand colour as a style sheet: a setting, so not in the static files, and
not inline either (the Content-Security-Policy allows no inline style)."""

from __future__ import annotations

import re

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

COLOUR = re.compile(r"#[0-9a-fA-F]{3,8}")
FALLBACK = "#0b5ea8"


@require_GET
def brand_css(request: HttpRequest) -> HttpResponse:
    colour = settings.ORGANISATION.get("brand_colour", "")
    if not COLOUR.fullmatch(colour):  # a setting, but never a way to inject CSS
        colour = FALLBACK
    response = HttpResponse(f":root {{ --brand: {colour}; }}\n", content_type="text/css; charset=utf-8")
    response["Cache-Control"] = "public, max-age=3600"
    return response
