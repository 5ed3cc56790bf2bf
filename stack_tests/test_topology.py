"""The production topology, taken apart while claims are filed.

`scripts/stack.py` starts PostgreSQL, Redis, S3 (moto), nginx, two gunicorn instances, two task
workers, the scheduler, the SMTP sink and the SMS stand-in. As an integrator would, the test
files claims with meter photos through nginx with the channel API. Then, while a channel keeps
filing, it SIGKILLs one gunicorn and one worker, stops and starts PostgreSQL and Redis, and
shows afterwards:

- every claim the API acknowledged (201, or 200 for a repeated Idempotency-Key) is stored once;
- every e-mail and SMS the claims caused reached its sink exactly once;
- the killed processes were started again by the process manager;
- `/readyz` answered 503 while PostgreSQL or Redis was down and 200 after;
- a channel's rate limit holds across both gunicorn instances (they share Redis);
- the photos are objects in the private bucket, under keys without personal data.
"""

# The commands run here are built from fixed paths and the stack's own description.
# ruff: noqa: S603, S607, S310
from __future__ import annotations

import email
import email.policy
import json
import os
import shutil
import signal
import subprocess
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from stack_tests.client import Answer, Filing, http, meter_photo, multipart, results
from testkit.net import free_port

BASE = Path(__file__).resolve().parent.parent
PY = str(BASE / ".venv" / "bin" / "python")
STACK_DIR = BASE / "var" / "stack-test"  # under the project: the private PostgreSQL's user must reach it
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PUBLIC_PEM = KEY.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()


