"""Who is calling: the channel (``Authorization: ApiKey <prefix>.<secret>``) and the citizen it
acts for (an assertion the channel signs, ``X-Citizen-Token``).

Citizen assertions are pluggable: ``settings.API_CITIZEN_ASSERTION_BACKENDS`` lists classes, each
reading its own header. The channel-signed JWT (``ChannelJwtAssertion``) is the default; a backend
that accepts a national-SSO ("Asan Login") token instead implements the same two members
(``header`` and ``verify``) and is added to that list -- nothing else changes.
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Protocol

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from rest_framework import authentication, exceptions, permissions
from rest_framework.request import Request

from identity.models import LoginMethod
from identity.names import name_problem

if TYPE_CHECKING:
    from identity.models import User

    from .models import ApiChannel, ApiKey

FIN_RE = re.compile(r"^[0-9A-HJ-NP-Z]{7}$")
MAX_TOKEN_CHARS = 8192
MAX_JTI_CHARS = 128


class PublicKeyInvalid(ValueError):
    pass


class AssertionInvalid(Exception):
    """The citizen assertion is missing a claim, expired, wrongly signed, ... (401)."""


@dataclass(frozen=True)
class CitizenAssertion:
    """What a verified assertion says about the citizen."""

    fin: str
    login_method: str = LoginMethod.ID_NUMBER
    first_name: str = ""
    last_name: str = ""
    source: str = "channel_jwt"


class CitizenAssertionBackend(Protocol):
    header: str  # the HTTP header carrying the assertion, e.g. "X-Citizen-Token"

    def verify(self, *, token: str, channel: ApiChannel) -> CitizenAssertion:
        """The assertion's citizen, or AssertionInvalid."""
        ...


@lru_cache(maxsize=64)
def public_key_load(pem: str) -> tuple[Any, str]:
    """The key object of a channel's PEM and the one JWT algorithm it may sign with."""
    try:
        key = serialization.load_pem_public_key(pem.strip().encode())
    except (ValueError, TypeError) as e:
        raise PublicKeyInvalid("Not a PEM public key.") from e
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size < 2048:
            raise PublicKeyInvalid("RSA keys must have at least 2048 bits.")
        return key, "RS256"
    if isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name == "secp256r1":
        return key, "ES256"
    raise PublicKeyInvalid("Only RSA (RS256) and EC P-256 (ES256) public keys are accepted.")


