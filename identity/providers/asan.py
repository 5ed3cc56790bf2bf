"""The national SSO "Asan Login", as integrators' public code shows its protocol.

1. ``begin`` sends the browser to ``{ASAN_LOGIN_URL}/auth?origin=<our callback>``; the callback
   URL carries a ``state`` made for this login and kept in the session.
2. The SSO sends the browser back to the origin with the token in the query parameter ``token``
   (``/auth/callback/?state=...&token=<JWT>``).
3. ``complete`` verifies the JWT's signature with the keys at
   ``{ASAN_API_URL}/ssoauthz/api/v1/token/certs`` (a JWKS; cached, refetched once on an unknown
   key id), its expiry and, when configured, issuer and audience; then asks
   ``{ASAN_API_URL}/ssoauthz/api/v1/token/check`` (token in the ``Authorization`` header) whether
   the SSO still stands behind it: only an HTTP 200 is a yes.
4. The FIN is read from ``main.person.pin`` (ASAN_FIN_CLAIM), the name from ``name``, ``surname``
   and ``fatherName`` beside it, the login method from ASAN_METHOD_CLAIM.

Not built: the browser-side variant of integrators' single-page apps, where the page itself
fetches the token from ``/ssoauthz/api/v1/token`` with the SSO's cookies (needs CORS permission
from the SSO and JavaScript on our side). See docs/sso.md.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from . import http
from .base import (
    Identity,
    IdentityProvider,
    LoginRefused,
    ProviderUnavailable,
    claim_at,
    fin_from,
    method_from,
    text_claim,
)
from .keys import ASYMMETRIC_ALGORITHMS, MALFORMED, RemoteKeySet
from .pending import UNKNOWN_STATE, pending_pop, pending_push

NOT_CONFIRMED = _("“Asan Login” bu girişi təsdiq etmədi. Yenidən daxil olun.")
TOKEN_PARAM = "token"  # noqa: S105 - the name of a query parameter, not a secret


class AsanLoginProvider(IdentityProvider):
    def __init__(self) -> None:
        self.login_url = settings.ASAN_LOGIN_URL.rstrip("/")
        self.api_url = (settings.ASAN_API_URL or settings.ASAN_LOGIN_URL).rstrip("/")
        self.fin_claim = settings.ASAN_FIN_CLAIM
        self.method_claim = settings.ASAN_METHOD_CLAIM
        self.method_map = settings.ASAN_METHOD_MAP
        self.audience = settings.ASAN_AUDIENCE or None
        self.issuer = settings.ASAN_ISSUER or None
        self.auth_scheme = settings.ASAN_CHECK_AUTH_SCHEME

    def begin(self, request: HttpRequest) -> HttpResponse:
        if not self.login_url:
            raise ProviderUnavailable("ASAN_LOGIN_URL is not set")
        state = pending_push(request, {"provider": "asan"})
        origin = request.build_absolute_uri(reverse("identity:callback")) + "?" + urlencode({"state": state})
        return HttpResponseRedirect(f"{self.login_url}/auth?{urlencode({'origin': origin})}")

    def complete(self, request: HttpRequest) -> Identity:
        entry = pending_pop(request, request.GET.get("state"))
        if entry.get("provider") != "asan":
            raise LoginRefused(UNKNOWN_STATE, status=400, detail="state belongs to another provider")
        token = request.GET.get(TOKEN_PARAM, "").strip()
        if not token:
            raise LoginRefused(MALFORMED, status=400, detail="callback without token")
        authorization = f"{self.auth_scheme} {token}" if self.auth_scheme else token
        # The signature first: a forged token is refused without bothering the SSO with it.
        claims = RemoteKeySet(f"{self.api_url}/ssoauthz/api/v1/token/certs",
                              headers={"Authorization": authorization}).decode(
            token, algorithms=list(ASYMMETRIC_ALGORITHMS), audience=self.audience, issuer=self.issuer,
            require=["exp"],
        )
        self._check(authorization)
        fin = fin_from(claims, self.fin_claim)
        parent = self.fin_claim.rpartition(".")[0]
        person: dict[str, Any] = claim_at(claims, parent) if parent else claims
        if not isinstance(person, dict):
            person = {}
        return Identity(
            fin=fin,
            first_name=text_claim(person, "name") or text_claim(claims, "name"),
            last_name=text_claim(person, "surname") or text_claim(claims, "surname"),
            patronymic=text_claim(person, "fatherName") or text_claim(claims, "fatherName"),
            method=method_from(claims, self.method_claim, self.method_map),
        )

    def _check(self, authorization: str) -> None:
        resp = http.request("GET", f"{self.api_url}/ssoauthz/api/v1/token/check",
                            headers={"Authorization": authorization})
        if resp.status >= 500:
            raise ProviderUnavailable(f"token/check HTTP {resp.status}")
        # Integrators' code also reads a "status" field in the answer's body; honour it when present.
        try:
            body_status = resp.json().get("status")
        except (LoginRefused, AttributeError):
            body_status = None
        if resp.status != 200 or (isinstance(body_status, int) and body_status != 200):
            raise LoginRefused(NOT_CONFIRMED, detail=f"token/check answered HTTP {resp.status}, status {body_status!r}")
