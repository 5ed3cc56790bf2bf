"""Steps of a login as the browser takes them."""

from __future__ import annotations

import urllib.parse

from django.test import Client
from django.urls import reverse


def local_path(url: str) -> str:
    """The portal-relative part of a URL the provider sends the browser back to."""
    parts = urllib.parse.urlsplit(url)
    assert parts.netloc in ("", "testserver"), url
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def begin_login(client: Client, nxt: str = "") -> str:
    """GET /auth/login/ and return the provider URL it redirects to."""
    r = client.get(reverse("identity:login"), {"next": nxt} if nxt else {})
    assert r.status_code == 302, r.content[:500]
    return r["Location"]


def query_of(url: str) -> dict[str, str]:
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
