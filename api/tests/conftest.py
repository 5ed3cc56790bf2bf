"""Fixtures of the API tests: channels registered as an administrator does (service + the
api_key_create command), citizen tokens signed with the channel's real keys, a client that
speaks the API, and a real HTTP server on loopback standing in for a channel's webhook
endpoint."""

from __future__ import annotations

import hashlib
import hmac
import importlib
import io
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.test import Client

from api import services, webhooks
from api.models import ApiChannel, WebhookDelivery, WebhookStatus

# Generated once per test session: RSA keys are slow to make.
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
RSA_OTHER = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())


def public_pem(private_key: Any) -> str:
    return private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def citizen_token(*, fin: str, channel: str, key: Any = RSA_KEY, algorithm: str = "RS256", lifetime: int = 120,
                  iat: int | None = None, audience: str | None = None, extra: dict[str, Any] | None = None,
                  **claims: Any) -> str:
    """A citizen assertion as a channel signs it (docs/api.md has the same code). ``fin`` goes
    in ``sub``; ``claims`` and ``extra`` add or override claims (None removes one)."""
    now = int(time.time()) if iat is None else iat
    payload = {"iss": channel, "aud": audience or settings.API_AUDIENCE, "iat": now, "exp": now + lifetime,
               "sub": fin, "jti": uuid.uuid4().hex} | claims | (extra or {})
    return jwt.encode({k: v for k, v in payload.items() if v is not None}, key, algorithm=algorithm)


@dataclass
class Registered:
    """A channel as the administrator left it: its row, its clear API key, its signing key."""

    channel: ApiChannel
    api_key: str
    signing_key: Any
    algorithm: str

    def token(self, fin: str, **kwargs: Any) -> str:
        return citizen_token(fin=fin, channel=self.channel.code, key=self.signing_key, algorithm=self.algorithm,
                             **kwargs)

    def headers(self, fin: str | None = None, **token_kwargs: Any) -> dict[str, str]:
        headers = {"Authorization": f"ApiKey {self.api_key}"}
        if fin is not None:
            headers["X-Citizen-Token"] = self.token(fin, **token_kwargs)
        return headers


def register_channel(code: str, *, name: str = "", signing_key: Any = RSA_KEY, algorithm: str = "RS256",
                     webhook_url: str = "") -> Registered:
    channel = services.api_channel_register(code=code, name=name or code,
                                           citizen_jwt_public_key=public_pem(signing_key),
                                            webhook_url=webhook_url)
    out, err = io.StringIO(), io.StringIO()
    call_command("api_key_create", "--channel", code, stdout=out, stderr=err)
    return Registered(channel=channel, api_key=out.getvalue().strip(), signing_key=signing_key, algorithm=algorithm)


@pytest.fixture
def egov(db: None) -> Registered:
    return register_channel("egov", name="e-gov.az")


@pytest.fixture
def esu(db: None) -> Registered:
    return register_channel("esu", name="e-su.az", signing_key=EC_KEY, algorithm="ES256")


@pytest.fixture
def default_templates(db: None) -> None:
    """Notification templates and reason templates of the data migrations (a transactional test
    elsewhere may have flushed them)."""
    from claims.models import ReasonTemplate
    from notifications.models import NotificationTemplate

    if not NotificationTemplate.objects.exists():
        importlib.import_module("notifications.migrations.0002_default_templates").load(apps, None)
    if not ReasonTemplate.objects.exists():
        importlib.import_module("claims.migrations.0003_reason_templates").load(apps, None)


class Api:
    """The Django test client speaking for a channel (and a citizen)."""

    def __init__(self, registered: Registered, fin: str | None = None):
        self.registered = registered
        self.fin = fin
        self.client = Client()

    def headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        return self.registered.headers(self.fin) | (extra or {})

    def get(self, path: str, headers: dict[str, str] | None = None, **kwargs: Any) -> Any:
        return self.client.get(f"/api/v1{path}", headers=self.headers(headers), **kwargs)

    def post(self, path: str, data: Any = None, headers: dict[str, str] | None = None, **kwargs: Any) -> Any:
        return self.client.post(f"/api/v1{path}", data=data or {}, headers=self.headers(headers), **kwargs)


