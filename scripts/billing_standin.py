#!/usr/bin/env python
"""A stand-in for the utility's billing system: the contract of docs/billing-api.yaml over HTTP,
as its own process, with faults switchable while it runs.

    .venv/bin/python scripts/billing_standin.py --host 127.0.0.1 --port 8091 [--token SECRET]
        [--client-id ID --client-secret SECRET] [--source db|memory] [--fault slow|error|down|wrong]
        [--tls-cert PEM [--tls-key PEM] [--client-ca PEM]]

``--source db`` (the default) serves the billing tables of the project's database
(DATABASE_URL: the demo data ``manage.py seed_demo`` loaded) and books adjustments there;
``--source memory`` starts empty and is filled by ``POST /_data`` (the tests do that).

Faults, switched at run time with ``POST /_faults`` ``{"mode": ..., "delay": seconds}`` (``GET
/_faults`` shows the current one):

- ``none``: answers by the contract;
- ``slow``: every answer waits ``delay`` seconds (default 10) first;
- ``error``: every call answers 500 with problem details;
- ``down``: every connection is closed without an answer;
- ``wrong``: answers that break the contract (money as numbers, fields missing).

With ``--token`` every call must carry ``Authorization: Bearer <token>``; with ``--client-id`` and
``--client-secret`` it also issues tokens at ``POST /oauth/token`` (OAuth2 client credentials).
The control endpoints (``/_faults``, ``/_data``, ``/_adjustments``, ``/_requests``: the last 500
calls received) take no token and have no faults.

With ``--tls-cert`` (and ``--tls-key``, unless the key is in the same PEM file) it serves HTTPS,
TLS 1.2 or later; with ``--client-ca`` as well, every connection, the control endpoints' too, must
present a client certificate signed by that CA (mutual TLS), and any other is refused in the
handshake.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import secrets
import ssl
import sys
import threading
import time
from datetime import date
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.utils import timezone  # noqa: E402

from billing import contract  # noqa: E402
from billing.gateway import BillingError, LocalBillingGateway  # noqa: E402

PREFIX = "/billing/v1"
RECEIVED: list[dict[str, Any]] = []
LOG_LOCK = threading.Lock()
FAULTS = ("none", "slow", "error", "down", "wrong")


class DbSource:
    """The project's billing tables, through the local gateway."""

    def __init__(self) -> None:
        self.gw = LocalBillingGateway()

    def account(self, code: str) -> dict[str, Any] | None:
        a = self.gw.account_by_code(code)
        return contract.account_json(a) if a else None

    def accounts_of_fin(self, fin: str) -> list[dict[str, Any]]:
        return [contract.account_json(a) for a in self.gw.accounts_of_fin(fin)]

    def invoices(self, code: str, since: date | None) -> list[dict[str, Any]] | None:
        if self.gw.account_by_code(code) is None:
            return None
        return [contract.invoice_json(i) for i in self.gw.invoices_of_account(code, since=since)]

    def invoice(self, number: str) -> dict[str, Any] | None:
        i = self.gw.invoice(number)
        return contract.invoice_json(i) if i else None

    def readings(self, code: str, since: date | None) -> list[dict[str, Any]] | None:
        if self.gw.account_by_code(code) is None:
            return None
        return [contract.reading_json(r) for r in self.gw.readings_of_account(code, since=since)]

    def balance(self, code: str, as_of: date | None) -> Decimal | None:
        try:
            return self.gw.balance(code, as_of=as_of)
        except BillingError:
            return None

    def post(self, reference: str, body: dict[str, Any]) -> tuple[int, dict[str, Any] | None]:
        existing = self.gw.adjustment(reference)
        if existing is not None:
            if (existing.amount != Decimal(body["amount"]) or existing.subscriber_code != body["subscriber_code"]):
                return 409, None
            return 200, contract.adjustment_json(existing, claim_number=body.get("claim_number", ""))
        try:
            a = self.gw.post_adjustment(
                reference=reference, subscriber_code=body["subscriber_code"], invoice_number=body["invoice_number"],
                amount=Decimal(body["amount"]), posted_on=date.fromisoformat(body["posted_on"]),
                claim_number=body.get("claim_number", ""), note=body.get("note", ""))
        except BillingError:
            return 404, None
        return (201 if a.created else 200), contract.adjustment_json(a, claim_number=body.get("claim_number", ""))

    def adjustment(self, reference: str) -> dict[str, Any] | None:
        a = self.gw.adjustment(reference)
        return contract.adjustment_json(a) if a else None

    def adjustments(self) -> list[dict[str, Any]]:
        from billing.models import Adjustment

        return [self.adjustment(r) or {} for r in Adjustment.objects.values_list("reference", flat=True)]


