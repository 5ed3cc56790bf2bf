"""What a channel's integrator writes to talk to the stack over HTTP: plain urllib requests, a
multipart body and a meter photo. Used by the topology test and by scripts/bench_stack.py."""

# Every URL is the stack's loopback address.
# ruff: noqa: S310
from __future__ import annotations

import io
import json
import random
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Answer:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        return json.loads(self.body.decode())


def http(method: str, url: str, *, body: bytes | None = None, headers: dict[str, str] | None = None,
         timeout: float = 30) -> Answer:
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return Answer(response.status, response.read(), dict(response.headers.items()))
    except urllib.error.HTTPError as e:
        return Answer(e.code, e.read(), dict(e.headers.items()))


def multipart(fields: dict[str, str], files: dict[str, tuple[str, bytes, str]]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    out = io.BytesIO()
    for name, value in fields.items():
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, (filename, data, content_type) in files.items():
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                  f"Content-Type: {content_type}\r\n\r\n".encode())
        out.write(data + b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"


def meter_photo(seed: int) -> bytes:
    """A 960x720 JPEG, different for each seed."""
    from PIL import Image

    rng = random.Random(seed)
    image = Image.new("RGB", (960, 720), (rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    for _ in range(40):
        x, y = rng.randrange(900), rng.randrange(660)
        image.paste((rng.randrange(256), rng.randrange(256), rng.randrange(256)), (x, y, x + 60, y + 60))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


@dataclass
class Filing:
    """A claim a channel files: whose, on which invoice, with which meters; its Idempotency-Key,
    and once acknowledged its number and the answers it took."""
    fin: str
    subscriber_code: str
    invoice_number: str
    meters: list[str]
    email: str = ""
    key: str = field(default_factory=lambda: uuid.uuid4().hex)
    number: str | None = None
    attempts: list[str] = field(default_factory=list)


def results(listed: Any) -> list[dict[str, Any]]:
    """The items of a list answer, paged (``results``) or not."""
    return list(listed["results"] if isinstance(listed, dict) else listed)
