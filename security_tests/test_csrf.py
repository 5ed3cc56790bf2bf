"""Every route of the URL resolver refuses a POST without a CSRF token from a logged-in
browser session (staff and citizen alike); the API, which takes no session, refuses it for
want of an API key. Routes are enumerated from the resolver, so a new one is covered too."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RoutePattern

pytestmark = pytest.mark.django_db

CONVERTER = re.compile(r"<(?:(\w+):)?(\w+)>")


def routes(patterns=None, prefix: str = "") -> Iterator[str]:
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        pattern = entry.pattern
        if isinstance(pattern, RoutePattern):
            part = str(pattern)
        else:  # a regular expression (the admin): literal ones only
            part = pattern.regex.pattern.lstrip("^").rstrip("$").replace("\\Z", "")
            if any(ch in part for ch in "()[]?*+\\"):
                continue
        if isinstance(entry, URLResolver):
            yield from routes(entry.url_patterns, prefix + part)
        elif isinstance(entry, URLPattern):
            yield prefix + part


def concrete(route: str, claim) -> str:
    def value(match: re.Match) -> str:
        kind, name = match.group(1) or "str", match.group(2)
        if kind == "int":
            return str(claim.evidence.first().pk if "evidence" in name else claim.pk)
        if name == "number":
            return claim.number
        if name == "action":
            return "take"
        return "x"
    return "/" + CONVERTER.sub(value, route)


def test_every_post_route_needs_a_csrf_token(operator, citizen, claim_factory):
    claim = claim_factory()
    before = (claim.status, claim.operator_id)
    paths = sorted({concrete(r, claim) for r in routes()})
    assert len(paths) > 40  # the whole resolver, not a sample
    staff, me = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    staff.force_login(operator)
    me.force_login(citizen)
    checked = []
    for path in paths:
        for client in (staff, me):
            response = client.post(path, {"text": "x", "language": "en", "next": "/"})
            assert response.status_code < 500, path
            if path.startswith("/api/"):
                # No session authentication in the API: without an API key nothing happens.
                assert response.status_code in (401, 404, 405), (path, response.status_code)
            else:
                assert response.status_code == 403, (path, response.status_code)
                assert b"CSRF" in response.content or response.status_code == 403
        checked.append(path)
    assert f"/office/claims/{claim.number}/take/" in checked
    claim.refresh_from_db()
    assert (claim.status, claim.operator_id) == before  # nothing happened

    # The same POST with the page's token goes through: the refusals above were the token's.
    staff.get(f"/office/claims/{claim.number}/")
    token = staff.cookies["csrftoken"].value
    taken = staff.post(f"/office/claims/{claim.number}/take/", {"csrfmiddlewaretoken": token})
    assert taken.status_code == 302
    claim.refresh_from_db()
    assert claim.operator_id == operator.pk and (claim.status, claim.operator_id) != before
