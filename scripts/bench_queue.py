"""Benchmark: the operator's work queue with a million claims in the table.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/borc_bench .venv/bin/python scripts/bench_queue.py --claims 1000000

Fills the claims table with synthetic claims spread over the demo branches and operators
(bulk inserts; needs `seed_demo` data: branches, operators, a reason template, a citizen),
then times the queue page's queries for one operator and prints the query plans.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.core.paginator import Paginator  # noqa: E402
from django.db import connection, reset_queries, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from backoffice.selectors import queue_for  # noqa: E402
from claims.models import Claim, ReasonTemplate  # noqa: E402
from claims.transitions import ClaimStatus  # noqa: E402
from identity.models import Role, StaffAssignment, User  # noqa: E402

STATUSES = [ClaimStatus.CLOSED] * 14 + [ClaimStatus.WITHDRAWN] * 2 + [
    ClaimStatus.FORWARDED, ClaimStatus.IN_REVIEW, ClaimStatus.INSPECTION, ClaimStatus.AT_COMMISSION]


def fill(n: int) -> None:
    have = Claim.objects.filter(number__startswith="BX-").count()
    if have >= n:
        print(f"{have} synthetic claims already present")
        return
    ops = list(StaffAssignment.objects.filter(role=Role.OPERATOR).values_list("user_id", "branch_id"))
    reason = ReasonTemplate.objects.first()
    citizen = User.objects.filter(fin__isnull=False).first()
    now = timezone.now()
    today = timezone.localdate()
    batch = 20_000
    t0 = time.perf_counter()
    for start in range(have, n, batch):
        rows = []
        for i in range(start, min(n, start + batch)):
            op, branch = ops[i % len(ops)]
            status = STATUSES[i % len(STATUSES)]
            rows.append(Claim(
                number=f"BX-{i:08d}", citizen=citizen, status=status, login_method="id_number",
                subscriber_code=f"{i % 10**10:010d}", invoice_number=f"BX{i}", branch_id=branch, reason=reason,
                phone="+994501234567", email="bench@example.az", consent_at=now, registered_at=now,
                due_on=today + timedelta(days=(i % 60) - 20), operator_id=None if i % 7 == 0 else op,
                submission_key=f"bench-{i}", outcome="refused" if status == ClaimStatus.CLOSED else ""))
        with transaction.atomic():
            Claim.objects.bulk_create(rows, batch_size=5000)
        print(f"  {min(n, start + batch):>9} claims ({time.perf_counter() - t0:.0f} s)", flush=True)
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("ANALYZE claims_claim")


def measure(runs: int) -> None:
    operator = User.objects.filter(assignments__role=Role.OPERATOR).order_by("id").first()
    if operator is None:
        raise SystemExit("no operator: run manage.py seed_demo first")
    timings = []
    for _ in range(runs):
        reset_queries()
        t0 = time.perf_counter()
        with CaptureQueriesContext(connection) as ctx:
            page = Paginator(queue_for(operator), 50).get_page(1)
            rows = list(page)
            _ = page.paginator.count
        timings.append((time.perf_counter() - t0) * 1000)
    print(f"queue page 1 for {operator.username}: {len(rows)} rows of {page.paginator.count}, "
          f"{len(ctx.captured_queries)} queries, median {statistics.median(timings):.1f} ms, "
          f"max {max(timings):.1f} ms over {runs} runs")
    if connection.vendor == "postgresql":
        sql, params = queue_for(operator)[:50].query.sql_with_params()
        with connection.cursor() as cur:
            cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
            print("\n".join(r[0] for r in cur.fetchall()))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--claims", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=20)
    args = ap.parse_args()
    print(f"database: {connection.vendor}")
    fill(args.claims)
    print(f"claims in table: {Claim.objects.count()}")
    measure(args.runs)


if __name__ == "__main__":
    main()
