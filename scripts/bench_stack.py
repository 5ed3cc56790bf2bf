"""Benchmark the production topology (`scripts/stack.py`) through nginx, against a measured floor.

    STACK_DIR=$PWD/var/stack-bench STACK_PORT=8097 DEMO_ACCOUNTS=300 .venv/bin/python scripts/stack.py &
    .venv/bin/python scripts/bench_stack.py --stack var/stack-bench [--duration 20] [--connections 16,64] \\
        [--claims 60] [--concurrency 4]

Needs `wrk` (apt-get install wrk). Every request goes to nginx, which hands it to one of the two
gunicorn instances, as in production:

1. The floor: `/healthz`, a view that answers without the database: what nginx, gunicorn and
   Django's middleware cost per request on this machine.
2. A public page: `/`, the portal's home.
3. A channel API read: `GET /api/v1/reasons/` with a channel's `Authorization: ApiKey ...`. The
   channel "api" is registered (or its key replaced) as stack_tests/test_topology.py does it,
   with rate limits far above what the run sends.

Each of 1-3 runs under `wrk -t THREADS -c N --latency -d DURATION` for each N, the three targets
one after the other per N, so each ratio to the floor compares figures of the same minute.

4. Filing claims with meter photos through `POST /api/v1/claims/` at CONCURRENCY: a fresh
   citizen assertion (a JWT signed with the channel's key) per request, multipart readings and
   960x720 JPEG photos, an Idempotency-Key each; every claim on an invoice not claimed before.
   Reports claims per second and client-side p50/p95.

Around each phase the script reads `/metrics` of both gunicorn instances (Bearer METRICS_TOKEN
from stack.json) and reports the server-side time of the phase's view (Django's middleware to
the response, without nginx and gunicorn's queue): the request count and the p50/p95 the
histogram's buckets give. Prints a Markdown table for docs/benchmarks.md.
"""

# Commands are built from fixed paths and the stack's own description (stack.json); every URL
# is the stack's loopback address.
# ruff: noqa: S603, S310
from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from prometheus_client.parser import text_string_to_metric_families

BASE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE))
from stack_tests.client import Answer, Filing, http, meter_photo, multipart, results  # noqa: E402 - after the path

PY = str(BASE / ".venv" / "bin" / "python")
CHANNEL = "api"
HIGH_RATE = 10_000_000  # per minute: the channel's limits never throttle the benchmark


# --- The stack and the channel ----------------------------------------------------------------


class Stack:
    def __init__(self, folder: Path) -> None:
        self.info: dict[str, Any] = json.loads((folder / "stack.json").read_text("utf-8"))
        self.site = str(self.info["site"])
        self.token = str(self.info["env"].get("METRICS_TOKEN", ""))
        self.web = [f"http://127.0.0.1:{port}" for name, port in self.info["ports"].items() if name.startswith("web")]

    def manage(self, *args: str, code: str | None = None) -> str:
        keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TZ")}
        command = [PY, "manage.py", *args] if code is None else [PY, "manage.py", "shell", "--no-imports", "-c", code]
        done = subprocess.run(command, cwd=BASE, env=keep | self.info["env"], capture_output=True, text=True,
                              timeout=300)
        if done.returncode != 0:
            raise SystemExit(f"bench: manage.py {' '.join(args) or 'shell'} failed:\n{done.stderr[-3000:]}")
        return done.stdout


