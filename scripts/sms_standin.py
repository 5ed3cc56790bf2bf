"""A stand-in for the SMS gateway: records what notifications.sms.HttpGatewaySmsBackend posts.

    python scripts/sms_standin.py --port 8025 --out var/stack/sms.jsonl [--user U --password P]

Accepts ``POST`` (any path) of ``{"from": ..., "to": "+994...", "text": ...}`` as JSON with HTTP
basic authentication (checked when --user is given), appends one JSON line per message to
--out and answers 200 ``{"id": "..."}`` as the real gateway does. 400 for a malformed message,
401 for wrong credentials. ``GET /`` lists the last 50 messages; ``GET /healthz`` answers "ok".
Used by `make stack`; standard library only.
"""

from __future__ import annotations

import argparse
import base64
import datetime
import json
import signal
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


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
        if self.path.startswith("/healthz"):
            self._answer(200, "ok")
            return
        with self.server.lock:
            lines = self.server.out.read_text("utf-8").splitlines()[-50:] if self.server.out.exists() else []
        self._answer(200, [json.loads(line) for line in lines])

    def do_POST(self) -> None:  # noqa: N802
        if self.server.user and self.headers.get("Authorization") != self.server.expected_auth:
            self._answer(401, {"error": "bad credentials"})
            return
        try:
            length = int(self.headers.get("Content-Length") or 0)
            message = json.loads(self.rfile.read(length).decode("utf-8"))
            to, text, sender = message["to"], message["text"], message["from"]
            if not (isinstance(to, str) and to.startswith("+") and to[1:].isdigit() and isinstance(text, str) and text):
                raise ValueError("to must be +digits and text non-empty")
        except (ValueError, KeyError, TypeError, UnicodeDecodeError) as e:
            self._answer(400, {"error": f"malformed message: {e}"})
            return
        record = {
            "id": uuid.uuid4().hex,
            "received_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "from": sender,
            "to": to,
            "text": text,
            "path": self.path,
        }
        with self.server.lock, self.server.out.open("a", encoding="utf-8") as f:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
        self._answer(200, {"id": record["id"], "status": "accepted"})

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - http.server's signature
        sys.stdout.write(f"sms-standin: {self.address_string()} {format % args}\n")
        sys.stdout.flush()


class SmsServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], out: Path, user: str, password: str) -> None:
        super().__init__(address, Handler)
        self.out, self.user, self.lock = out, user, threading.Lock()
        self.expected_auth = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True, help="JSON-lines file the messages are appended to")
    parser.add_argument("--user", default="")
    parser.add_argument("--password", default="")
    args = parser.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    server = SmsServer((args.host, args.port), args.out, args.user, args.password)
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
