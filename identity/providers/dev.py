"""The development identity provider: the page that offers the five login methods of the
manual and logs a citizen in by FIN. Refused (404) unless DEV_LOGIN_ENABLED is on."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from .base import Identity, IdentityProvider, LoginRefused
from .pending import UNKNOWN_STATE


class DevProvider(IdentityProvider):
    is_development = True

    def begin(self, request: HttpRequest) -> HttpResponse:
        from identity.views import dev_login_view

        return dev_login_view(request)

    def complete(self, request: HttpRequest) -> Identity:
        # The page logs in by itself; nothing comes back to /auth/callback/.
        raise LoginRefused(UNKNOWN_STATE, status=400, detail="the development provider has no callback")
