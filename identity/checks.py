"""System checks for the login configuration: a deployment that nobody can log in to should
say so at start-up, not on the first citizen's visit."""

from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register
from django.utils.module_loading import import_string


@register("identity")
def check_identity_provider(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> list[CheckMessage]:
    path = getattr(settings, "IDENTITY_PROVIDER", "")
    try:
        cls = import_string(path)
    except ImportError as exc:
        return [Error(f"IDENTITY_PROVIDER {path!r} cannot be imported: {exc}", id="identity.E001")]
    problems: list[CheckMessage] = []
    name = f"{cls.__module__}.{cls.__qualname__}"
    if getattr(cls, "is_development", False) and not settings.DEV_LOGIN_ENABLED:
        problems.append(Warning(
            "IDENTITY_PROVIDER is the development page but DEV_LOGIN_ENABLED is off: citizens cannot log in.",
            hint="Set IDENTITY_PROVIDER to identity.providers.oidc.OidcProvider or "
                 "identity.providers.asan.AsanLoginProvider (docs/sso.md).", id="identity.W001"))
    if name == "identity.providers.oidc.OidcProvider" and not (settings.OIDC_ISSUER and settings.OIDC_CLIENT_ID):
        problems.append(Error("OpenID Connect login needs OIDC_ISSUER and OIDC_CLIENT_ID.", id="identity.E002"))
    if name == "identity.providers.oidc.OidcProvider" and settings.OIDC_TOKEN_AUTH_METHOD not in (
            "client_secret_basic", "client_secret_post", "none"):
        problems.append(Error(f"OIDC_TOKEN_AUTH_METHOD {settings.OIDC_TOKEN_AUTH_METHOD!r} is not one of "
                              "client_secret_basic, client_secret_post, none.", id="identity.E003"))
    if name == "identity.providers.asan.AsanLoginProvider" and not settings.ASAN_LOGIN_URL:
        problems.append(Error("Asan Login needs ASAN_LOGIN_URL.", id="identity.E004"))
    return problems


@register("identity", deploy=True)
def check_no_development_login(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> list[CheckMessage]:
    """The development login lets anyone in as any FIN, and the development outbox shows every
    e-mail and SMS: neither may be on where DEBUG is off. A deploy check (``check --deploy``,
    run before every release, docs/deployment.md) rather than one at every start, because the
    local production-like stack (``make stack``) runs DEBUG off with the development login on."""
    if settings.DEV_LOGIN_ENABLED and not settings.DEBUG:
        return [Error(
            "DEV_LOGIN_ENABLED is on with DEBUG off: anyone could log in as any citizen (/auth/dev/) and staff "
            "would see every e-mail and SMS at /dev/outbox/.",
            hint="Set DEV_LOGIN_ENABLED=false in production; log citizens in through the national SSO.",
            id="identity.E005")]
    return []
