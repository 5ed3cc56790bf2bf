"""Identity providers for the login tests, each a real HTTP server on loopback:

- ``oidc_provider``: oidc-provider-mock (a real OpenID Connect provider), in a thread;
- ``oidc_standin``: a minimal provider whose ID tokens a test shapes (for the refusals);
- ``asan``: the Asan Login stand-in.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import threading
import urllib.parse
import warnings
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import werkzeug.serving

with warnings.catch_warnings():  # authlib, which it uses, warns about its own modules at import
    import authlib.deprecate  # noqa: F401 - it switches its own warnings to "always" when imported

    warnings.simplefilter("ignore")
    import oidc_provider_mock

from identity.tests.asan_standin import AsanStandIn
from identity.tests.oidc_standin import OidcStandIn
from identity.tests.servers import http


class PkceEnforcer:
    """WSGI wrapper that makes oidc-provider-mock enforce PKCE (RFC 7636, S256).

    The mock ignores code_challenge (authlib's CodeChallenge extension is not registered in it);
    a real SSO does not. The challenge sent to /oauth2/authorize is remembered by the code it
    issued, and /oauth2/token refuses the code unless code_verifier hashes to it.
    """

    def __init__(self, app) -> None:
        self.app = app
        self.challenges: dict[str, tuple[str | None, str | None]] = {}
        self.refused = 0
        self._lock = threading.Lock()

    def __call__(self, environ, start_response):
        path, method = environ.get("PATH_INFO"), environ.get("REQUEST_METHOD")
        if path == "/oauth2/authorize" and method == "POST":
            q = dict(urllib.parse.parse_qsl(environ.get("QUERY_STRING", "")))
            challenge = (q.get("code_challenge"), q.get("code_challenge_method"))

            def remember(status, headers, exc_info=None):
                for name, value in headers:
                    if name.lower() == "location":
                        code = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(value).query)).get("code")
                        if code:
                            with self._lock:
                                self.challenges[code] = challenge
                return start_response(status, headers, exc_info)

            return self.app(environ, remember)
        if path == "/oauth2/token" and method == "POST":
            body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            environ["wsgi.input"] = io.BytesIO(body)
            form = dict(urllib.parse.parse_qsl(body.decode()))
            if form.get("grant_type") == "authorization_code":
                with self._lock:
                    challenge, method_ = self.challenges.pop(form.get("code", ""), (None, None))
                verifier = form.get("code_verifier", "")
                expected = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
                if method_ != "S256" or not challenge or challenge != expected:
                    self.refused += 1
                    start_response("400 BAD REQUEST", [("Content-Type", "application/json")])
                    return [b'{"error": "invalid_grant", "error_description": "PKCE verification failed"}']
        return self.app(environ, start_response)


@dataclass
class OidcProviderProcess:
    url: str
    pkce: PkceEnforcer

    def set_user(self, sub: str, claims: dict) -> None:
        status, _, body = http("PUT", f"{self.url}/users/{urllib.parse.quote(sub)}", json_body=claims)
        assert status == 204, body

    def authorize(self, authorize_url: str, *, sub: str | None = None, deny: bool = False) -> str:
        """Submit the provider's authorization form as the citizen would; returns where the
        provider sends the browser next."""
        if deny:
            form = {"action": "deny"}
        else:
            assert sub is not None, "authorize as which citizen?"
            form = {"sub": sub}
        status, headers, body = http("POST", authorize_url, form=form)
        assert status == 302, body[:500]
        return headers["Location"]


@pytest.fixture(scope="session")
def oidc_provider() -> Iterator[OidcProviderProcess]:
    previous = os.environ.get("AUTHLIB_INSECURE_TRANSPORT")
    os.environ["AUTHLIB_INSECURE_TRANSPORT"] = "1"  # plain http on loopback, as its CLI allows
    pkce = PkceEnforcer(oidc_provider_mock.app(require_nonce=True))
    server = werkzeug.serving.make_server("127.0.0.1", 0, pkce, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield OidcProviderProcess(url=f"http://127.0.0.1:{server.server_port}", pkce=pkce)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
        if previous is None:
            os.environ.pop("AUTHLIB_INSECURE_TRANSPORT", None)
        else:
            os.environ["AUTHLIB_INSECURE_TRANSPORT"] = previous


@pytest.fixture
def oidc_settings(settings, oidc_provider):
    settings.IDENTITY_PROVIDER = "identity.providers.oidc.OidcProvider"
    settings.OIDC_ISSUER = oidc_provider.url
    settings.OIDC_CLIENT_ID = "borc-portal"
    settings.OIDC_CLIENT_SECRET = "s3cret"
    settings.OIDC_TOKEN_AUTH_METHOD = "client_secret_basic"
    settings.OIDC_SCOPES = "openid profile"
    settings.OIDC_FIN_CLAIM = "fin"
    settings.OIDC_METHOD_CLAIM = "amr"
    settings.OIDC_METHOD_MAP = {}
    return settings


@pytest.fixture
def oidc_standin(settings) -> Iterator[OidcStandIn]:
    with OidcStandIn().running() as op:
        settings.IDENTITY_PROVIDER = "identity.providers.oidc.OidcProvider"
        settings.OIDC_ISSUER = op.url
        settings.OIDC_CLIENT_ID = op.client_id
        settings.OIDC_CLIENT_SECRET = op.client_secret
        settings.OIDC_TOKEN_AUTH_METHOD = "client_secret_basic"
        settings.OIDC_FIN_CLAIM = "fin"
        settings.OIDC_METHOD_CLAIM = "amr"
        settings.OIDC_METHOD_MAP = {}
        yield op


@pytest.fixture
def asan(settings) -> Iterator[AsanStandIn]:
    with AsanStandIn().running() as standin:
        settings.IDENTITY_PROVIDER = "identity.providers.asan.AsanLoginProvider"
        settings.ASAN_LOGIN_URL = standin.url
        settings.ASAN_API_URL = ""
        settings.ASAN_FIN_CLAIM = "main.person.pin"
        settings.ASAN_METHOD_CLAIM = "amr"
        settings.ASAN_METHOD_MAP = {}
        settings.ASAN_AUDIENCE = standin.audience
        settings.ASAN_ISSUER = standin.issuer
        settings.ASAN_CHECK_AUTH_SCHEME = "Bearer"
        yield standin
