"""Fixtures of the notifications tests: a claim built directly with the ORM, a real SMTP server
on loopback (aiosmtpd) and a real HTTP server standing in for the SMS gateway."""

from __future__ import annotations

import base64
import email
import email.policy
import importlib
import itertools
import json
import signal
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from django.apps import apps
from django.utils import timezone

from notifications import sms
from notifications.models import NotificationTemplate
from testkit.net import free_port

_seq = itertools.count(1)


@pytest.fixture(autouse=True)
def _empty_sms_outbox() -> Iterator[None]:
    sms.outbox.clear()
    yield
    sms.outbox.clear()


@pytest.fixture
def default_templates(db: None) -> None:
    """The default templates of migration 0002. A transactional test elsewhere in the suite
    may have flushed them (a flush drops data migrations' rows), so load them when missing."""
    if not NotificationTemplate.objects.exists():
        importlib.import_module("notifications.migrations.0002_default_templates").load(apps, None)
        importlib.import_module("notifications.migrations.0005_law_rules_events").load(apps, None)
        importlib.import_module("notifications.migrations.0006_plain_outcome").forwards(apps, None)


@pytest.fixture
def dummy_tasks() -> Any:
    """The Dummy task backend of the test settings: it records enqueued tasks, runs nothing."""
    from django_tasks import task_backends

    backend = task_backends["default"]
    backend.clear()  # type: ignore[attr-defined]
    yield backend
    backend.clear()  # type: ignore[attr-defined]


@pytest.fixture
def make_claim(db: None, default_templates: None) -> Callable[..., Any]:
    from billing.models import Branch, TariffZone
    from claims.models import Claim, ReasonTemplate
    from identity.models import LoginMethod, User

    def make(**overrides: Any) -> Claim:
        n = next(_seq)
        branch, _ = Branch.objects.get_or_create(
            code="TEST-BR", defaults={"name": "Test filialı", "region": "Bakı", "zone": TariffZone.BAKU_AREA}
        )
        reason, _ = ReasonTemplate.objects.get_or_create(
            code="test-reason", defaults={"text_az": "Sınaq", "text_en": "Test", "text_ru": "Тест"}
        )
        citizen = overrides.pop("citizen", None) or User.objects.create(
            username=f"citizen-{n}", fin=f"T{n:06d}"[:7], first_name="Əli", last_name="Məmmədov"
        )
        now = timezone.now()
        values: dict[str, Any] = {
            "number": f"BA-2026-{n:06d}",
            "citizen": citizen,
            "login_method": LoginMethod.ID_NUMBER,
            "language": "az",
            "subscriber_code": f"{100000 + n}",
            "invoice_number": f"INV-{n:06d}",
            "branch": branch,
            "reason": reason,
            "phone": "+994501234567",
            "email": f"ali{n}@example.az",
            "consent_at": now,
            "registered_at": now,
            "due_on": date(2026, 2, 20),
            "address": "Bakı ş., Nizami küç. 1, m. 2",
        }
        values.update(overrides)
        return Claim.objects.create(**values)

    return make


@pytest.fixture
def claim(make_claim: Callable[..., Any]) -> Any:
    return make_claim()


# --- SMTP ---------------------------------------------------------------------------------------


class _SmtpHandler:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], email.message.EmailMessage]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd API
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), message))  # type: ignore[arg-type]
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server(settings: Any) -> Iterator[_SmtpHandler]:
    """A real SMTP server on loopback; Django's SMTP backend sends to it."""
    handler = _SmtpHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    try:
        yield handler
    finally:
        controller.stop()


# --- SMS gateway ----------------------------------------------------------------------------------


@dataclass
class SmsGateway:
    """A local HTTP server standing in for the SMS gateway. ``script`` holds the HTTP statuses
    of the next answers (then 200); every request is recorded."""

    url: str = ""
    user: str = "borc"
    password: str = "s3cret-gateway"
    script: list[int] = field(default_factory=list)
    always: int | None = None
    requests: list[dict[str, Any]] = field(default_factory=list)
    accepted: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self) -> int:
        with self.lock:
            if self.always is not None:
                return self.always
            return self.script.pop(0) if self.script else 200


def _gateway_handler(gateway: SmsGateway) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server API
            raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            auth = self.headers.get("Authorization", "")
            user = password = None
            if auth.startswith("Basic "):
                user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
            record = {"path": self.path, "content_type": self.headers.get("Content-Type"), "user": user,
                      "password": password, "json": json.loads(raw.decode("utf-8"))}
            with gateway.lock:
                gateway.requests.append(record)
            status = gateway.answer()
            if user != gateway.user or password != gateway.password:
                status = 401
            if status == 200:
                with gateway.lock:
                    gateway.accepted.append(record)
                    body = {"id": f"gw-{len(gateway.accepted)}", "status": "accepted"}
            else:
                body = {"error": f"status {status}"}
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet test output
            pass

    return Handler


@pytest.fixture
def sms_gateway(settings: Any) -> Iterator[SmsGateway]:
    gateway = SmsGateway()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _gateway_handler(gateway))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    gateway.url = f"http://127.0.0.1:{server.server_address[1]}/v1/messages"
    settings.SMS_BACKEND = "notifications.sms.HttpGatewaySmsBackend"
    settings.SMS_GATEWAY_URL = gateway.url
    settings.SMS_GATEWAY_USER = gateway.user
    settings.SMS_GATEWAY_PASSWORD = gateway.password
    settings.SMS_SENDER = "AZERSU"
    settings.SMS_TIMEOUT = 5
    try:
        yield gateway
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def restore_signals() -> Iterator[None]:
    """db_worker and run_periodic install SIGINT/SIGTERM handlers; give pytest its own back."""
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    yield
    for s, handler in saved.items():
        signal.signal(s, handler)
