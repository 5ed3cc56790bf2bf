"""Standard OpenID Connect relying party: authorization code flow with PKCE (S256).

Discovery ({OIDC_ISSUER}/.well-known/openid-configuration) and the provider's keys are cached;
``state``, ``nonce`` and the PKCE verifier are made per login and kept in the session; the ID
token's signature, issuer, audience, lifetime and nonce are checked before anyone is logged in.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import secrets
from typing import Any
from urllib.parse import quote, urlencode

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import get_language
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
from .http import get_json
from .keys import ASYMMETRIC_ALGORITHMS, MALFORMED, WRONG_AUDIENCE, RemoteKeySet
from .pending import UNKNOWN_STATE, pending_pop, pending_push

NOT_CONFIRMED = _("Giriş xidməti girişi təsdiq etmədi. Yenidən cəhd edin.")
CANCELLED = _("Giriş ləğv edildi və ya giriş xidməti onu təsdiq etmədi.")
WRONG_NONCE = _("Giriş məlumatı bu giriş sorğusuna aid deyil.")
TOKEN_AUTH_METHODS = ("client_secret_basic", "client_secret_post", "none")


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _with_query(url: str, params: dict[str, str]) -> str:
    return f"{url}{'&' if '?' in url else '?'}{urlencode(params)}"


class OidcProvider(IdentityProvider):
    def __init__(self) -> None:
        self.issuer = settings.OIDC_ISSUER.rstrip("/")
        self.client_id = settings.OIDC_CLIENT_ID
        self.client_secret = settings.OIDC_CLIENT_SECRET
        self.scopes = settings.OIDC_SCOPES
        self.token_auth_method = settings.OIDC_TOKEN_AUTH_METHOD
        self.fin_claim = settings.OIDC_FIN_CLAIM
        self.method_claim = settings.OIDC_METHOD_CLAIM
        self.method_map = settings.OIDC_METHOD_MAP

    # -- provider metadata -------------------------------------------------------------------

    def metadata(self) -> dict[str, Any]:
        if not self.issuer or not self.client_id:
            raise ProviderUnavailable("OIDC_ISSUER and OIDC_CLIENT_ID must be set")
        key = "identity:oidc-discovery:" + hashlib.sha256(self.issuer.encode()).hexdigest()[:32]
        meta = cache.get(key)
        if meta is None:
            meta = get_json(f"{self.issuer}/.well-known/openid-configuration")
            if not isinstance(meta, dict) or str(meta.get("issuer", "")).rstrip("/") != self.issuer:
                raise ProviderUnavailable(f"discovery document of {self.issuer} names another issuer")
            missing = [k for k in ("authorization_endpoint", "token_endpoint", "jwks_uri") if not meta.get(k)]
            if missing:
                raise ProviderUnavailable(f"discovery document of {self.issuer} lacks {missing}")
            cache.set(key, meta, settings.SSO_KEYS_CACHE_SECONDS)
        return meta

    # -- the flow ----------------------------------------------------------------------------

    def begin(self, request: HttpRequest) -> HttpResponse:
        meta = self.metadata()
        verifier = secrets.token_urlsafe(64)  # 86 characters, within RFC 7636's 43..128
        nonce = secrets.token_urlsafe(32)
        redirect_uri = request.build_absolute_uri(reverse("identity:callback"))
        state = pending_push(request, {"provider": "oidc", "nonce": nonce, "verifier": verifier,
                                       "redirect_uri": redirect_uri})
        return HttpResponseRedirect(_with_query(meta["authorization_endpoint"], {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": redirect_uri,
            "scope": self.scopes,
            "state": state,
            "nonce": nonce,
            "code_challenge": _b64url(hashlib.sha256(verifier.encode("ascii")).digest()),
            "code_challenge_method": "S256",
            "ui_locales": get_language() or settings.LANGUAGE_CODE,
        }))

    def complete(self, request: HttpRequest) -> Identity:
        params = request.GET
        if params.get("error"):
            # An error answer logs nobody in, so it needs no matching state to be shown (some
            # providers leave state out of it); a matching login in progress is discarded.
            with contextlib.suppress(LoginRefused):
                pending_pop(request, params.get("state"))
            raise LoginRefused(CANCELLED,
                               detail=f"provider error {params['error']}: {params.get('error_description', '')}")
        entry = pending_pop(request, params.get("state"))
        if entry.get("provider") != "oidc":
            raise LoginRefused(UNKNOWN_STATE, status=400, detail="state belongs to another provider")
        code = params.get("code")
        if not code:
            raise LoginRefused(MALFORMED, status=400, detail="callback without code")
        meta = self.metadata()
        tokens = self._exchange(meta, code=code, entry=entry)
        id_token = tokens.get("id_token")
        if not isinstance(id_token, str) or not id_token:
            raise LoginRefused(NOT_CONFIRMED, detail="token endpoint answered without id_token")
        claims = self.verify_id_token(meta, id_token, nonce=entry["nonce"])
        fin_missing = claim_at(claims, self.fin_claim) in (None, "")
        if fin_missing and meta.get("userinfo_endpoint") and tokens.get("access_token"):
            claims = {**self._userinfo(meta, tokens["access_token"], sub=claims["sub"]), **claims}
        return Identity(
            fin=fin_from(claims, self.fin_claim),
            first_name=text_claim(claims, "given_name"),
            last_name=text_claim(claims, "family_name"),
            patronymic=text_claim(claims, "middle_name"),
            method=method_from(claims, self.method_claim, self.method_map),
            id_token=id_token,
        )

    def _exchange(self, meta: dict[str, Any], *, code: str, entry: dict[str, Any]) -> dict[str, Any]:
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": entry["redirect_uri"],
                "code_verifier": entry["verifier"]}
        headers: dict[str, str] = {}
        if self.token_auth_method == "client_secret_basic":  # noqa: S105 - a method name, not a secret
            pair = f"{quote(self.client_id, safe='')}:{quote(self.client_secret, safe='')}"
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode("ascii")
        else:
            form["client_id"] = self.client_id
            if self.token_auth_method == "client_secret_post":  # noqa: S105 - a method name, not a secret
                form["client_secret"] = self.client_secret
        resp = http.request("POST", meta["token_endpoint"], form=form, headers=headers)
        if 400 <= resp.status < 500:
            raise LoginRefused(NOT_CONFIRMED, detail=f"token endpoint HTTP {resp.status}: {resp.body[:300]!r}")
        if resp.status != 200:
            raise ProviderUnavailable(f"token endpoint HTTP {resp.status}")
        data = resp.json()
        if not isinstance(data, dict):
            raise ProviderUnavailable("token endpoint answered with no object")
        return data

    def verify_id_token(self, meta: dict[str, Any], id_token: str, *, nonce: str) -> dict[str, Any]:
        """The ID token's claims after checking signature (provider's JWKS), issuer, audience,
        expiry (with SSO_CLOCK_LEEWAY) and nonce; LoginRefused otherwise."""
        algorithms = [a for a in meta.get("id_token_signing_alg_values_supported") or ["RS256"]
                      if a in ASYMMETRIC_ALGORITHMS]
        claims = RemoteKeySet(meta["jwks_uri"]).decode(
            id_token, algorithms=algorithms, audience=self.client_id, issuer=meta["issuer"],
            require=["iss", "sub", "aud", "exp", "iat"],
        )
        aud = claims["aud"]
        if (isinstance(aud, list) and len(aud) > 1 or "azp" in claims) and claims.get("azp") != self.client_id:
            raise LoginRefused(WRONG_AUDIENCE, detail=f"azp {claims.get('azp')!r} is not {self.client_id!r}")
        if not hmac.compare_digest(str(claims.get("nonce", "")).encode(), nonce.encode()):
            raise LoginRefused(WRONG_NONCE, detail="nonce does not match")
        return claims

    def _userinfo(self, meta: dict[str, Any], access_token: str, *, sub: str) -> dict[str, Any]:
        resp = http.request("GET", meta["userinfo_endpoint"], headers={"Authorization": f"Bearer {access_token}"})
        info = resp.json() if resp.status == 200 else None
        # OpenID Connect Core 5.3.2: userinfo of another subject must not be used.
        if not isinstance(info, dict) or info.get("sub") != sub:
            return {}
        return info

    def logout_url(self, request: HttpRequest, *, id_token: str) -> str | None:
        try:
            end = self.metadata().get("end_session_endpoint")
        except LoginRefused:
            return None
        if not end:
            return None
        params = {"client_id": self.client_id,
                  "post_logout_redirect_uri": request.build_absolute_uri(reverse("portal:home"))}
        if id_token:
            params["id_token_hint"] = id_token
        return _with_query(end, params)