class Channel:
    """A channel as its integrator writes it (stack_tests/test_topology.py): an API key, citizen
    assertions signed with its own key, accepted once each."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        public = self.key.public_key().public_bytes(serialization.Encoding.PEM,
                                                     serialization.PublicFormat.SubjectPublicKeyInfo).decode()
        # Registered on the first run; on a later run against the same stack the channel gets
        # this run's public key. Its limits are set high either way.
        stack.manage(code=(
            "from api import services\nfrom api.models import ApiChannel\n"
            f"c = ApiChannel.objects.filter(code={CHANNEL!r}).first()\n"
            f"c = c or services.api_channel_register(code={CHANNEL!r}, name={CHANNEL!r}, "
            f"citizen_jwt_public_key={public!r})\n"
            f"c.citizen_jwt_public_key = {public.strip()!r}\n"
            f"c.rate_per_minute = {HIGH_RATE}; c.citizen_rate_per_minute = {HIGH_RATE}; c.save()\n"))
        self.api_key = stack.manage("api_key_create", "--channel", CHANNEL).strip()
        self.audience = str(stack.info["env"].get("API_AUDIENCE", f"{stack.site}/api/"))

    def headers(self, fin: str | None = None) -> dict[str, str]:
        headers = {"Authorization": f"ApiKey {self.api_key}", "Accept-Language": "az"}
        if fin:
            now = int(time.time())
            headers["X-Citizen-Token"] = jwt.encode(
                {"iss": CHANNEL, "aud": self.audience, "iat": now, "exp": now + 120, "sub": fin,
                 "jti": uuid.uuid4().hex}, self.key, algorithm="RS256")
        return headers

    def get(self, path: str, fin: str | None = None) -> Answer:
        return http("GET", f"{self.stack.site}/api/v1{path}", headers=self.headers(fin), timeout=60)


def filings(stack: Stack, channel: Channel, wanted: int) -> list[Filing]:
    """Invoices of the citizens' own accounts that have no claim yet, with their meters, read
    through the API as a channel would."""
    holders, claimed = json.loads(stack.manage(code=(
        "import json\nfrom billing.models import Account\nfrom claims.models import Claim\n"
        "print(json.dumps([list(Account.objects.exclude(holder_fin='').filter(meters__isnull=False).distinct()"
        ".order_by('subscriber_code').values_list('holder_fin', 'subscriber_code')),"
        " list(Claim.objects.values_list('invoice_number', flat=True))]))")))
    used = set(claimed)
    out: list[Filing] = []
    for fin, code in holders:
        invoices = channel.get(f"/accounts/{code}/invoices/", fin)
        if invoices.status != 200:
            raise SystemExit(f"bench: invoices of {code}: {invoices.status} {invoices.body[:300]!r}")
        for invoice in results(invoices.json()):
            if invoice["number"] in used:
                continue
            used.add(invoice["number"])
            meters = results(channel.get(f"/accounts/{code}/invoices/{invoice['number']}/meters/", fin).json())
            if meters:
                out.append(Filing(fin=fin, subscriber_code=code, invoice_number=invoice["number"],
                                  meters=[m["serial_number"] for m in meters]))
            if len(out) >= wanted:
                return out
    return out


# --- Server-side histogram (/metrics) -------------------------------------------------------


Snapshot = dict[str, dict[float, float]]  # view -> upper bound -> cumulative count (all instances)


def metrics_snapshot(stack: Stack) -> Snapshot:
    snapshot: Snapshot = defaultdict(lambda: defaultdict(float))
    for base in stack.web:  # each instance aggregates its own processes; nginx would pick one
        answer = http("GET", f"{base}/metrics", headers={"Authorization": f"Bearer {stack.token}"}, timeout=30)
        if answer.status != 200:
            raise SystemExit(f"bench: {base}/metrics answered {answer.status}")
        for family in text_string_to_metric_families(answer.body.decode()):
            if family.name != "http_request_duration_seconds":
                continue
            for sample in family.samples:
                if sample.name.endswith("_bucket"):
                    snapshot[sample.labels["view"]][float(sample.labels["le"])] += sample.value
    return snapshot


def quantile(q: float, buckets: dict[float, float]) -> float:
    """histogram_quantile() as Prometheus computes it: linear within the bucket."""
    bounds = sorted(buckets)
    total = buckets[bounds[-1]] if bounds else 0
    if not total:
        return float("nan")
    rank, lower, below = q * total, 0.0, 0.0
    for bound in bounds:
        count = buckets[bound]
        if count >= rank:
            if bound == float("inf"):
                return float("inf")  # beyond the last finite bucket
            return lower + (bound - lower) * (rank - below) / max(count - below, 1e-9)
        lower, below = bound, count
    return lower


def server_side(before: Snapshot, after: Snapshot) -> tuple[str, int, float, float]:
    """The view that served most of the phase's requests: (view, requests, p50 ms, p95 ms)."""
    deltas = {view: {le: n - before.get(view, {}).get(le, 0.0) for le, n in buckets.items()}
              for view, buckets in after.items() if view != "metrics"}
    if not deltas:
        return "", 0, float("nan"), float("nan")
    view = max(deltas, key=lambda v: deltas[v].get(float("inf"), 0.0))
    d = deltas[view]
    return view, int(d.get(float("inf"), 0)), quantile(0.5, d) * 1000, quantile(0.95, d) * 1000


# --- wrk -----------------------------------------------------------------------------------


