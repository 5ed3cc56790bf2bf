"""A stand-in for the SMS gateway: records what notifications.sms.HttpGatewaySmsBackend posts.

    python scripts/sms_standin.py --port 8025 --out var/stack/sms.jsonl [--user U --password P]
        [--fail-first N] [--fail-status 500]

Accepts ``POST`` (any path) of ``{"from": ..., "to": "+994...", "text": ..., "reference": ...}``
as JSON or as a form (``application/x-www-form-urlencoded``, the same names), with HTTP basic
authentication (checked when --user is given). Like a real gateway it drops a repeat of a
message whose client ``reference`` it has already accepted: the repeat is answered 200 with the
first message's id (and ``"duplicate": true``) and not recorded again. Each accepted message is
appended as one JSON line to --out (read back at start, so a restarted stand-in still knows the
references it took), and answered 200 ``{"id": "...", "status": "accepted"}``. 400 for a
malformed message, 401 for wrong credentials.

Faults for tests: --fail-first N answers the first N messages with --fail-status (default 500)
without recording them; ``POST /_control`` with ``{"fail": N, "status": 503}`` does the same
from then on, ``{"down": true}`` fails every message until ``{"down": false}``.

Reading what arrived: ``GET /messages`` lists every accepted (distinct) message, ``GET /stats``
answers ``{"received": ..., "accepted": ..., "duplicates": ..., "failed": ...}`` (received
counts every well-formed, authenticated POST); the --out file has one line per distinct
message. ``GET /`` lists the last 50; ``GET /healthz`` answers "ok". Used by `make stack` and
the tests; standard library only.
"""

from __future__ import annotations

import argparse
import base64
import datetime
import json
import signal
import sys
import threading
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


class Handler(BaseHTTPRequestHandler):
    server: SmsServer

    def _answer(self, status: int, body: object) -> None:
        data = json.dumps(body, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        path = urllib.parse.urlsplit(self.path).path
        if path.startswith("/healthz"):
            self._answer(200, "ok")
            return
        with self.server.lock:
            if path == "/stats":
                self._answer(200, self.server.stats())
            elif path == "/messages":
                self._answer(200, list(self.server.accepted))
            else:
                self._answer(200, self.server.accepted[-50:])

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if urllib.parse.urlsplit(self.path).path == "/_control":
            self._control(raw)
            return
        if self.server.user and self.headers.get("Authorization") != self.server.expected_auth:
            self._answer(401, {"error": "bad credentials"})
            return
        try:
            message = _parse(raw, self.headers.get("Content-Type", ""))
            to, text, sender = message["to"], message["text"], message["from"]
            reference = str(message.get("reference") or "")
            if not (isinstance(to, str) and to.startswith("+") and to[1:].isdigit() and isinstance(text, str) and text):
                raise ValueError("to must be +digits and text non-empty")
        except (ValueError, KeyError, TypeError, UnicodeDecodeError) as e:
            self._answer(400, {"error": f"malformed message: {e}"})
            return
        with self.server.lock:
            self.server.received += 1
            failure = self.server.failure()
            if failure:
                self.server.failed += 1
            elif reference and reference in self.server.by_reference:
                self.server.duplicates += 1
                first = self.server.by_reference[reference]
                self._answer(200, {"id": first["id"], "status": "accepted", "duplicate": True})
                return
            else:
                record = {
                    "id": uuid.uuid4().hex,
                    "received_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
                    "from": sender, "to": to, "text": text, "reference": reference, "path": self.path,
                }
                self.server.record(record)
        if failure:
            self._answer(failure, {"error": f"injected failure (HTTP {failure})"})
            return
        self._answer(200, {"id": record["id"], "status": "accepted"})

    def _control(self, raw: bytes) -> None:
        try:
            command = json.loads(raw.decode("utf-8") or "{}")
        except ValueError as e:
            self._answer(400, {"error": str(e)})
            return
        with self.server.lock:
            if "status" in command:
                self.server.fail_status = int(command["status"])
            if "fail" in command:
                self.server.fail_left = int(command["fail"])
            if "down" in command:
                self.server.down = bool(command["down"])
            self._answer(200, {"fail": self.server.fail_left, "status": self.server.fail_status,
                               "down": self.server.down})

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - http.server's signature
        sys.stdout.write(f"sms-standin: {self.address_string()} {format % args}\n")
        sys.stdout.flush()


def _parse(raw: bytes, content_type: str) -> dict[str, Any]:
    if content_type.startswith("application/x-www-form-urlencoded"):
        return {k: v[-1] for k, v in urllib.parse.parse_qs(raw.decode("utf-8"), strict_parsing=True).items()}
    message = json.loads(raw.decode("utf-8"))
    if not isinstance(message, dict):
        raise TypeError("the body must be a JSON object")
    return message


class SmsServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], out: Path, user: str, password: str, *, fail_first: int = 0,
                 fail_status: int = 500) -> None:
        super().__init__(address, Handler)
        self.out, self.user, self.lock = out, user, threading.Lock()
        self.expected_auth = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
        self.fail_left, self.fail_status, self.down = fail_first, fail_status, False
        self.received = self.duplicates = self.failed = 0
        self.accepted: list[dict[str, Any]] = []
        self.by_reference: dict[str, dict[str, Any]] = {}
        if out.exists():  # a restarted gateway still knows what it took
            for line in out.read_text("utf-8").splitlines():
                if line.strip():
                    self._remember(json.loads(line))

    def _remember(self, record: dict[str, Any]) -> None:
        self.accepted.append(record)
        if record.get("reference"):
            self.by_reference[record["reference"]] = record

    def record(self, record: dict[str, Any]) -> None:
        """Keep an accepted message (the lock is held)."""
        with self.out.open("a", encoding="utf-8") as f:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
        self._remember(record)

    def failure(self) -> int:
        """The status to fail this message with, 0 for none (the lock is held)."""
        if self.down:
            return self.fail_status
        if self.fail_left > 0:
            self.fail_left -= 1
            return self.fail_status
        return 0

    def stats(self) -> dict[str, int]:
        return {"received": self.received, "accepted": len(self.accepted), "duplicates": self.duplicates,
                "failed": self.failed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True, help="JSON-lines file the messages are appended to")
    parser.add_argument("--user", default="")
    parser.add_argument("--password", default="")
    parser.add_argument("--fail-first", type=int, default=0, help="answer the first N messages with --fail-status")
    parser.add_argument("--fail-status", type=int, default=500)
    args = parser.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    server = SmsServer((args.host, args.port), args.out, args.user, args.password, fail_first=args.fail_first,
                       fail_status=args.fail_status)
    # SIGTERM (supervisord's stop signal) ends serve_forever from another thread.
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    print(f"sms-standin: listening on http://{args.host}:{args.port}/, writing to {args.out}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    server.server_close()


if __name__ == "__main__":
    main()