@dataclass
class Stack:
    proc: subprocess.Popen[str]
    info: dict[str, Any]
    output: list[str] = field(default_factory=list)

    @property
    def site(self) -> str:
        return str(self.info["site"])

    def env(self) -> dict[str, str]:
        keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TZ")}
        return keep | self.info["env"]

    def manage(self, *args: str, code: str | None = None) -> str:
        command = [PY, "manage.py", *args] if code is None else [PY, "manage.py", "shell", "--no-imports", "-c", code]
        done = subprocess.run(command, cwd=BASE, env=self.env(), capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout

    def ctl(self, *args: str) -> str:
        return subprocess.run([*self.info["supervisorctl"], *args], cwd=BASE, capture_output=True, text=True,
                              timeout=60).stdout

    def pid(self, program: str) -> int:
        return int(self.ctl("pid", program).strip() or 0)

    def running(self) -> dict[str, str]:
        states = {}
        for line in self.ctl("status").splitlines():
            parts = line.split()
            if len(parts) >= 2:
                states[parts[0].split(":")[-1]] = parts[1]
        return states

    def pg_ctl(self, action: str) -> None:
        pg = self.info["postgres"]
        command = [*pg["as_user"], f"{pg['bin']}/pg_ctl", "-D", pg["data"], "-l", pg["log"], "-o", pg["options"],
                   "-w", "-t", "60", "-m", "fast", action]
        subprocess.run(command, check=True, capture_output=True, timeout=90, start_new_session=True)

    def readyz(self) -> int:
        try:
            return http("GET", f"{self.site}/readyz", timeout=10).status
        except OSError:
            return 0

    def wait_readyz(self, status: int, timeout: float = 90) -> float:
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.readyz() == status:
                return time.monotonic() - started
            time.sleep(0.5)
        raise AssertionError(f"/readyz did not answer {status} within {timeout} s")


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    port = free_port()
    # Not the test run's settings (pytest-django and config.settings_test set variables in this
    # process): the stack starts from a bare environment, as `make stack` from a terminal.
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "USER", "LOGNAME")}
    env |= {
        "STACK_PORT": str(port),
        "STACK_DIR": str(STACK_DIR),
        "DEMO_ACCOUNTS": "60",
        # Retries of a delivery come quickly, and the sweep that finds lost tasks runs often.
        "DELIVERY_BACKOFF_SECONDS": "2",
        "DELIVERY_BACKOFF_BASE": "2",
        "DELIVERY_BACKOFF_CAP": "5",
        # A row left "sending" by a killed worker is taken up again after this long.
        "DELIVERY_STALE_SECONDS": "15",
        "SCHEDULER_INTERVAL": "5",
        "STACK_SCHEDULERS": "2",  # two schedulers: each job still runs once a period
    }
    if STACK_DIR.exists():
        shutil.rmtree(STACK_DIR)
    proc = subprocess.Popen([PY, "scripts/stack.py"], cwd=BASE, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    output: list[str] = []
    assert proc.stdout is not None
    started = time.monotonic()
    for line in proc.stdout:
        output.append(line)
        if "running; Ctrl-C stops everything" in line:
            break
        if time.monotonic() - started > 600:
            break
    else:
        raise AssertionError("the stack stopped while starting:\n" + "".join(output[-60:]))
    assert (STACK_DIR / "stack.json").exists(), "".join(output[-60:])
    # Keep reading its output so that its pipe never fills up.
    threading.Thread(target=lambda: [output.append(line) for line in proc.stdout or []], daemon=True).start()
    running = Stack(proc=proc, info=json.loads((STACK_DIR / "stack.json").read_text()), output=output)
    try:
        yield running
    finally:
        proc.send_signal(signal.SIGINT)  # Ctrl-C
        try:
            proc.wait(timeout=180)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            raise
        # Nothing of it is left running.
        time.sleep(1)
        left = subprocess.run(["pgrep", "-af", str(STACK_DIR)], capture_output=True, text=True).stdout.strip()
        assert not left, f"processes left after Ctrl-C:\n{left}"
        assert proc.returncode == 0, "".join(output[-40:])


class Channel:
    """A channel (e-gov.az) as its integrator writes it: API key, citizen assertions signed with
    its own key, an Idempotency-Key per claim, a retry of the same request after a failure."""

    def __init__(self, stack: Stack, code: str, api_key: str) -> None:
        self.stack, self.code, self.api_key = stack, code, api_key

    def headers(self, fin: str | None = None) -> dict[str, str]:
        headers = {"Authorization": f"ApiKey {self.api_key}", "Accept-Language": "az"}
        if fin:
            now = int(time.time())
            headers["X-Citizen-Token"] = jwt.encode(
                {"iss": self.code, "aud": self.stack.info["env"].get("API_AUDIENCE", f"{self.stack.site}/api/"),
                 "iat": now, "exp": now + 120, "sub": fin, "jti": uuid.uuid4().hex}, KEY, algorithm="RS256")
        return headers

    def get(self, path: str, fin: str | None = None, base: str | None = None) -> Answer:
        return http("GET", f"{base or self.stack.site}/api/v1{path}", headers=self.headers(fin))

    def file(self, filing: Filing, n: int) -> Answer:
        fields = {"subscriber_code": filing.subscriber_code, "invoice_number": filing.invoice_number,
                  "reason": "misread", "reason_text": "", "phone": f"050 {200 + n // 100:03d} {n % 100:02d} 11",
                  "email": filing.email, "comment": "Sayğac düz oxunmayıb", "language": "az", "consent": "true"}
        files = {}
        for i, serial in enumerate(filing.meters):
            fields[f"reading[{serial}]"] = str(1490 + i)
            files[f"photo[{serial}]"] = (f"sayğac-{i}.jpg", meter_photo(n * 10 + i), "image/jpeg")
        body, content_type = multipart(fields, files)
        headers = self.headers(filing.fin) | {"Content-Type": content_type, "Idempotency-Key": filing.key}
        return http("POST", f"{self.stack.site}/api/v1/claims/", body=body, headers=headers, timeout=40)

    def file_until_acknowledged(self, filing: Filing, n: int, give_up_at: float) -> None:
        """The same request (same Idempotency-Key) again after a failure, as a channel does."""
        while time.monotonic() < give_up_at:
            try:
                answer = self.file(filing, n)
            except OSError as e:
                filing.attempts.append(type(e).__name__)
                time.sleep(1)
                continue
            filing.attempts.append(str(answer.status))
            if answer.status in (200, 201):
                filing.number = answer.json()["number"]
                return
            if answer.status < 500 and answer.status not in (408, 429):
                raise AssertionError(f"claim refused: {answer.status} {answer.body[:500]!r}")
            time.sleep(1)


def register_channel(stack: Stack, code: str, rate: int) -> Channel:
    stack.manage(code=(
        "from api import services\n"
        f"c = services.api_channel_register(code={code!r}, name={code!r}, citizen_jwt_public_key={PUBLIC_PEM!r})\n"
        f"c.rate_per_minute = {rate}; c.citizen_rate_per_minute = {rate}; c.save()\n"))
    api_key = stack.manage("api_key_create", "--channel", code).strip()
    return Channel(stack, code, api_key)


USED_INVOICES: set[str] = set()


def filings(stack: Stack, channel: Channel, wanted: int) -> list[Filing]:
    """Accounts of citizens with their latest invoices and meters, read through the API; an
    invoice is handed out once per run (a second claim on it would be refused)."""
    holders = json.loads(stack.manage(code=(
        "import json\nfrom billing.models import Account\n"
        "print(json.dumps(list(Account.objects.exclude(holder_fin='').filter(meters__isnull=False).distinct()"
        ".order_by('subscriber_code').values_list('holder_fin', 'subscriber_code')[:80])))")))
    out: list[Filing] = []
    for fin, code in holders:
        invoices = channel.get(f"/accounts/{code}/invoices/", fin)
        assert invoices.status == 200, invoices.body[:300]
        for invoice in results(invoices.json())[:3]:
            if invoice["number"] in USED_INVOICES:
                continue
            USED_INVOICES.add(invoice["number"])
            meters = results(channel.get(f"/accounts/{code}/invoices/{invoice['number']}/meters/", fin).json())
            out.append(Filing(fin=fin, subscriber_code=code, invoice_number=invoice["number"],
                              meters=[m["serial_number"] for m in meters]))
            out[-1].email = f"stack-{len(USED_INVOICES)}@example.az"
            if len(out) >= wanted:
                return out
    return out


def sink_emails(stack: Stack) -> list[email.message.EmailMessage]:
    messages = []
    for path in sorted(Path(stack.info["mail_dir"]).glob("*.eml")):
        messages.append(email.message_from_bytes(path.read_bytes(), policy=email.policy.default))
    return messages  # type: ignore[return-value]


def sink_sms(stack: Stack) -> list[dict[str, Any]]:
    path = Path(stack.info["sms_file"])
    return [json.loads(line) for line in path.read_text("utf-8").splitlines()] if path.exists() else []


def deliveries(stack: Stack) -> list[dict[str, Any]]:
    return json.loads(stack.manage(code=(
        "import json\nfrom notifications.models import Delivery\n"
        "print(json.dumps([dict(id=d.id, claim=d.claim.number if d.claim else None, medium=d.medium, "
        "status=d.status, recipient=d.recipient, subject=d.subject, body=d.body) "
        "for d in Delivery.objects.select_related('claim').order_by('id')]))")))


def assert_exactly_once(email_rows: list[dict[str, Any]], mails: list[Any], sms_rows: list[dict[str, Any]],
                        texts: list[dict[str, Any]]) -> None:
    """Each delivery row is one message at its sink, as the receiver counts: a re-send after a
    crash carries the same reference (Message-ID, the SMS client reference) and is dropped."""
    distinct: dict[str, Any] = {}
    for m in mails:
        distinct.setdefault(str(m["Message-ID"]).strip(), m)
    received_mail = Counter((str(m["To"]).strip(), " ".join(str(m["Subject"]).split())) for m in distinct.values())
    for d in email_rows:
        assert received_mail[(d["recipient"], " ".join(d["subject"].split()))] == 1, d
    received_sms = Counter((s["to"], s["text"]) for s in texts)
    for d in sms_rows:
        assert received_sms[(d["recipient"], d["body"])] == 1, d


def wait_until(what: str, check: Any, timeout: float) -> None:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if check():
            return
        time.sleep(1)
    raise AssertionError(f"{what}: not within {timeout:.0f} s")


def test_the_topology_keeps_every_claim_and_message_through_kills_and_restarts(stack: Stack) -> None:
    channel = register_channel(stack, "egov", rate=100_000)
    work = filings(stack, channel, wanted=70)
    assert len(work) >= 40

    # 1. One claim with its photos through nginx: the photos are in the bucket, the e-mail and
    #    the SMS at the sinks.
    first = work.pop(0)
    channel.file_until_acknowledged(first, 0, time.monotonic() + 60)
    assert first.number, first.attempts
    stored = json.loads(stack.manage(code=(
        "import json\nfrom claims.models import Claim\n"
        f"c = Claim.objects.get(number={first.number!r})\n"
        "print(json.dumps([e.photo.name for e in c.evidence.all()]))")))
    assert len(stored) == len(first.meters) and all(stored)
    import boto3

    env = stack.info["env"]
    s3 = boto3.client("s3", endpoint_url=env["AWS_S3_ENDPOINT_URL"], aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                      aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"], region_name=env["AWS_S3_REGION_NAME"])
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=stack.info["bucket"]).get("Contents", [])}
    for name in stored:
        assert name in keys, (name, sorted(keys)[:10])
        assert first.fin not in name and "stack-" not in name  # no FIN, no e-mail in the key
        assert s3.head_object(Bucket=stack.info["bucket"], Key=name)["ContentLength"] > 1000
    # The bucket is private: the object is not readable without credentials.
    anonymous = http("GET", f"{env['AWS_S3_ENDPOINT_URL']}/{stack.info['bucket']}/{stored[0]}")
    assert anonymous.status in (401, 403), anonymous.status
    wait_until("the first claim's e-mail and SMS at the sinks", lambda: any(
        first.number in m.get_body(("plain",)).get_content() for m in sink_emails(stack)
    ) and any(first.number in s["text"] for s in sink_sms(stack)), timeout=90)

    # 2. Rate limits are shared: 12 calls of a channel limited to 10 a minute, alternating
    #    between the two gunicorn instances directly, give 10 answers and 2 refusals.
    limited = register_channel(stack, "esu", rate=10)
    statuses = [limited.get("/reasons/", base=f"http://127.0.0.1:{stack.info['ports'][f'web-{1 + i % 2}']}").status
                for i in range(12)]
    assert Counter(statuses) == {200: 10, 429: 2}, statuses

    # 3. A channel keeps filing while processes die and PostgreSQL and Redis restart.
    stop_filing = threading.Event()
    filed: list[Filing] = [first]

    def keep_filing() -> None:
        for n, filing in enumerate(work, start=1):
            if stop_filing.is_set():
                return
            filed.append(filing)
            channel.file_until_acknowledged(filing, n, time.monotonic() + 240)
            time.sleep(0.3)

    loader = threading.Thread(target=keep_filing, daemon=True)
    loader.start()
    time.sleep(5)

    web_pid, worker_pid = stack.pid("app:web-1"), stack.pid("app:worker-1")
    os.kill(web_pid, signal.SIGKILL)
    os.kill(worker_pid, signal.SIGKILL)
    wait_until("web-1 and worker-1 running again under new process ids", lambda: (
        stack.running().get("web-1") == "RUNNING" and stack.running().get("worker-1") == "RUNNING"
        and stack.pid("app:web-1") not in (0, web_pid) and stack.pid("app:worker-1") not in (0, worker_pid)),
        timeout=90)

    stack.pg_ctl("stop")
    stack.wait_readyz(503, timeout=30)
    time.sleep(5)  # filing goes on against a dead database
    stack.pg_ctl("start")
    stack.wait_readyz(200, timeout=90)

    stack.ctl("stop", "infra:redis")
    stack.wait_readyz(503, timeout=30)
    time.sleep(5)
    stack.ctl("start", "infra:redis")
    stack.wait_readyz(200, timeout=90)

    time.sleep(5)
    stop_filing.set()
    loader.join(timeout=300)
    assert not loader.is_alive()

    # 4. Every acknowledged claim is stored once.
    acknowledged = [f for f in filed if f.number]
    assert len(acknowledged) == len(filed), [(f.email, f.attempts) for f in filed if not f.number]
    attempts = Counter(a for f in filed for a in f.attempts)
    print("filings:", len(filed), "attempts:", attempts)
    assert len(acknowledged) >= 5
    assert attempts["503"] >= 1, attempts  # filings did meet the outages
    # During the outages the API answered 503 (try again), never 500; nginx answers 502 only for
    # the request that the killed gunicorn held.
    assert attempts["500"] == 0, attempts
    claims = json.loads(stack.manage(code=(
        "import json\nfrom claims.models import Claim\n"
        "print(json.dumps(list(Claim.objects.values_list('number', 'email'))))")))
    by_email = Counter(e for _, e in claims)
    for f in acknowledged:
        assert by_email[f.email] == 1, (f.email, f.attempts)
        assert [n for n, e in claims if e == f.email] == [f.number]

    # 5. Every notification is delivered, and exactly once at the sinks.
    expected_claims = {f.number for f in acknowledged}

    def all_delivered() -> bool:
        rows = [d for d in deliveries(stack) if d["claim"] in expected_claims]
        return bool(rows) and all(d["status"] == "delivered" for d in rows)

    wait_until("every delivery of the filed claims delivered", all_delivered, timeout=240)
    rows = [d for d in deliveries(stack) if d["claim"] in expected_claims]
    mails = sink_emails(stack)
    texts = sink_sms(stack)
    for number in expected_claims:
        mine = [d for d in rows if d["claim"] == number]
        assert {d["medium"] for d in mine} == {"email", "sms"}, mine
    email_rows = [d for d in rows if d["medium"] == "email"]
    sms_rows = [d for d in rows if d["medium"] == "sms"]
    assert_exactly_once(email_rows, mails, sms_rows, texts)

    # 6. The killed processes are back and everything runs.
    wait_until("every program running again", lambda: all(s == "RUNNING" for s in stack.running().values()),
               timeout=60)
    assert stack.readyz() == 200

    # 7. The business gauges and request metrics are there, behind the token.
    assert http("GET", f"{stack.site}/metrics").status in (401, 403)
    metrics = http("GET", f"{stack.site}/metrics", headers={"Authorization": f"Bearer {env['METRICS_TOKEN']}"})
    assert metrics.status == 200
    text = metrics.body.decode()
    for name in ("claims_open{", "claims_overdue ", "deliveries_failed{", "http_requests_total{",
                 "http_request_duration_seconds_bucket{"):
        assert name in text, (name, text[:2000])


