"""Loopback HTTP servers and RSA signing keys for the login tests and stand-ins.

No Django here: the Asan Login stand-in imports this and also runs as a plain program.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm


class SigningKey:
    """An RSA key pair with a key id, as an SSO would sign tokens with."""

    def __init__(self, kid: str | None = None) -> None:
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = kid or secrets.token_hex(8)

    def jwk(self) -> dict[str, Any]:
        key = json.loads(RSAAlgorithm.to_jwk(self.private.public_key()))
        key.update(kid=self.kid, use="sig", alg="RS256")
        return key

    def sign(self, claims: dict[str, Any], *, kid: str | None = None, with_kid: bool = True) -> str:
        headers = {"kid": kid or self.kid} if with_kid else {}
        return jwt.encode(claims, self.private, algorithm="RS256", headers=headers)


@contextlib.contextmanager
def serve(handler: type[BaseHTTPRequestHandler], *, host: str = "127.0.0.1", port: int = 0
          ) -> Iterator[ThreadingHTTPServer]:
    """Run ``handler`` on a ThreadingHTTPServer in a background thread until the block ends."""
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


class JsonHandler(BaseHTTPRequestHandler):
    """A request handler with small helpers for JSON, redirects and HTML."""

    def log_message(self, format: str, *args: Any) -> None:  # quiet in tests
        pass

    @property
    def url(self) -> urllib.parse.SplitResult:
        return urllib.parse.urlsplit(self.path)

    @property
    def query(self) -> dict[str, str]:
        return dict(urllib.parse.parse_qsl(self.url.query, keep_blank_values=True))

    def form(self) -> dict[str, str]:
        length = int(self.headers.get("Content-Length") or 0)
        return dict(urllib.parse.parse_qsl(self.rfile.read(length).decode(), keep_blank_values=True))

    def send_json(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def send_html(self, status: int, html: str) -> None:
        data = html.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def redirect(self, location: str) -> None:
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()


def with_query(url: str, params: dict[str, str]) -> str:
    return f"{url}{'&' if '?' in url else '?'}{urllib.parse.urlencode(params)}"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: ANN001
        return None


def http(method: str, url: str, *, form: dict[str, str] | None = None, json_body: Any = None,
         headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    """One request as a browser or an admin tool would make it, without following redirects:
    (status, headers, body)."""
    data = None
    hdrs = dict(headers or {})
    if form is not None:
        data = urllib.parse.urlencode(form).encode()
        hdrs["Content-Type"] = "application/x-www-form-urlencoded"
    elif json_body is not None:
        data = json.dumps(json_body).encode()
        hdrs["Content-Type"] = "application/json"
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        # The test's own loopback servers over http(s); never a file: or other scheme.
        with opener.open(urllib.request.Request(url, data=data, method=method, headers=hdrs), timeout=10) as resp:  # noqa: S310
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()