@pytest.fixture
def api_for() -> Callable[..., Api]:
    return Api


def claim_form(account: Any, invoice_number: str | None = None, *, photos: dict[str, Any], **overrides: Any) -> dict:
    """A complete claim form for the account's latest invoice, one reading and photo a meter."""
    from billing.models import Invoice

    invoice = Invoice.objects.filter(account=account).order_by("-period").first()
    number = invoice_number or invoice.number
    form: dict[str, Any] = {
        "subscriber_code": account.subscriber_code, "invoice_number": number, "reason": "misread",
        "reason_text": "", "phone": "050 123 45 67", "email": "resad@example.az", "comment": "Sayğac düz oxunmayıb",
        "language": "az", "consent": "true",
    }
    for i, meter in enumerate(account.meters.order_by("serial_number")):
        form[f"reading[{meter.serial_number}]"] = str(1490 + i)
        form[f"photo[{meter.serial_number}]"] = photos[meter.serial_number]
    form.update(overrides)
    return {k: v for k, v in form.items() if v is not None}


# --- The webhook endpoint -------------------------------------------------------------------------------


@dataclass
class WebhookEndpoint:
    """A channel's callback URL: a real HTTP server on loopback. ``script`` holds the statuses of
    the next answers (then 200); every request is recorded; ``accepted`` holds the bodies it
    answered 2xx to."""

    url: str = ""
    script: list[int] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    accepted: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self) -> int:
        with self.lock:
            return self.script.pop(0) if self.script else 200


def verify_signature(header: str, body: bytes, secret: str, *, tolerance: int = 300) -> bool:
    """What a channel does with X-Signature (docs/api.md has the same code)."""
    parts = dict(p.split("=", 1) for p in header.split(","))
    timestamp = int(parts["t"])
    if abs(time.time() - timestamp) > tolerance:
        return False
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts["v1"])


def _handler(endpoint: WebhookEndpoint) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server API
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            record = {"path": self.path, "headers": dict(self.headers.items()), "body": body,
                      "json": json.loads(body.decode())}
            status = endpoint.answer()
            with endpoint.lock:
                endpoint.requests.append(record)
                if 200 <= status < 300:
                    endpoint.accepted.append(record)
            data = b"{}" if status < 300 else b'{"error": "down for maintenance"}'
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet test output
            pass

    return Handler


@pytest.fixture
def webhook_endpoint() -> Iterator[WebhookEndpoint]:
    endpoint = WebhookEndpoint()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(endpoint))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    endpoint.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/borc"
    try:
        yield endpoint
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def drive_webhooks(rounds: int = 12) -> list[WebhookDelivery]:
    """Run the send service over every pending delivery until none is pending, moving each
    retry's next_attempt_at into the past instead of waiting for it."""
    from datetime import timedelta

    from django.utils import timezone

    for _ in range(rounds):
        pending = list(WebhookDelivery.objects.filter(status=WebhookStatus.CREATED).order_by("id")
                       .values_list("pk", flat=True))
        if not pending:
            break
        for pk in pending:
            webhooks.webhook_send(delivery_id=pk)
        WebhookDelivery.objects.filter(status=WebhookStatus.CREATED).update(
            next_attempt_at=timezone.now() - timedelta(seconds=1))
    return list(WebhookDelivery.objects.order_by("id"))


@pytest.fixture
def dummy_tasks() -> Iterator[Any]:
    """The Dummy task backend of the test settings: it records enqueued tasks, runs nothing."""
    from django_tasks import task_backends

    backend = task_backends["default"]
    backend.clear()  # type: ignore[attr-defined]
    yield backend
    backend.clear()  # type: ignore[attr-defined]
