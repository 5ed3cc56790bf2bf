"""Logins in progress, kept in the citizen's session between the redirect to the provider and
the return to /auth/callback/. Each one is keyed by its ``state``, so a login started in one tab
is not spoiled by another one started in a second tab."""

from __future__ import annotations

import secrets
import time
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from .base import LoginRefused

SESSION_PENDING = "identity_sso_pending"
PENDING_MAX = 5
PENDING_TTL = 15 * 60  # seconds a citizen has to finish the login at the provider

UNKNOWN_STATE = _("Giriş sorğusu tanınmadı və ya onun vaxtı keçib. Girişi yenidən başladın.")


def pending_push(request: HttpRequest, data: dict[str, Any]) -> str:
    """Remember a login that is about to leave for the provider; returns its ``state``."""
    state = secrets.token_urlsafe(32)
    now = int(time.time())
    pending = {k: v for k, v in request.session.get(SESSION_PENDING, {}).items() if now - v.get("at", 0) < PENDING_TTL}
    pending[state] = {**data, "at": now}
    request.session[SESSION_PENDING] = dict(sorted(pending.items(), key=lambda kv: kv[1]["at"])[-PENDING_MAX:])
    return state


def pending_pop(request: HttpRequest, state: str | None) -> dict[str, Any]:
    """The login that ``state`` belongs to, removed so it cannot be completed twice."""
    pending = dict(request.session.get(SESSION_PENDING, {}))
    entry = pending.pop(state, None) if state else None
    request.session[SESSION_PENDING] = pending
    if entry is None:
        raise LoginRefused(UNKNOWN_STATE, status=400, detail="unknown state")
    if time.time() - entry.get("at", 0) > PENDING_TTL:
        raise LoginRefused(UNKNOWN_STATE, status=400, detail="state expired")
    return entry
