"""A stand-in for the national SSO "Asan Login", for tests and for trying the portal by hand.

It speaks the protocol as integrators' public code shows it (DESIGN.md §7):

- ``GET /auth?origin=<url>`` - the login page; submitting it (or adding ``pin=...`` to the URL)
  sends the browser back to ``origin`` with ``token=<JWT>`` added to its query;
- ``GET /ssoauthz/api/v1/token/check`` - 200 for a token it issued (``Authorization: Bearer
  <token>`` or the bare token), 401 otherwise;
- ``GET /ssoauthz/api/v1/token/certs`` - its signing keys as a JWKS.

Tokens are RS256 JWTs with ``main.person.pin``, ``name``, ``surname``, ``fatherName`` and the
login method in ``amr``. Run it by hand::

    .venv/bin/python -m identity.tests.asan_standin --port 9401
"""

from __future__ import annotations

import argparse
import contextlib
import html
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

from identity.tests.servers import JsonHandler, SigningKey, serve, with_query

METHODS = ["id_number", "sima_signature", "asan_signature", "sima_token", "bsxm_signature"]


class AsanStandIn:
    def __init__(self, *, issuer: str = "https://asanlogin.standin.local", audience: str = "borc-e-xidmet",
                 token_ttl: int = 3600) -> None:
        self.issuer = issuer
        self.audience = audience
        self.token_ttl = token_ttl
        self.key = SigningKey()
        self.issued: set[str] = set()
        self.certs_requests = 0
        self.check_requests = 0
        self.url = ""
        self._lock = threading.Lock()

    # -- what a test can do ------------------------------------------------------------------

    def claims(self, *, pin: str, name: str = "", surname: str = "", father_name: str = "",
               method: str | None = "asan_signature") -> dict[str, Any]:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer, "aud": self.audience, "iat": now, "exp": now + self.token_ttl,
            "jti": str(uuid.uuid4()), "sub": pin,
            "main": {"person": {"pin": pin, "name": name, "surname": surname, "fatherName": father_name}},
        }
        if method:
            claims["amr"] = [method]
        return claims

    def issue(self, claims: dict[str, Any], *, key: SigningKey | None = None, register: bool = True) -> str:
        """A signed token; ``register=False`` makes one its check endpoint will not recognise."""
        token = (key or self.key).sign(claims)
        if register:
            with self._lock:
                self.issued.add(token)
        return token

    def rotate_key(self) -> None:
        """Replace the signing key; the JWKS serves only the new one from now on."""
        self.key = SigningKey()

    def revoke(self, token: str) -> None:
        with self._lock:
            self.issued.discard(token)

    # -- HTTP ----------------------------------------------------------------------------------

    def handler(self) -> type[JsonHandler]:
        standin = self

        class Handler(JsonHandler):
            def do_GET(self) -> None:  # noqa: N802
                path = self.url.path
                if path == "/ssoauthz/api/v1/token/certs":
                    with standin._lock:
                        standin.certs_requests += 1
                    self.send_json(200, {"keys": [standin.key.jwk()]})
                elif path == "/ssoauthz/api/v1/token/check":
                    with standin._lock:
                        standin.check_requests += 1
                        token = self.headers.get("Authorization", "").removeprefix("Bearer ").strip()
                        ok = token in standin.issued
                    self.send_json(200 if ok else 401, {"status": 200 if ok else 401})
                elif path == "/auth":
                    self.login_page()
                else:
                    self.send_json(404, {"status": 404})

            def login_page(self) -> None:
                q = self.query
                origin = q.get("origin", "")
                if not origin.startswith(("http://", "https://")):
                    self.send_html(400, "<p>origin is missing</p>")
                    return
                if q.get("pin"):
                    claims = standin.claims(pin=q["pin"], name=q.get("name", ""), surname=q.get("surname", ""),
                                            father_name=q.get("fatherName", ""), method=q.get("method") or None)
                    self.redirect(with_query(origin, {"token": standin.issue(claims)}))
                    return
                options = "".join(f'<option value="{m}">{m}</option>' for m in METHODS)
                self.send_html(200, f"""<!doctype html><meta charset="utf-8"><title>Asan Login stand-in</title>
<h1>Asan Login (stand-in)</h1><form method="get" action="/auth">
<input type="hidden" name="origin" value="{html.escape(origin)}">
<p><label>FIN (pin) <input name="pin" value="5ABCD12" required></label></p>
<p><label>name <input name="name" value="Rəşad"></label></p>
<p><label>surname <input name="surname" value="Əliyev"></label></p>
<p><label>fatherName <input name="fatherName" value="Elşən"></label></p>
<p><label>method <select name="method">{options}</select></label></p>
<p><button type="submit">Login</button></p></form>
<p>Back to: {html.escape(origin)}</p>""")

        return Handler

    @contextlib.contextmanager
    def running(self, *, host: str = "127.0.0.1", port: int = 0) -> Iterator[AsanStandIn]:
        with serve(self.handler(), host=host, port=port) as server:
            self.url = f"http://{host}:{server.server_port}"
            yield self


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Asan Login stand-in (loopback, for development only)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9401)
    parser.add_argument("--issuer", default="https://asanlogin.standin.local")
    parser.add_argument("--audience", default="borc-e-xidmet")
    parser.add_argument("--token-ttl", type=int, default=3600, help="token lifetime in seconds")
    args = parser.parse_args(argv)
    standin = AsanStandIn(issuer=args.issuer, audience=args.audience, token_ttl=args.token_ttl)
    with standin.running(host=args.host, port=args.port):
        print(f"Asan Login stand-in at {standin.url}  (issuer {args.issuer}, audience {args.audience}); Ctrl-C stops",
              flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