class MemorySource:
    """Contract JSON kept in memory, filled by ``POST /_data``."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.accounts: dict[str, dict[str, Any]] = {}
        self.invoices_by_number: dict[str, dict[str, Any]] = {}
        self.reading_rows: dict[str, list[dict[str, Any]]] = {}
        self.opening: dict[str, Decimal] = {}
        self.booked: dict[str, dict[str, Any]] = {}

    def load(self, data: dict[str, Any]) -> None:
        with self.lock:
            if data.get("reset"):  # start again from nothing (each test its own billing)
                self.accounts.clear()
                self.invoices_by_number.clear()
                self.reading_rows.clear()
                self.opening.clear()
                self.booked.clear()
            for a in data.get("accounts", []):
                self.accounts[a["subscriber_code"]] = a
            for i in data.get("invoices", []):
                self.invoices_by_number[i["number"]] = i
            for code, rows in data.get("readings", {}).items():
                self.reading_rows[code] = rows
            for code, value in data.get("balances", {}).items():
                self.opening[code] = Decimal(value)

    def account(self, code: str) -> dict[str, Any] | None:
        return self.accounts.get(code)

    def accounts_of_fin(self, fin: str) -> list[dict[str, Any]]:
        return sorted((a for a in self.accounts.values() if a.get("holder_fin") == fin),
                      key=lambda a: a["subscriber_code"])

    def invoices(self, code: str, since: date | None) -> list[dict[str, Any]] | None:
        if code not in self.accounts:
            return None
        rows = [i for i in self.invoices_by_number.values() if i["subscriber_code"] == code
                and (since is None or i["period"] >= since.isoformat())]
        return sorted(rows, key=lambda i: i["period"], reverse=True)

    def invoice(self, number: str) -> dict[str, Any] | None:
        return self.invoices_by_number.get(number)

    def readings(self, code: str, since: date | None) -> list[dict[str, Any]] | None:
        if code not in self.accounts:
            return None
        return [r for r in self.reading_rows.get(code, []) if since is None or r["taken_on"] >= since.isoformat()]

    def balance(self, code: str, as_of: date | None) -> Decimal | None:
        if code not in self.accounts:
            return None
        adjusted = sum((Decimal(a["amount"]) for a in self.booked.values() if a["subscriber_code"] == code
                        and (as_of is None or a["posted_on"] <= as_of.isoformat())), Decimal(0))
        return self.opening.get(code, Decimal(0)) + adjusted

    def post(self, reference: str, body: dict[str, Any]) -> tuple[int, dict[str, Any] | None]:
        with self.lock:
            existing = self.booked.get(reference)
            if existing is not None:
                if (Decimal(existing["amount"]) != Decimal(body["amount"])
                        or existing["subscriber_code"] != body["subscriber_code"]):
                    return 409, None
                return 200, existing | {"balance_after": contract.money(self.balance(body["subscriber_code"], None)
                                                                        or Decimal(0))}
            invoice = self.invoices_by_number.get(body["invoice_number"])
            if body["subscriber_code"] not in self.accounts or invoice is None \
                    or invoice["subscriber_code"] != body["subscriber_code"]:
                return 404, None
            row = {"reference": reference, "id": f"ADJ-{len(self.booked) + 1:06d}", "status": "booked",
                   "subscriber_code": body["subscriber_code"], "invoice_number": body["invoice_number"],
                   "amount": contract.money(Decimal(body["amount"])), "posted_on": body["posted_on"],
                   "claim_number": body.get("claim_number", ""), "note": body.get("note", "")}
            self.booked[reference] = row
            return 201, row | {"balance_after": contract.money(self.balance(body["subscriber_code"], None)
                                                              or Decimal(0))}

    def adjustment(self, reference: str) -> dict[str, Any] | None:
        row = self.booked.get(reference)
        if row is None:
            return None
        return row | {"balance_after": contract.money(self.balance(row["subscriber_code"], None) or Decimal(0))}

    def adjustments(self) -> list[dict[str, Any]]:
        return [self.adjustment(r) or {} for r in list(self.booked)]


def _wrong(body: Any) -> Any:
    """The same answer, broken the way a faulty billing build breaks it."""
    if isinstance(body, dict):
        out = {}
        for k, v in body.items():
            if k in ("holder_name", "number", "reference"):
                continue  # a required field missing
            if isinstance(v, str) and k in ("total", "balance", "amount", "water_amount", "balance_after"):
                out[k] = float(v)  # money as a binary float
            else:
                out[k] = _wrong(v)
        return out
    if isinstance(body, list):
        return [_wrong(x) for x in body]
    return body


class Handler(BaseHTTPRequestHandler):
    server_version = "BillingStandin/1.0"
    protocol_version = "HTTP/1.1"

    # set by main()
    source: Any = None
    token = ""
    client_id = ""
    client_secret = ""
    issued: set[str] = set()
    fault: dict[str, Any] = {"mode": "none", "delay": 10.0}

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        if os.environ.get("BILLING_STANDIN_QUIET") != "1":
            super().log_message(format, *args)

    # --- Plumbing -----------------------------------------------------------------------------

    def _send(self, status: int, body: Any, *, content_type: str = "application/json") -> None:
        data = json.dumps(body, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _problem(self, status: int, title: str, detail: str = "") -> None:
        self._send(status, {"type": f"https://billing.example/problems/{status}", "title": title,
                            "status": status, "detail": detail or title}, content_type="application/problem+json")

    def _body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        ctype = self.headers.get("Content-Type", "")
        if "application/x-www-form-urlencoded" in ctype and not raw.lstrip().startswith(b"{"):
            return {k: v[0] for k, v in parse_qs(raw.decode()).items()}
        return json.loads(raw or b"{}")

    def _authorised(self) -> bool:
        if not self.token and not self.client_id:
            return True
        header = self.headers.get("Authorization", "")
        presented = header[7:] if header.startswith("Bearer ") else ""
        return bool(presented) and (presented == self.token or presented in self.issued)

    # --- Routing ------------------------------------------------------------------------------

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self._route("GET")

    def do_PUT(self) -> None:  # noqa: N802
        self._route("PUT")

    def do_POST(self) -> None:  # noqa: N802
        self._route("POST")

    def _route(self, method: str) -> None:
        url = urlsplit(self.path)
        path, query = url.path, {k: v[0] for k, v in parse_qs(url.query).items()}
        try:
            if path.startswith("/_"):
                return self._control(method, path)
            if path == "/oauth/token" and method == "POST":
                return self._oauth()
            self._entry: dict[str, Any] = {"method": method, "path": path, "query": query, "body": None,
                                           "authorization": bool(self.headers.get("Authorization"))}
            with LOG_LOCK:
                RECEIVED.append(self._entry)
                del RECEIVED[:-500]
            mode = self.fault["mode"]
            if mode == "down":
                self.close_connection = True
                self.connection.shutdown(2)
                return None
            if mode == "slow":
                time.sleep(float(self.fault.get("delay") or 10))
            if mode == "error":
                return self._problem(500, "Internal Server Error", "the billing system failed")
            if not self._authorised():
                return self._problem(401, "Unauthorized", "a valid bearer token is required")
            if not path.startswith(PREFIX):
                return self._problem(404, "Not Found")
            status, body = self._contract(method, path[len(PREFIX):], query)
        except (ValueError, KeyError, json.JSONDecodeError) as e:
            return self._problem(400, "Bad Request", str(e))
        except BrokenPipeError:
            return None
        if body is None:
            return self._problem(status, {404: "Not Found", 409: "Conflict", 405: "Method Not Allowed"}
                                 .get(status, "Error"))
        return self._send(status, _wrong(body) if self.fault["mode"] == "wrong" else body)

    def _contract(self, method: str, path: str, q: dict[str, str]) -> tuple[int, Any]:
        parts = [unquote(p) for p in path.strip("/").split("/")]
        since = date.fromisoformat(q["since"]) if q.get("since") else None
        src = self.source
        if parts[0] == "accounts" and method == "GET":
            if len(parts) == 1:
                if not q.get("fin"):
                    raise ValueError("the fin parameter is required")
                return 200, {"items": src.accounts_of_fin(q["fin"])}
            code = parts[1]
            if len(parts) == 2:
                found = src.account(code)
                return (200 if found else 404), found
            if parts[2] == "invoices":
                items = src.invoices(code, since)
                return (200, {"items": items}) if items is not None else (404, None)
            if parts[2] == "readings":
                items = src.readings(code, since)
                return (200, {"items": items}) if items is not None else (404, None)
            if parts[2] == "balance":
                as_of = date.fromisoformat(q["as_of"]) if q.get("as_of") else None
                value = src.balance(code, as_of)
                if value is None:
                    return 404, None
                return 200, contract.balance_json(code, as_of or timezone.localdate(), value)
        if parts[0] == "invoices" and len(parts) == 2 and method == "GET":
            found = src.invoice(parts[1])
            return (200 if found else 404), found
        if parts[0] == "adjustments" and len(parts) == 2:
            if method == "GET":
                found = src.adjustment(parts[1])
                return (200 if found else 404), found
            if method == "PUT":
                body = self._body()
                self._entry["body"] = body
                for key in ("subscriber_code", "invoice_number", "amount", "posted_on"):
                    if not isinstance(body.get(key), str):
                        raise ValueError(f"{key} is required")
                Decimal(body["amount"])
                date.fromisoformat(body["posted_on"])
                return src.post(parts[1], body)
        return 404, None

    def _control(self, method: str, path: str) -> None:
        if path == "/_faults":
            if method == "POST":
                body = self._body()
                mode = body.get("mode", "none")
                if mode not in FAULTS:
                    return self._problem(400, "Bad Request", f"mode is one of {', '.join(FAULTS)}")
                Handler.fault = {"mode": mode, "delay": float(body.get("delay", 10))}
            return self._send(200, Handler.fault)
        if path == "/_data" and method == "POST":
            if not isinstance(self.source, MemorySource):
                return self._problem(409, "Conflict", "started with --source db")
            self.source.load(self._body())
            return self._send(200, {"ok": True})
        if path == "/_adjustments" and method == "GET":
            return self._send(200, {"items": self.source.adjustments()})
        if path == "/_requests" and method == "GET":  # what the gateway sent, for the contract test
            with LOG_LOCK:
                return self._send(200, {"items": list(RECEIVED)})
        if path == "/_health":
            return self._send(200, {"ok": True})
        return self._problem(404, "Not Found")

    def _oauth(self) -> None:
        body = self._body()
        client_id, client_secret = body.get("client_id", ""), body.get("client_secret", "")
        header = self.headers.get("Authorization", "")
        if header.startswith("Basic "):
            client_id, _, client_secret = base64.b64decode(header[6:]).decode().partition(":")
        if body.get("grant_type") != "client_credentials":
            return self._send(400, {"error": "unsupported_grant_type"})
        if not self.client_id or (client_id, client_secret) != (self.client_id, self.client_secret):
            return self._send(401, {"error": "invalid_client"})
        token = secrets.token_urlsafe(24)
        Handler.issued.add(token)
        return self._send(200, {"access_token": token, "token_type": "Bearer", "expires_in": 3600})


class TlsServer(ThreadingHTTPServer):
    """The server over TLS: the handshake is made in the connection's own thread, so a client
    that stalls or is refused holds up no other, and a refusal is one line in the log."""

    def finish_request(self, request: Any, client_address: Any) -> None:
        try:
            request.do_handshake()
        except (ssl.SSLError, OSError) as e:
            if os.environ.get("BILLING_STANDIN_QUIET") != "1":
                print(f"{client_address[0]} - TLS handshake refused: {e}", file=sys.stderr, flush=True)
            return
        super().finish_request(request, client_address)


def tls_context(cert: str, key: str | None, client_ca: str | None) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert, key)
    if client_ca:
        context.load_verify_locations(cafile=client_ca)
        context.verify_mode = ssl.CERT_REQUIRED
    return context


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8091)
    parser.add_argument("--token", default=os.environ.get("BILLING_STANDIN_TOKEN", ""))
    parser.add_argument("--client-id", default="")
    parser.add_argument("--client-secret", default="")
    parser.add_argument("--source", choices=("db", "memory"), default="db")
    parser.add_argument("--fault", choices=FAULTS, default="none")
    parser.add_argument("--tls-cert", metavar="PEM", help="serve HTTPS with this certificate (chain)")
    parser.add_argument("--tls-key", metavar="PEM", help="its private key, if not in the --tls-cert file")
    parser.add_argument("--client-ca", metavar="PEM", help="require client certificates signed by this CA")
    args = parser.parse_args(argv)
    if (args.tls_key or args.client_ca) and not args.tls_cert:
        parser.error("--tls-key and --client-ca need --tls-cert")
    Handler.source = DbSource() if args.source == "db" else MemorySource()
    Handler.token, Handler.client_id, Handler.client_secret = args.token, args.client_id, args.client_secret
    Handler.fault = {"mode": args.fault, "delay": 10.0}
    context = tls_context(args.tls_cert, args.tls_key, args.client_ca) if args.tls_cert else None
    server = (TlsServer if context else ThreadingHTTPServer)((args.host, args.port), Handler)
    server.daemon_threads = True
    if context:
        server.socket = context.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
    scheme = "https" if context else "http"
    clients = ", client certificates required" if args.client_ca else ""
    print(f"billing stand-in on {scheme}://{args.host}:{server.server_port}{PREFIX} ({args.source}{clients})",
          flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
