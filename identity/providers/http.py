"""Small JSON-over-HTTP helpers on urllib (standard library) for talking to the SSO."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from .base import ProviderUnavailable


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes

    def json(self) -> Any:
        try:
            return json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise ProviderUnavailable(f"answer is not JSON: {self.body[:200]!r}") from exc


def request(method: str, url: str, *, headers: dict[str, str] | None = None,
            form: dict[str, str] | None = None) -> Response:
    """One HTTP request. Error statuses come back as a Response (the caller decides what they
    mean); an unreachable server or a timeout raises ProviderUnavailable."""
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise ProviderUnavailable(f"refusing a non-HTTP URL {url!r}")
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    req = urllib.request.Request(url, data=data, method=method,  # noqa: S310 - scheme checked above
                                 headers={"Accept": "application/json", **(headers or {})})
    if data is not None:
        req.add_header("Content-Type", "application/x-www-form-urlencoded")
    try:
        with urllib.request.urlopen(req, timeout=settings.SSO_HTTP_TIMEOUT) as resp:  # noqa: S310
            return Response(resp.status, resp.read())
    except urllib.error.HTTPError as exc:
        return Response(exc.code, exc.read())
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise ProviderUnavailable(f"{method} {url}: {exc}") from exc


def get_json(url: str, *, headers: dict[str, str] | None = None) -> Any:
    """GET a JSON document that must be there (discovery, keys)."""
    resp = request("GET", url, headers=headers)
    if resp.status != 200:
        raise ProviderUnavailable(f"GET {url}: HTTP {resp.status}")
    return resp.json()
