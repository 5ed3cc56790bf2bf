"""Nothing is lost, nothing arrives twice, nothing arrives out of order: deliveries against the
real SMTP sink (scripts/smtp_sink.py) and the SMS gateway stand-in (scripts/sms_standin.py), each
run as its own process on loopback, with the backoff shortened by settings and the periodic
sweep (what ``run_periodic`` calls) driving the retries, as in production."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.db import connection, transaction

from notifications.models import Delivery, DeliveryStatus, Event, Medium
from notifications.services import deliveries_sweep, notification_queue
from testkit.net import free_port

pytestmark = pytest.mark.django_db(transaction=True)

SCRIPTS = Path(django_settings.BASE_DIR) / "scripts"
IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend",
                         "QUEUES": ["default", "notifications"]}}


def _wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"{process.args} exited with {process.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError(f"{process.args} did not listen on {port}")


@dataclass
class SmtpSink:
    """scripts/smtp_sink.py as a process that can be stopped (the relay is down) and started
    again on the same port."""

    port: int
    directory: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603 - our own script
            [sys.executable, str(SCRIPTS / "smtp_sink.py"), "--port", str(self.port), "--dir", str(self.directory)],
            stdout=subprocess.DEVNULL)
        _wait_for_port(self.port, self.process)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)

    def index(self) -> list[dict[str, Any]]:
        path = self.directory / "index.jsonl"
        return [json.loads(line) for line in path.read_text("utf-8").splitlines()] if path.exists() else []


@dataclass
class SmsStandin:
    url: str
    process: subprocess.Popen[bytes]

    def get(self, path: str) -> Any:
        with urllib.request.urlopen(self.url + path, timeout=5) as response:  # noqa: S310 - loopback
            return json.loads(response.read())

    def control(self, **command: Any) -> None:
        request = urllib.request.Request(  # noqa: S310 - loopback
            self.url + "/_control", data=json.dumps(command).encode(), method="POST")
        urllib.request.urlopen(request, timeout=5).close()  # noqa: S310 - loopback


@pytest.fixture
def fast_retries(settings: Any) -> None:
    """Waits of 50 ms doubling to 200 ms (instead of 30 s to 15 min), a horizon of ten minutes."""
    settings.TASKS = IMMEDIATE
    settings.DELIVERY_BACKOFF_BASE = 0.05
    settings.DELIVERY_BACKOFF_CAP = 0.2
    settings.DELIVERY_RETRY_HORIZON = 600
    settings.DELIVERY_MAX_ATTEMPTS = 0
    settings.DELIVERY_STALE_SECONDS = 0.2


@pytest.fixture
def smtp_sink(settings: Any, tmp_path: Path) -> Iterator[SmtpSink]:
    sink = SmtpSink(port=free_port(), directory=tmp_path / "mail")
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", sink.port, 5
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    yield sink
    sink.stop()


@pytest.fixture
def sms_standin(settings: Any, tmp_path: Path) -> Iterator[SmsStandin]:
    port = free_port()
    process = subprocess.Popen(  # noqa: S603 - our own script
        [sys.executable, str(SCRIPTS / "sms_standin.py"), "--port", str(port), "--out", str(tmp_path / "sms.jsonl"),
         "--user", "borc", "--password", "gw-pass"], stdout=subprocess.DEVNULL)
    _wait_for_port(port, process)
    settings.SMS_BACKEND = "notifications.sms.HttpGatewaySmsBackend"
    settings.SMS_GATEWAY_URL = f"http://127.0.0.1:{port}/send"
    settings.SMS_GATEWAY_USER, settings.SMS_GATEWAY_PASSWORD = "borc", "gw-pass"
    settings.SMS_TIMEOUT = 5
    yield SmsStandin(url=f"http://127.0.0.1:{port}", process=process)
    process.terminate()
    process.wait(10)


def pump(until: Callable[[], bool], *, timeout: float = 30) -> None:
    """Run the periodic sweep (which enqueues due retries; the immediate task backend runs them)
    until ``until()`` holds."""
    deadline = time.monotonic() + timeout
    while not until():
        if time.monotonic() > deadline:
            raise AssertionError(f"not settled: {list(Delivery.objects.values_list('pk', 'medium', 'status'))}")
        deliveries_sweep()
        time.sleep(0.05)


def all_delivered() -> bool:
    return not Delivery.objects.exclude(status=DeliveryStatus.DELIVERED).exists()


def queue(claim: Any, *events: str) -> list[Delivery]:
    with transaction.atomic():  # as a claim's change does; the tasks run on commit
        return [d for event in events for d in notification_queue(claim=claim, event=event)]


@pytest.mark.usefixtures("fast_retries")
def test_smtp_down_longer_than_the_old_retry_budget_delivers_everything_after_recovery(
        make_claim, smtp_sink, settings):
    settings.SMS_BACKEND = "notifications.sms.LocmemSmsBackend"
    claims = [make_claim() for _ in range(3)]
    for claim in claims:
        queue(claim, Event.REGISTERED)
    emails = Delivery.objects.filter(medium=Medium.EMAIL)

    # The relay is down while the e-mails are tried again and again: far more than the five
    # attempts that used to fail a message for good.
    pump(lambda: min(emails.values_list("attempts", flat=True)) >= 8)
    assert set(emails.values_list("status", flat=True)) == {DeliveryStatus.CREATED}
    assert all("ConnectionRefusedError" in e for e in emails.values_list("last_error", flat=True))

    smtp_sink.start()
    pump(all_delivered)

    index = smtp_sink.index()
    assert sorted(entry["to"][0] for entry in index) == sorted(c.email for c in claims)
    assert not any(entry["duplicate"] for entry in index)
    assert not Delivery.objects.filter(status=DeliveryStatus.FAILED).exists()


@pytest.mark.usefixtures("fast_retries")
def test_an_sms_gateway_answering_500_is_retried_until_it_recovers(make_claim, sms_standin, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    sms_standin.control(down=True, status=500)
    claims = [make_claim(phone=f"+99450123450{i}") for i in range(3)]
    for claim in claims:
        queue(claim, Event.REGISTERED)
    sms_rows = Delivery.objects.filter(medium=Medium.SMS)
    pump(lambda: min(sms_rows.values_list("attempts", flat=True)) >= 6)
    assert "HTTP 500" in sms_rows.first().last_error

    sms_standin.control(down=False)
    pump(all_delivered)

    stats = sms_standin.get("/stats")
    assert stats["accepted"] == 3 and stats["failed"] >= 18 and stats["duplicates"] == 0
    assert sorted(m["to"] for m in sms_standin.get("/messages")) == sorted(c.phone for c in claims)
    assert {m["reference"] for m in sms_standin.get("/messages")} == {f"borc-{pk}" for pk in sms_rows.values_list(
        "pk", flat=True)}


@pytest.fixture
def marking_delivered_fails() -> Iterator[Callable[[], None]]:
    """The database refuses to mark a delivery delivered (as when PostgreSQL restarts right after
    the provider took the message), until the returned function is called."""
    table = Delivery._meta.db_table
    if connection.vendor == "postgresql":
        create = [
            "CREATE FUNCTION refuse_delivered() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "IF NEW.status = 'delivered' THEN RAISE EXCEPTION 'the database went away'; END IF; RETURN NEW; END $$",
            f"CREATE TRIGGER refuse_delivered BEFORE UPDATE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION refuse_delivered()",
        ]
        drop = [f"DROP TRIGGER IF EXISTS refuse_delivered ON {table}", "DROP FUNCTION IF EXISTS refuse_delivered()"]
    else:
        create = [f"CREATE TRIGGER refuse_delivered BEFORE UPDATE ON {table} WHEN NEW.status = 'delivered' "
                  "BEGIN SELECT RAISE(ABORT, 'the database went away'); END"]
        drop = ["DROP TRIGGER IF EXISTS refuse_delivered"]

    def recover() -> None:
        with connection.cursor() as cursor:
            for sql in drop:
                cursor.execute(sql)

    with connection.cursor() as cursor:
        for sql in create:
            cursor.execute(sql)
    yield recover
    recover()


@pytest.mark.usefixtures("fast_retries")
def test_a_message_the_gateway_took_but_that_was_not_marked_delivered_arrives_once(
        make_claim, sms_standin, smtp_sink, settings, marking_delivered_fails):
    smtp_sink.start()
    claim = make_claim()
    queue(claim, Event.REGISTERED)  # both providers take the message; recording it fails
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.SENDING}
    assert sms_standin.get("/stats")["accepted"] == 1 and len(smtp_sink.index()) == 1

    marking_delivered_fails()  # the database is back
    pump(all_delivered)  # the sweep takes the rows for lost and sends them again

    stats = sms_standin.get("/stats")
    assert (stats["accepted"], stats["duplicates"]) == (1, 1)  # the repeat was dropped by its reference
    [message] = sms_standin.get("/messages")
    assert message["to"] == claim.phone
    index = smtp_sink.index()
    assert [entry["duplicate"] for entry in index] == [False, True]  # the same Message-ID twice
    assert len({entry["message_id"] for entry in index}) == 1


@pytest.mark.usefixtures("fast_retries")
def test_the_messages_of_a_claim_reach_the_citizen_in_order(make_claim, sms_standin, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    sms_standin.control(fail=1, status=503)  # the first SMS ("registered") fails once
    claim = make_claim()
    registered, forwarded = [d for d in queue(claim, Event.REGISTERED, Event.FORWARDED) if d.medium == Medium.SMS]

    pump(all_delivered)

    assert [m["reference"] for m in sms_standin.get("/messages")] == [f"borc-{registered.pk}",
                                                                     f"borc-{forwarded.pk}"]
    forwarded.refresh_from_db()
    assert forwarded.attempts == 1  # it waited without using an attempt


@pytest.mark.usefixtures("fast_retries")
def test_a_form_encoded_gateway_gets_the_same_message(make_claim, sms_standin, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SMS_GATEWAY_FORMAT = "form"
    claim = make_claim()
    [sms_row] = [d for d in queue(claim, Event.REGISTERED) if d.medium == Medium.SMS]
    pump(all_delivered)
    [message] = sms_standin.get("/messages")
    assert (message["to"], message["text"], message["reference"]) == (claim.phone, sms_row.body, f"borc-{sms_row.pk}")
