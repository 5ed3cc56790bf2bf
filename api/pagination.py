"""Cursor pagination of every list the API answers, with RFC 8288 ``Link`` headers.

The body stays the list itself (an array); the way on is in the header, as GitHub's API does:

    Link: <https://…/api/v1/claims/?cursor=cD0yMDI2…>; rel="next", <…>; rel="prev"

A cursor is opaque (DRF's CursorPagination encoding). Lists read from the database page on an
indexed column (``claims``: the citizen's claims by ``registered_at``, index (citizen,
-registered_at)); the short lists the billing gateway answers (accounts of a FIN, invoices of
the last 12 months, meters of an invoice) page on their key in memory, the same way.
"""

from __future__ import annotations

import binascii
import re
from base64 import b64decode
from collections.abc import Callable, Sequence
from typing import Any, TypeVar
from urllib import parse

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers
from rest_framework.pagination import Cursor, CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response

T = TypeVar("T")

PAGE_SIZE = 20
CURSOR_RE = re.compile(r"^[A-Za-z0-9+/=]{1,200}$")
MAX_PAGE_SIZE = 100

CURSOR_PARAMETER = OpenApiParameter(
    "cursor", OpenApiTypes.STR, OpenApiParameter.QUERY, required=False, pattern=CURSOR_RE.pattern,
    description="Where the page starts: copy it from a `Link` header, never make one up (400 when it is not one).",
)
PAGE_SIZE_PARAMETER = OpenApiParameter(
    "page_size", OpenApiTypes.INT, OpenApiParameter.QUERY, required=False,
    description=f"Items per page, 1 to {MAX_PAGE_SIZE} (default {PAGE_SIZE}).",
)
# drf-spectacular has no minimum/maximum on OpenApiParameter: added to the schema by api.schema.
PAGE_SIZE_BOUNDS = {"minimum": 1, "maximum": MAX_PAGE_SIZE, "default": PAGE_SIZE}
LINK_HEADER = OpenApiParameter(
    "Link", OpenApiTypes.STR, OpenApiParameter.HEADER, response=[200],
    description='RFC 8288 links to the other pages: `<url>; rel="next"` and `<url>; rel="prev"`, comma-separated; '
                "absent on a list that fits one page.",
)
PAGINATION_PARAMETERS = [CURSOR_PARAMETER, PAGE_SIZE_PARAMETER, LINK_HEADER]


class LinkHeaderCursorPagination(CursorPagination):
    """DRF's cursor pagination, answered as a bare list with a ``Link`` header. A cursor or page
    size that is not valid is a 400 (``errors`` names the parameter), not silently ignored."""

    page_size = PAGE_SIZE
    max_page_size = MAX_PAGE_SIZE
    page_size_query_param = "page_size"
    cursor_query_param = "cursor"

    def __init__(self, ordering: str | tuple[str, ...] = "-id") -> None:
        self.ordering = ordering

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= self.max_page_size:
            raise serializers.ValidationError(
                {"page_size": [_("Səhifədəki say 1 ilə %(max)s arasında tam ədəd olmalıdır.") % {
                    "max": self.max_page_size}]})
        return int(raw)

    def decode_cursor(self, request: Request) -> Cursor | None:
        encoded = request.query_params.get(self.cursor_query_param)
        if encoded is None:
            return None
        try:
            if not CURSOR_RE.fullmatch(encoded):
                raise ValueError(encoded)
            tokens = parse.parse_qs(b64decode(encoded.encode("ascii"), validate=True).decode("ascii"),
                                    keep_blank_values=True, strict_parsing=True)
            if not set(tokens) <= {"o", "r", "p"} or any(len(v) != 1 for v in tokens.values()):
                raise ValueError(encoded)
            offset = int(tokens.get("o", ["0"])[0])
            if not 0 <= offset <= self.offset_cutoff:
                raise ValueError(offset)
            reverse = bool(int(tokens.get("r", ["0"])[0]))
            position = tokens.get("p", [None])[0]
        except (TypeError, ValueError, UnicodeError, binascii.Error):
            raise serializers.ValidationError({"cursor": [_("Səhifə göstəricisi (cursor) düzgün deyil.")]}) from None
        return Cursor(offset=offset, reverse=reverse, position=position)  # type: ignore[arg-type]  # see below

    def get_paginated_response(self, data: Any) -> Response:
        links = [f'<{url}>; rel="{rel}"' for url, rel in ((self.get_next_link(), "next"),
                                                          (self.get_previous_link(), "prev")) if url]
        return Response(data, headers={"Link": ", ".join(links)} if links else None)

    def page_of(self, queryset: QuerySet[Any], request: Request) -> list[Any]:
        return list(self.paginate_queryset(queryset, request) or [])


class ListCursorPagination(LinkHeaderCursorPagination):
    """The same cursors over a short list already in memory, ordered by a unique string key."""

    def page_list(self, items: Sequence[T], request: Request, *, key: Callable[[T], str],
                  descending: bool = False) -> list[T]:
        self.request = request
        self.page_size = self.get_page_size(request)
        self.base_url = request.build_absolute_uri()
        cursor = self.decode_cursor(request)
        # A cursor's position is the key of an item (a string; DRF's stubs say int).
        position: str | None = cursor.position if cursor is not None else None  # type: ignore[assignment]
        ordered = sorted(items, key=key, reverse=descending)

        def after(k: str, position: str) -> bool:
            return k < position if descending else k > position

        if cursor is None or position is None:
            page, self.has_previous, self.has_next = ordered[:self.page_size], False, len(ordered) > self.page_size
        elif not cursor.reverse:
            rest = [i for i in ordered if after(key(i), position)]
            page, self.has_previous, self.has_next = rest[:self.page_size], True, len(rest) > self.page_size
        else:
            before = [i for i in ordered if after(position, key(i))]
            page, self.has_previous, self.has_next = before[-self.page_size:], len(before) > self.page_size, True
        self._first = key(page[0]) if page else None
        self._last = key(page[-1]) if page else None
        return page

    def get_next_link(self) -> str | None:
        if not self.has_next or self._last is None:
            return None
        return self.encode_cursor(Cursor(offset=0, reverse=False, position=self._last))  # type: ignore[arg-type]

    def get_previous_link(self) -> str | None:
        if not self.has_previous or self._first is None:
            return None
        return self.encode_cursor(Cursor(offset=0, reverse=True, position=self._first))  # type: ignore[arg-type]
