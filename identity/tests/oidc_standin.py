"""A minimal OpenID provider whose ID tokens the test shapes: expired, for another audience,
with another nonce, signed with a stranger's key, tampered with...

The real provider (oidc-provider-mock) always signs correctly, so the refusals are exercised
against this one, through the same views and the same HTTP calls.
"""

from __future__ import annotations

import base64
import contextlib
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

from identity.tests.servers import JsonHandler, SigningKey, serve, with_query


class OidcStandIn:
    def __init__(self, *, client_id: str = "borc-portal", client_secret: str = "s3cret") -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.key = SigningKey()
        self.url = ""
        self.codes: dict[str, dict[str, str]] = {}
        self.requests: Counter[str] = Counter()
        self.client_auth: list[str] = []  # how the client authenticated at the token endpoint
        self.user: dict[str, Any] = {"sub": "citizen-1", "fin": "5ABCD12", "given_name": "Rəşad",
                                     "family_name": "Əliyev", "middle_name": "Elşən", "amr": ["sima_signature"]}
        self.userinfo: dict[str, Any] | None = None  # None: the ID token's user claims
        # What the next ID token looks like:
        self.overrides: dict[str, Any] = {}
        self.drop: set[str] = set()
        self.sign_with: SigningKey | None = None
        self.kid: str | None = None
        self.with_kid = True
        self.mutate: Callable[[str], str] | None = None
        self.token_status = 200
        self.end_session = True
        self._lock = threading.Lock()

    def rotate_key(self) -> None:
        self.key = SigningKey()

    def id_token(self, nonce: str) -> str:
        now = int(time.time())
        claims = {"iss": self.url, "aud": self.client_id, "iat": now, "exp": now + 600, "nonce": nonce, **self.user}
        claims.update(self.overrides)
        for name in self.drop:
            claims.pop(name, None)
        token = (self.sign_with or self.key).sign(claims, kid=self.kid, with_kid=self.with_kid)
        return self.mutate(token) if self.mutate else token

    def handler(self) -> type[JsonHandler]:
        op = self

        class Handler(JsonHandler):
            def do_GET(self) -> None:  # noqa: N802
                path = self.url.path
                with op._lock:
                    op.requests[path] += 1
                if path == "/.well-known/openid-configuration":
                    meta = {"issuer": op.url, "authorization_endpoint": f"{op.url}/authorize",
                            "token_endpoint": f"{op.url}/token", "jwks_uri": f"{op.url}/jwks",
                            "userinfo_endpoint": f"{op.url}/userinfo",
                            "id_token_signing_alg_values_supported": ["RS256"]}
                    if op.end_session:
                        meta["end_session_endpoint"] = f"{op.url}/logout"
                    self.send_json(200, meta)
                elif path == "/jwks":
                    self.send_json(200, {"keys": [op.key.jwk()]})
                elif path == "/authorize":
                    q = self.query
                    code = secrets.token_urlsafe(16)
                    op.codes[code] = {"nonce": q.get("nonce", ""), "redirect_uri": q["redirect_uri"]}
                    self.redirect(with_query(q["redirect_uri"], {"code": code, "state": q.get("state", "")}))
                elif path == "/userinfo":
                    if self.headers.get("Authorization") != "Bearer at-1":
                        self.send_json(401, {"error": "invalid_token"})
                    else:
                        self.send_json(200, op.userinfo if op.userinfo is not None else op.user)
                else:
                    self.send_json(404, {})

            def do_POST(self) -> None:  # noqa: N802
                with op._lock:
                    op.requests[self.url.path] += 1
                if self.url.path != "/token":
                    self.send_json(404, {})
                    return
                form = self.form()
                auth = self.headers.get("Authorization", "")
                if auth.startswith("Basic "):
                    cid, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
                    op.client_auth.append("client_secret_basic")
                else:
                    cid, secret = form.get("client_id", ""), form.get("client_secret", "")
                    op.client_auth.append("client_secret_post")
                grant = op.codes.pop(form.get("code", ""), None)
                if (cid, secret) != (op.client_id, op.client_secret):
                    self.send_json(401, {"error": "invalid_client"})
                elif grant is None or grant["redirect_uri"] != form.get("redirect_uri"):
                    self.send_json(400, {"error": "invalid_grant"})
                elif op.token_status != 200:
                    self.send_json(op.token_status, {"error": "server_error"})
                else:
                    self.send_json(200, {"access_token": "at-1", "token_type": "Bearer", "expires_in": 600,
                                         "id_token": op.id_token(grant["nonce"])})

        return Handler

    @contextlib.contextmanager
    def running(self) -> Iterator[OidcStandIn]:
        with serve(self.handler()) as server:
            self.url = f"http://127.0.0.1:{server.server_port}"
            yield self
