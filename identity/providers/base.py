"""What every identity provider gives the portal, and how it says no."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from identity.forms import FIN_RE, normalise_fin
from identity.models import LoginMethod

logger = logging.getLogger("identity.sso")


@dataclass(frozen=True)
class Identity:
    """A citizen as an identity provider vouched for them."""

    fin: str
    first_name: str = ""
    last_name: str = ""
    patronymic: str = ""
    method: str = LoginMethod.ID_NUMBER
    # The raw ID token, kept with the session for RP-initiated logout (id_token_hint).
    id_token: str = ""


class LoginRefused(Exception):
    """The login did not go through. ``reason`` is shown to the citizen in plain words;
    ``detail`` is technical and goes only to the log."""

    def __init__(self, reason: Any, *, status: int = 401, detail: str = "") -> None:
        super().__init__(detail or str(reason))
        self.reason = reason
        self.status = status
        self.detail = detail


class ProviderUnavailable(LoginRefused):
    """The identity provider could not be reached or answered nonsense."""

    def __init__(self, detail: str) -> None:
        super().__init__(_("Giriş xidməti hazırda cavab vermir. Bir az sonra yenidən cəhd edin."),
                         status=503, detail=detail)


class IdentityProvider:
    """Interface of an identity-provider backend (chosen by settings.IDENTITY_PROVIDER).

    ``begin`` answers /auth/login/ (usually a redirect to the provider); ``complete`` answers
    /auth/callback/ and returns the citizen, or raises LoginRefused. ``logout_url`` is where the
    browser goes after the portal session has ended (None: back to the portal).
    """

    #: The development page logs in by itself and has no callback.
    is_development = False

    def begin(self, request: HttpRequest) -> HttpResponse:
        raise NotImplementedError

    def complete(self, request: HttpRequest) -> Identity:
        raise NotImplementedError

    def logout_url(self, request: HttpRequest, *, id_token: str) -> str | None:
        return None


# Login-method values of the national SSO, mapped to ours. Keys are compared case-insensitively
# with "-" and spaces read as "_"; OIDC_METHOD_MAP / ASAN_METHOD_MAP add to or override these.
DEFAULT_METHOD_MAP: dict[str, str] = {
    **{m.value: m.value for m in LoginMethod},
    "id_card": LoginMethod.ID_NUMBER,
    "pin": LoginMethod.ID_NUMBER,
    "sima": LoginMethod.SIMA_SIGNATURE,
    "asan_imza": LoginMethod.ASAN_SIGNATURE,
    "asanimza": LoginMethod.ASAN_SIGNATURE,
    "bsxm": LoginMethod.BSXM_SIGNATURE,
}


def _norm(value: str) -> str:
    return value.strip().lower().replace("-", "_").replace(" ", "_")


def claim_at(claims: dict[str, Any], path: str) -> Any:
    """The claim at a dotted path ("main.person.pin"); a top-level key that itself contains
    dots wins. None when any step is missing."""
    if path in claims:
        return claims[path]
    node: Any = claims
    for step in path.split("."):
        if not isinstance(node, dict) or step not in node:
            return None
        node = node[step]
    return node


def fin_from(claims: dict[str, Any], path: str) -> str:
    raw = claim_at(claims, path)
    if raw is None or raw == "":
        raise LoginRefused(_("Giriş xidməti FİN-i ötürmədi, ona görə sizi tanıya bilmədik."),
                           detail=f"no FIN at claim {path!r}")
    fin = normalise_fin(str(raw))
    if not FIN_RE.match(fin):
        raise LoginRefused(_("Giriş xidmətinin ötürdüyü FİN düzgün deyil."),
                           detail=f"malformed FIN at claim {path!r}")
    return fin


def method_from(claims: dict[str, Any], path: str, extra_map: dict[str, str] | None) -> str:
    """Our LoginMethod for the provider's method claim (a string or, like ``amr``, a list).

    A missing or unmapped value is recorded as the ID-number method, with a log line, rather than
    refusing the citizen: the SSO vouched for them either way.
    """
    mapping = {_norm(k): v for k, v in DEFAULT_METHOD_MAP.items()}
    mapping.update({_norm(k): v for k, v in (extra_map or {}).items()})
    raw = claim_at(claims, path)
    values = raw if isinstance(raw, list) else [raw]
    for value in values:
        if isinstance(value, str) and _norm(value) in mapping:
            method = mapping[_norm(value)]
            if method in LoginMethod.values:
                return LoginMethod(method).value
    if raw in (None, "", []):
        logger.info("SSO token has no login method at claim %r; recorded as %s", path, LoginMethod.ID_NUMBER)
    else:
        logger.warning("SSO login method %r (claim %r) is not mapped; recorded as %s. "
                       "Add it to the method map setting.", raw, path, LoginMethod.ID_NUMBER)
    return LoginMethod.ID_NUMBER


def text_claim(claims: dict[str, Any], *paths: str) -> str:
    for path in paths:
        value = claim_at(claims, path)
        if isinstance(value, str) and value.strip():
            return value.strip()[:100]
    return ""