def test_messages_survive_gateway_outages_and_a_worker_killed_mid_send(stack: Stack) -> None:
    """The e-mail relay down for longer than a five-attempt budget would last, the SMS gateway
    answering 500, a worker killed while the backlog is being sent: afterwards every message of
    the claims filed meanwhile is at its sink exactly once (after the receivers drop repeats by
    reference), none is failed, and every process runs."""
    started = time.time()
    channel = register_channel(stack, "azersu_web", rate=100_000)
    work = filings(stack, channel, wanted=8)
    assert len(work) >= 6
    sms_control = f"http://127.0.0.1:{stack.info['ports']['sms']}/_control"

    stack.ctl("stop", "infra:smtp")
    assert http("POST", sms_control, body=b'{"down": true, "status": 500}').status == 200
    outage_started = time.monotonic()
    for n, filing in enumerate(work, start=500):
        channel.file_until_acknowledged(filing, n, time.monotonic() + 60)
        assert filing.number, filing.attempts
    numbers = {f.number for f in work}

    # Longer than the old budget (5 attempts with this backoff: about 20 s): still retrying.
    time.sleep(max(0.0, 45 - (time.monotonic() - outage_started)))
    rows = [d for d in deliveries(stack) if d["claim"] in numbers]
    assert rows and not [d for d in rows if d["status"] in ("failed", "delivered")], rows

    # The relays come back; a worker is killed while the backlog goes out.
    stack.ctl("start", "infra:smtp")
    assert http("POST", sms_control, body=b'{"down": false}').status == 200
    time.sleep(1.5)
    killed = stack.pid("app:worker-2")
    os.kill(killed, signal.SIGKILL)

    def all_delivered() -> bool:
        rows = [d for d in deliveries(stack) if d["claim"] in numbers]
        return all(d["status"] == "delivered" for d in rows)

    wait_until("every message of the claims filed during the outage delivered", all_delivered, timeout=300)
    rows = [d for d in deliveries(stack) if d["claim"] in numbers]
    assert not [d for d in deliveries(stack) if d["status"] == "failed"]
    assert_exactly_once([d for d in rows if d["medium"] == "email"], sink_emails(stack),
                        [d for d in rows if d["medium"] == "sms"], sink_sms(stack))
    # The killed worker is started again (supervisord counts it running after a few seconds up;
    # the backlog may be out before that, sent by the other worker).
    wait_until("every program running again", lambda: all(s == "RUNNING" for s in stack.running().values()),
               timeout=60)
    assert stack.pid("app:worker-2") not in (0, killed)

    # Two schedulers ran all along (STACK_SCHEDULERS=2): the sweep was enqueued once a period.
    enqueued = json.loads(stack.manage(code=(
        "import datetime, json\nfrom django_tasks_db.models import DBTaskResult\n"
        f"since = datetime.datetime.fromtimestamp({started}, datetime.UTC)\n"
        "print(json.dumps([t.enqueued_at.timestamp() for t in DBTaskResult.objects.filter("
        "task_path='notifications.tasks.sweep_deliveries', enqueued_at__gte=since).order_by('enqueued_at')]))")))
    assert len(enqueued) >= 5
    gaps = [b - a for a, b in zip(enqueued, enqueued[1:], strict=False)]
    assert min(gaps) > 2.5, gaps  # the period is 5 s: two in one period would be a fraction apart