@dataclass
class Run:
    target: str
    connections: int
    rps: float
    p50: float  # ms
    p99: float
    requests: int
    bad: int  # non-2xx/3xx answers and socket errors
    view: str = ""
    server_requests: int = 0
    server_p50: float = float("nan")
    server_p95: float = float("nan")


def ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip()).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def wrk(url: str, *, threads: int, connections: int, duration: int, headers: dict[str, str]) -> Run:
    command = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{duration}s", "--latency",
               "--timeout", "10s"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    percentile = dict(re.findall(r"^\s+(50|99)%\s+(\S+)\s*$", out, re.M))
    if len(percentile) < 2:
        raise SystemExit(f"bench: wrk's output without a latency distribution:\n{out}")
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    bad = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", out))
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    bad += sum(int(n) for n in errors.groups()) if errors else 0
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    return Run(url, connections, rps, ms(percentile["50"]), ms(percentile["99"]), requests, bad)


# --- Claims --------------------------------------------------------------------------------


@dataclass
class Claims:
    sent: int
    filed: int
    seconds: float
    latencies: list[float]  # ms, acknowledged claims
    statuses: dict[str, int]
    meters: int
    megabytes: float

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def file_claims(channel: Channel, todo: list[Filing], concurrency: int) -> Claims:
    photos = [meter_photo(seed) for seed in range(16)]  # made before the clock starts

    def body(filing: Filing, n: int) -> tuple[bytes, str]:
        fields = {"subscriber_code": filing.subscriber_code, "invoice_number": filing.invoice_number,
                  "reason": "misread", "reason_text": "", "phone": f"050 {200 + n // 100:03d} {n % 100:02d} 11",
                  "email": f"bench-{n}@example.az", "comment": "Sayğac düz oxunmayıb", "language": "az",
                  "consent": "true"}
        files = {}
        for i, serial in enumerate(filing.meters):
            fields[f"reading[{serial}]"] = str(1490 + i)
            files[f"photo[{serial}]"] = (f"sayğac-{i}.jpg", photos[(n + i) % len(photos)], "image/jpeg")
        return multipart(fields, files)

    bodies = [body(filing, n) for n, filing in enumerate(todo)]

    def one(n: int) -> tuple[str, float]:
        data, content_type = bodies[n]
        filing = todo[n]
        headers = channel.headers(filing.fin) | {"Content-Type": content_type, "Idempotency-Key": filing.key}
        started = time.perf_counter()
        try:
            answer = http("POST", f"{channel.stack.site}/api/v1/claims/", body=data, headers=headers, timeout=60)
        except OSError as e:
            return type(e).__name__, (time.perf_counter() - started) * 1000
        if answer.status >= 400 and answer.status != 429:
            print(f"bench: claim refused: {answer.status} {answer.body[:300]!r}", file=sys.stderr)
        return str(answer.status), (time.perf_counter() - started) * 1000

    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(max_workers=concurrency) as pool:
        done = list(pool.map(one, range(len(todo))))
    seconds = time.perf_counter() - started
    statuses: dict[str, int] = defaultdict(int)
    for status, _ in done:
        statuses[status] += 1
    latencies = [latency for status, latency in done if status in ("200", "201")]
    return Claims(sent=len(todo), filed=len(latencies), seconds=seconds, latencies=latencies, statuses=dict(statuses),
                  meters=sum(len(f.meters) for f in todo), megabytes=sum(len(b) for b, _ in bodies) / 1e6)


# --- Main ----------------------------------------------------------------------------------


