"""Identity providers: who vouches for a citizen's FIN.

The backend is chosen by settings.IDENTITY_PROVIDER (a dotted path), the way Django chooses
EMAIL_BACKEND:

- ``identity.providers.dev.DevProvider`` - the development page (default; needs DEV_LOGIN_ENABLED);
- ``identity.providers.oidc.OidcProvider`` - standard OpenID Connect (authorization code + PKCE);
- ``identity.providers.asan.AsanLoginProvider`` - the "Asan Login" protocol of the national SSO.
"""

from django.conf import settings
from django.utils.module_loading import import_string

from .base import Identity, IdentityProvider, LoginRefused, ProviderUnavailable


def get_provider() -> IdentityProvider:
    """A fresh instance of the configured backend (it reads its settings when made; caches of
    provider metadata and keys live in Django's cache, not in the instance)."""
    return import_string(settings.IDENTITY_PROVIDER)()


__all__ = ["Identity", "IdentityProvider", "LoginRefused", "ProviderUnavailable", "get_provider"]