class ChannelJwtAssertion:
    """A short-lived JWT signed by the channel's registered key.

    Required claims: ``iss`` (the channel's code), ``aud`` (settings.API_AUDIENCE), ``iat``,
    ``exp`` (at most API_CITIZEN_TOKEN_MAX_AGE_SECONDS after ``iat``), and the FIN in ``fin`` or
    ``sub``, and a ``jti`` unique to the token: a token is accepted once (its jti is kept in the
    shared cache until the token expires; API_CITIZEN_TOKEN_REQUIRE_JTI). Optional:
    ``login_method`` (one of identity.models.LoginMethod, default id_number), ``given_name``,
    ``family_name`` (no control characters, no markup). The algorithm is the one of the
    registered key, never the token's choice.
    """

    header = "X-Citizen-Token"

    def verify(self, *, token: str, channel: ApiChannel) -> CitizenAssertion:
        if len(token) > MAX_TOKEN_CHARS:
            raise AssertionInvalid(_("Vətəndaşın tokeni çox uzundur."))
        try:
            key, algorithm = public_key_load(channel.citizen_jwt_public_key)
        except PublicKeyInvalid as e:
            raise AssertionInvalid(_("Kanalın vətəndaş tokenləri üçün qeydiyyatda etibarlı açarı yoxdur.")) from e
        leeway = settings.API_CITIZEN_TOKEN_LEEWAY_SECONDS
        try:
            claims = jwt.decode(
                token, key=key, algorithms=[algorithm], audience=settings.API_AUDIENCE, issuer=channel.code,
                leeway=leeway, options={"require": ["exp", "iat", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError as e:
            raise AssertionInvalid(_("Vətəndaşın tokeninin müddəti bitib.")) from e
        except jwt.InvalidAudienceError as e:
            raise AssertionInvalid(_("Vətəndaşın tokeni başqa auditoriya üçündür.")) from e
        except jwt.InvalidIssuerError as e:
            raise AssertionInvalid(_("Vətəndaşın tokeni bu kanal tərəfindən verilməyib.")) from e
        except jwt.InvalidSignatureError as e:
            raise AssertionInvalid(_("Vətəndaşın tokeninin imzası təsdiqlənmir.")) from e
        except jwt.PyJWTError as e:
            raise AssertionInvalid(_("Vətəndaşın tokeni etibarlı deyil: %(error)s") % {"error": e}) from e
        try:
            iat, exp = int(claims["iat"]), int(claims["exp"])
        except (TypeError, ValueError) as e:
            raise AssertionInvalid(_("iat və exp rəqəm olmalıdır.")) from e
        if exp - iat > settings.API_CITIZEN_TOKEN_MAX_AGE_SECONDS:
            raise AssertionInvalid(_("Vətəndaşın tokeni ən çoxu %(seconds)s saniyə "
                                     "etibarlı ola bilər.") % {"seconds": settings.API_CITIZEN_TOKEN_MAX_AGE_SECONDS})
        if iat > time.time() + leeway:
            raise AssertionInvalid(_("Vətəndaşın tokeni gələcək tarixlə verilib."))
        fin_claim, sub = claims.get("fin"), claims.get("sub")
        if fin_claim is not None and sub is not None and str(fin_claim).upper() != str(sub).upper():
            raise AssertionInvalid(_("fin və sub fərqli vətəndaşları göstərir."))
        fin = str(fin_claim if fin_claim is not None else sub or "").strip().upper()
        if not FIN_RE.fullmatch(fin):
            raise AssertionInvalid(_("Vətəndaşın tokenində etibarlı FİN (fin və ya sub) yoxdur."))
        method = claims.get("login_method") or LoginMethod.ID_NUMBER
        if method not in LoginMethod.values:
            raise AssertionInvalid(_("Naməlum login_method; bunlardan biri olmalıdır: %(values)s.") % {
                "values": ", ".join(LoginMethod.values)})
        names = {}
        for claim in ("given_name", "family_name"):
            value = claims.get(claim)
            if value is not None and not isinstance(value, str):
                raise AssertionInvalid(f"{claim} must be a string.")
            names[claim] = (value or "").strip()
            problem = name_problem(names[claim])
            if problem:
                raise AssertionInvalid(f"{claim} {problem}.")
        self._accept_once(claims, channel=channel, exp=exp)
        return CitizenAssertion(fin=fin, login_method=method, first_name=names["given_name"],
                                last_name=names["family_name"])

    @staticmethod
    def _accept_once(claims: dict[str, Any], *, channel: ApiChannel, exp: int) -> None:
        """Refuse a token seen before (a replay): its jti is added to the shared cache, atomically
        (Redis SET NX in production), for as long as the token could still be accepted."""
        jti = claims.get("jti")
        if jti is None:
            if settings.API_CITIZEN_TOKEN_REQUIRE_JTI:
                raise AssertionInvalid(_("Vətəndaşın tokenində jti yoxdur."))
            return
        if not isinstance(jti, str) or not 0 < len(jti) <= MAX_JTI_CHARS:
            raise AssertionInvalid(_("jti 1-%(max)s simvolluq sətir olmalıdır.") % {"max": MAX_JTI_CHARS})
        key = "api:jti:" + hashlib.sha256(f"{channel.code}\0{jti}".encode()).hexdigest()
        ttl = max(1, exp + settings.API_CITIZEN_TOKEN_LEEWAY_SECONDS - int(time.time()) + 1)
        if not cache.add(key, 1, timeout=ttl):
            raise AssertionInvalid(_("Vətəndaşın tokeni artıq istifadə olunub; hər sorğu üçün yenisini "
                                     "imzalayın."))


@lru_cache(maxsize=8)
def _assertion_backends(paths: tuple[str, ...]) -> tuple[CitizenAssertionBackend, ...]:
    return tuple(import_string(p)() for p in paths)


def assertion_backends() -> tuple[CitizenAssertionBackend, ...]:
    return _assertion_backends(tuple(settings.API_CITIZEN_ASSERTION_BACKENDS))


@dataclass(frozen=True)
class ApiPrincipal:
    """``request.auth`` of an API call: the channel, its key, and the citizen it acts for."""

    channel: ApiChannel
    key: ApiKey
    citizen: User | None = None
    login_method: str = LoginMethod.ID_NUMBER


class ChannelAuthentication(authentication.BaseAuthentication):
    """``Authorization: ApiKey <prefix>.<secret>`` plus, optionally, a citizen assertion."""

    keyword = "ApiKey"

    def authenticate(self, request: Request) -> tuple[Any, ApiPrincipal] | None:
        from . import services

        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None
        scheme, _sep, credential = header.partition(" ")
        if scheme.lower() != self.keyword.lower():
            raise exceptions.AuthenticationFailed(_("Bu başlığı göndərin: 'Authorization: ApiKey <prefix>.<secret>'."))
        key = services.api_key_check(raw=credential.strip())
        if key is None:
            raise exceptions.AuthenticationFailed(_("API açarı naməlumdur və ya ləğv edilib."))
        # Remembered on the Django request so that even a refused call is audited to its channel.
        request._request.api_channel = key.channel  # type: ignore[attr-defined]
        request._request.api_key = key  # type: ignore[attr-defined]
        if not key.channel.active:
            raise exceptions.PermissionDenied(_("Kanal söndürülüb."))

        for backend in assertion_backends():
            token = request.headers.get(backend.header)
            if not token:
                continue
            try:
                assertion = backend.verify(token=token.strip(), channel=key.channel)
            except AssertionInvalid as e:
                raise exceptions.AuthenticationFailed(f"{backend.header}: {e}") from e
            citizen = services.citizen_for_assertion(assertion=assertion)
            if not citizen.is_active:
                raise exceptions.PermissionDenied(_("Vətəndaşın hesabı söndürülüb."))
            request._request.api_citizen = citizen  # type: ignore[attr-defined]
            return citizen, ApiPrincipal(channel=key.channel, key=key, citizen=citizen,
                                         login_method=assertion.login_method)
        return AnonymousUser(), ApiPrincipal(channel=key.channel, key=key)

    def authenticate_header(self, request: Request) -> str:
        # Its presence makes DRF answer 401 (not 403) to missing or bad credentials.
        return f'{self.keyword} realm="api"'


class IsChannel(permissions.BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        return isinstance(request.auth, ApiPrincipal)


class IsCitizen(permissions.BasePermission):
    """The operation acts for a citizen: the channel must assert one."""

    def has_permission(self, request: Request, view: Any) -> bool:
        principal = request.auth
        if not isinstance(principal, ApiPrincipal):
            return False
        if principal.citizen is None:
            headers = " or ".join(b.header for b in assertion_backends())
            raise exceptions.NotAuthenticated(_("Bu əməliyyat vətəndaş adından icra olunur: %(headers)s göndərin.") % {
                "headers": headers})
        return True
