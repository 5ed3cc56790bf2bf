"""Signing keys of an identity provider, fetched from its JWKS URL and cached.

The key set is cached (Django's cache, so every web process shares it at scale) for
SSO_KEYS_CACHE_SECONDS. A token signed with a key the cached set does not have makes one fresh
fetch: that is how a key rotation at the provider reaches us without a restart. Fetches forced
that way happen at most once per ``refetch_interval`` seconds, so a stream of tokens with made-up
key ids cannot turn the portal into a flood of requests against the SSO.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import jwt
from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext_lazy as _

from .base import LoginRefused, ProviderUnavailable
from .http import get_json

# Only public-key algorithms: a shared-secret algorithm (HS256) with a public key as the
# "secret" is the classic JWT forgery.
ASYMMETRIC_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
_KEY_TYPE = {"RS": "RSA", "PS": "RSA", "ES": "EC", "Ed": "OKP"}

BAD_SIGNATURE = _("Giriş məlumatının imzası yoxlanılmadı: o, giriş xidmətindən gəlməyib və ya dəyişdirilib.")
EXPIRED = _("Giriş məlumatının vaxtı keçib. Yenidən daxil olun.")
WRONG_AUDIENCE = _("Giriş məlumatı bu xidmət üçün verilməyib.")
WRONG_ISSUER = _("Giriş məlumatı tanınmayan mənbədən gəlib.")
MALFORMED = _("Giriş xidmətinin cavabı oxunmadı.")


class RemoteKeySet:
    refetch_interval = 10  # seconds

    def __init__(self, url: str, *, headers: dict[str, str] | None = None) -> None:
        self.url = url
        self.headers = headers or {}
        digest = hashlib.sha256(url.encode()).hexdigest()[:32]
        self._cache_key = f"identity:jwks:{digest}"
        self._refetch_key = f"identity:jwks-refetch:{digest}"

    def _fetch(self) -> list[dict[str, Any]]:
        doc = get_json(self.url, headers=self.headers)
        keys = doc.get("keys") if isinstance(doc, dict) else None
        if keys is None and isinstance(doc, dict) and isinstance(doc.get("data"), dict):
            keys = doc["data"].get("keys")  # Asan Login wraps answers in {"status":..., "data":...}
        if not isinstance(keys, list):
            raise ProviderUnavailable(f"{self.url} is not a JWKS")
        cache.set(self._cache_key, keys, settings.SSO_KEYS_CACHE_SECONDS)
        return keys

    def keys(self, *, refresh: bool = False) -> list[dict[str, Any]] | None:
        if not refresh:
            cached = cache.get(self._cache_key)
            return cached if cached is not None else self._fetch()
        if not cache.add(self._refetch_key, 1, self.refetch_interval):
            return None
        return self._fetch()

    @staticmethod
    def _candidates(keys: Sequence[object], kid: str | None, alg: str) -> list[Any]:
        # The key set comes off the network: an entry need not be a JSON object.
        found = []
        for jwk in keys:
            if not isinstance(jwk, dict) or jwk.get("use", "sig") != "sig":
                continue
            if kid is not None and jwk.get("kid") != kid:
                continue
            if jwk.get("kty") != _KEY_TYPE.get(alg[:2]) or jwk.get("alg", alg) != alg:
                continue
            try:
                found.append(jwt.PyJWK(jwk, algorithm=alg).key)
            except jwt.PyJWTError:
                continue
        return found

    def decode(self, token: str, *, algorithms: list[str], audience: str | None, issuer: str | None,
               require: list[str]) -> dict[str, Any]:
        """The verified claims of ``token``; LoginRefused if the signature, issuer, audience or
        lifetime does not hold."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise LoginRefused(MALFORMED, detail=f"not a JWT: {exc}") from exc
        alg = header.get("alg")
        if alg not in algorithms or alg not in ASYMMETRIC_ALGORITHMS:
            raise LoginRefused(BAD_SIGNATURE, detail=f"algorithm {alg!r} not accepted")
        kid = header.get("kid")
        keys = self.keys()
        for attempt in ("cached", "refetched"):
            if attempt == "refetched":
                keys = self.keys(refresh=True)
                if keys is None:
                    break
            for key in self._candidates(keys or [], kid, alg):
                try:
                    return jwt.decode(
                        token, key, algorithms=[alg], audience=audience, issuer=issuer,
                        leeway=settings.SSO_CLOCK_LEEWAY,
                        options={"require": require, "verify_aud": audience is not None},
                    )
                except jwt.InvalidSignatureError:
                    continue
                except jwt.ExpiredSignatureError as exc:
                    raise LoginRefused(EXPIRED, detail=str(exc)) from exc
                except jwt.InvalidAudienceError as exc:
                    raise LoginRefused(WRONG_AUDIENCE, detail=f"{exc}; expected {audience!r}") from exc
                except jwt.InvalidIssuerError as exc:
                    raise LoginRefused(WRONG_ISSUER, detail=f"{exc}; expected {issuer!r}") from exc
                except jwt.PyJWTError as exc:
                    raise LoginRefused(MALFORMED, detail=f"token rejected: {exc}") from exc
            if kid is not None and self._candidates(keys or [], kid, alg):
                break  # the named key is known and the signature is wrong: forged, nothing to refetch
        raise LoginRefused(BAD_SIGNATURE, detail=f"no key verifies the token (kid={kid!r}, alg={alg})")