def fmt(value: float) -> str:
    if value == float("inf"):
        return "> 10,000"  # the histogram's last finite bucket is 10 s
    return "—" if value != value else f"{value:.1f}"  # NaN: nothing measured


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--stack", default="var/stack", help="the stack's folder (STACK_DIR), with stack.json")
    parser.add_argument("--duration", type=int, default=20, help="seconds of each wrk run")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--connections", default="16,64", help="wrk connections, comma-separated ('': no reads)")
    parser.add_argument("--claims", type=int, default=60, help="claims to file (0: none)")
    parser.add_argument("--concurrency", type=int, default=4, help="claims filed at once")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("bench: `wrk` is missing: apt-get install wrk")
    stack = Stack((BASE / args.stack).resolve())
    print(f"bench: {stack.site}, gunicorn {', '.join(stack.web)}; {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.1f} before", flush=True)

    channel = Channel(stack)
    targets = {
        "/healthz": ({}, "floor: nginx + gunicorn + middleware"),
        "/": ({}, "public page (portal home)"),
        "/api/v1/reasons/": ({"Authorization": f"ApiKey {channel.api_key}", "Accept-Language": "az"},
                             "channel API read"),
    }
    for path, (headers, _) in targets.items() if args.connections.strip() else ():
        answer = http("GET", f"{stack.site}{path}", headers=headers, timeout=60)
        if answer.status != 200:
            raise SystemExit(f"bench: {path} answered {answer.status}: {answer.body[:300]!r}")
        # A few seconds of warm-up: the processes' first requests (imports, connections).
        wrk(f"{stack.site}{path}", threads=1, connections=4, duration=3, headers=headers)

    runs: list[Run] = []
    for connections in (int(c) for c in args.connections.split(",") if c.strip()):
        for path, (headers, _) in targets.items():
            before = metrics_snapshot(stack)
            run = wrk(f"{stack.site}{path}", threads=args.threads, connections=connections,
                      duration=args.duration, headers=headers)
            run.target = path
            run.view, run.server_requests, run.server_p50, run.server_p95 = server_side(before,
                                                                                       metrics_snapshot(stack))
            runs.append(run)
            print(f"bench: {path} c={connections}: {run.rps:.1f}/s p50 {run.p50:.1f} ms p99 {run.p99:.1f} ms "
                  f"({run.requests} requests, {run.bad} bad); server {run.view} p50 {fmt(run.server_p50)} ms "
                  f"p95 {fmt(run.server_p95)} ms; load {os.getloadavg()[0]:.1f}", flush=True)

    claims: Claims | None = None
    claim_view: tuple[str, int, float, float] = ("", 0, float("nan"), float("nan"))
    if args.claims:
        todo = filings(stack, channel, args.claims)
        if len(todo) < args.claims:
            print(f"bench: only {len(todo)} unclaimed invoices left (DEMO_ACCOUNTS larger for more)", flush=True)
        before = metrics_snapshot(stack)
        claims = file_claims(channel, todo, args.concurrency)
        claim_view = server_side(before, metrics_snapshot(stack))
        print(f"bench: {claims.filed} claims ({claims.meters} meters, {claims.megabytes:.1f} MB) in "
              f"{claims.seconds:.1f} s at concurrency {args.concurrency}: {claims.filed / claims.seconds:.2f}/s, "
              f"p50 {claims.percentile(0.5):.0f} ms p95 {claims.percentile(0.95):.0f} ms; statuses "
              f"{claims.statuses}; server {claim_view[0]} p50 {fmt(claim_view[2])} ms p95 {fmt(claim_view[3])} ms",
              flush=True)

    print(f"\nbench: load average {os.getloadavg()[0]:.1f} after (other processes shared the cores)\n")
    print("| target | connections | requests/s | p50 ms | p99 ms | ÷ floor req/s | ÷ floor p50 | ÷ floor p99 "
          "| server p50 / p95 ms | failed |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for run in runs:
        floor = next(r for r in runs if r.target == "/healthz" and r.connections == run.connections)
        print(f"| `{run.target}` | {run.connections} | {run.rps:,.0f} | {run.p50:.1f} | {run.p99:.1f} "
              f"| {run.rps / floor.rps:.2f} | {run.p50 / floor.p50:.1f} | {run.p99 / floor.p99:.1f} "
              f"| {fmt(run.server_p50)} / {fmt(run.server_p95)} | {run.bad} |")
    if claims is not None:
        rate = claims.filed / claims.seconds if claims.seconds else 0.0
        failed = sum(n for status, n in claims.statuses.items() if status not in ("200", "201"))
        print(f"\n| claims with photos | concurrency | claims | claims/s | claims/hour | p50 ms | p95 ms "
              f"| server p50 / p95 ms | failed |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n"
              f"| `POST /api/v1/claims/` ({claims.meters / max(claims.sent, 1):.1f} photos a claim, "
              f"{claims.megabytes / max(claims.sent, 1) * 1000:.0f} kB) | {args.concurrency} | {claims.filed} "
              f"| {rate:.2f} | {rate * 3600:,.0f} | {claims.percentile(0.5):.0f} | {claims.percentile(0.95):.0f} "
              f"| {fmt(claim_view[2])} / {fmt(claim_view[3])} | {failed} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
