"""Virus scan of uploads: a pluggable hook, off unless UPLOAD_SCAN_CLAMD names a clamd.

clamd's INSTREAM command over TCP (``tcp://host:3310``) or a Unix socket
(``unix:///run/clamav/clamd.ctl``): the file goes in length-prefixed chunks, clamd answers
``stream: OK`` or ``stream: <signature> FOUND``. The protocol is this small, and the one PyPI
client (clamd 1.0.2, 2014) no longer installs cleanly, so it is spoken here directly. When the
scanner is configured but cannot answer, the upload is refused (fail closed): a file nobody
checked is not stored.
"""

from __future__ import annotations

import logging
import socket
import struct
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

logger = logging.getLogger("core.scan")
CHUNK = 64 * 1024


class ScanRefused(Exception):
    def __init__(self, message: str, *, infected: bool) -> None:
        super().__init__(message)
        self.message = message
        self.infected = infected


def _connect(address: str, timeout: float) -> socket.socket:
    parts = urlsplit(address)
    if parts.scheme == "unix":
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        sock.connect(parts.path)
        return sock
    if parts.scheme == "tcp" and parts.hostname:
        return socket.create_connection((parts.hostname, parts.port or 3310), timeout=timeout)
    raise ValueError(f"UPLOAD_SCAN_CLAMD must be tcp://host:port or unix:///path, not {address!r}")


def clamd_instream(address: str, data: bytes, *, timeout: float) -> str:
    """clamd's answer for ``data`` (e.g. ``stream: OK``)."""
    with _connect(address, timeout) as sock:
        sock.sendall(b"zINSTREAM\0")
        for start in range(0, len(data), CHUNK):
            chunk = data[start:start + CHUNK]
            sock.sendall(struct.pack("!L", len(chunk)) + chunk)
        sock.sendall(struct.pack("!L", 0))
        answer = b""
        while not answer.endswith(b"\0"):
            part = sock.recv(4096)
            if not part:
                break
            answer += part
    return answer.rstrip(b"\0").decode("utf-8", "replace").strip()


def scan_upload(data: bytes) -> None:
    """Nothing when the scan is off or the file is clean; ScanRefused otherwise."""
    address = settings.UPLOAD_SCAN_CLAMD
    if not address:
        return
    try:
        answer = clamd_instream(address, data, timeout=settings.UPLOAD_SCAN_TIMEOUT)
    except (OSError, ValueError) as exc:
        logger.error("virus scanner unreachable: %s", exc)
        raise ScanRefused(_("Fayl yoxlanıla bilmədi. Bir azdan yenidən cəhd edin."), infected=False) from exc
    if answer.endswith("FOUND"):
        logger.warning("upload refused by the virus scanner: %s", answer)
        raise ScanRefused(_("Faylda zərərli məzmun aşkar edildi. Başqa fayl yükləyin."), infected=True)
    if not answer.endswith("OK"):
        logger.error("virus scanner answered %r", answer)
        raise ScanRefused(_("Fayl yoxlanıla bilmədi. Bir azdan yenidən cəhd edin."), infected=False)
