"""A local SMTP sink: accepts every message and writes it to a directory as an .eml file.

    python scripts/smtp_sink.py --port 8026 --dir var/stack/mail [--index FILE]

Stands in for the mail relay in `make stack` (EMAIL_URL=smtp://127.0.0.1:<port>); open the
files with any mail client, or read them as text. Runs aiosmtpd (a test dependency).

Every message received is also one JSON line of the index (--index, by default
``<dir>/index.jsonl``): ``{"file", "message_id", "to", "duplicate"}``. ``duplicate`` is true
when a message with the same Message-ID came before (a re-send after a crash: a mail client
shows it once), so the distinct messages are the lines with ``"duplicate": false``. The index
is read back at start, so a restarted sink still knows what it took.
"""

from __future__ import annotations

import argparse
import datetime
import email.parser
import email.policy
import json
import signal
import threading
import uuid
from pathlib import Path

from aiosmtpd.controller import Controller


class EmlWriter:
    def __init__(self, directory: Path, index: Path | None = None) -> None:
        self.directory = directory
        self.index = index or directory / "index.jsonl"
        self.seen: set[str] = set()
        if self.index.exists():
            for line in self.index.read_text("utf-8").splitlines():
                if line.strip():
                    self.seen.add(json.loads(line)["message_id"])

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 - aiosmtpd's hook name
        stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%S")
        path = self.directory / f"{stamp}-{uuid.uuid4().hex[:8]}.eml"
        # The envelope as headers first, the way a mail server records it (Return-Path,
        # X-Original-To), then the message exactly as received.
        head = f"Return-Path: <{envelope.mail_from}>\r\nX-Original-To: {', '.join(envelope.rcpt_tos)}\r\n"
        data = envelope.original_content or envelope.content
        tmp = path.with_suffix(".part")
        tmp.write_bytes(head.encode() + data)
        tmp.rename(path)  # a reader never sees half a message
        headers = email.parser.BytesHeaderParser(policy=email.policy.default).parsebytes(data)
        message_id = str(headers.get("Message-ID") or "").strip()
        duplicate = bool(message_id) and message_id in self.seen
        self.seen.add(message_id)
        entry = {"file": path.name, "message_id": message_id, "to": list(envelope.rcpt_tos), "duplicate": duplicate}
        with self.index.open("a", encoding="utf-8") as f:
            f.write(json.dumps(entry, ensure_ascii=False) + "\n")
        print(f"smtp-sink: {envelope.mail_from} -> {', '.join(envelope.rcpt_tos)}: {path.name}", flush=True)
        return "250 Message accepted for delivery"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", type=Path, required=True, help="where the .eml files go")
    parser.add_argument("--index", type=Path, default=None,
                        help="JSON-lines index of the messages, with duplicates marked (default <dir>/index.jsonl)")
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    controller = Controller(EmlWriter(args.dir, args.index), hostname=args.host, port=args.port)
    controller.start()
    print(f"smtp-sink: listening on {args.host}:{args.port}, writing to {args.dir}", flush=True)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
