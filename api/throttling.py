"""Rate limits: fixed one-minute windows counted in the Django cache (local memory on a laptop,
Redis at scale), per channel and per citizen. A refusal is a 429 problem with Retry-After."""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from .auth import ApiPrincipal
from .services import rate_window_hit


class ChannelRateThrottle(BaseThrottle):
    """All calls of a channel: ApiChannel.rate_per_minute or API_RATE_PER_CHANNEL_PER_MINUTE."""

    def __init__(self) -> None:
        self._wait: int | None = None

    def allow_request(self, request: Request, view: Any) -> bool:
        principal = request.auth
        if not isinstance(principal, ApiPrincipal):
            return True
        self._wait = rate_window_hit(f"api-rate:channel:{principal.channel.pk}", limit=principal.channel.channel_rate)
        return self._wait is None

    def wait(self) -> float | None:
        return self._wait


class CitizenRateThrottle(BaseThrottle):
    """All calls for one citizen, whichever channel makes them: the channel's
    citizen_rate_per_minute or API_RATE_PER_CITIZEN_PER_MINUTE."""

    def __init__(self) -> None:
        self._wait: int | None = None

    def allow_request(self, request: Request, view: Any) -> bool:
        principal = request.auth
        if not isinstance(principal, ApiPrincipal) or principal.citizen is None:
            return True
        self._wait = rate_window_hit(f"api-rate:citizen:{principal.citizen.pk}", limit=principal.channel.citizen_rate)
        return self._wait is None

    def wait(self) -> float | None:
        return self._wait
