"""Benchmark: the two candidate task engines for the background work, measured on this machine.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/borc_bench_tasks \\
        .venv/bin/python scripts/bench_tasks.py --tasks 2000 --workers 2 \\
        [--redis-url redis://127.0.0.1:6379/5] [--rqlib /tmp/rqlib] [--engines db,rq,rq-simple] [--repeat 1]

Engines (each in a child process of its own, since each needs its own Django settings):

- ``db``: django-tasks with ``django_tasks_db.DatabaseBackend`` (in use): the task is a row of
  PostgreSQL; ``manage.py run_worker --batch`` claims rows with ``SELECT … FOR UPDATE SKIP LOCKED``.
- ``rq``: django-tasks with ``django_tasks_rq.RQBackend``: the task is an RQ job in Redis;
  ``manage.py rqworker --burst`` with RQ's default worker, which forks a work horse per job.
- ``rq-simple``: the same with ``rq.SimpleWorker`` (runs each job in the worker process, as ``db`` does).

RQ is not a dependency of the product. Install it outside the virtualenv and name the directory::

    .venv/bin/pip install --no-deps --target /tmp/rqlib django-tasks-rq==0.12.0 rq==3.0.0 django-rq==4.2.0 \\
        croniter rq-scheduler crontab freezegun

For the RQ engines the script writes a settings module to a temporary directory
(``from config.settings import *`` plus ``django_rq``/``django_tasks_rq`` in INSTALLED_APPS, the
RQ backend in TASKS and RQ_QUEUES on ``--redis-url``) and points DJANGO_SETTINGS_MODULE and
PYTHONPATH at it. Every process runs with DEBUG=true (the production settings then need no
shared cache, mail or storage configuration); the same for all engines.

For each engine: the bench database is migrated, N real tasks of the product
(``notifications.tasks.sweep_deliveries``: one indexed query on an empty table) are enqueued the
way the product enqueues them (``task.enqueue()``, autocommit), timed; then W worker processes are
started in batch/burst mode and the wall time until they have all exited is taken (it includes
their start-up; ``window`` is first start to last finish of the tasks themselves). Exactly once:
``db`` needs N SUCCESSFUL DBTaskResult rows each with one worker id; ``rq`` needs N jobs in the
finished registry, none failed or left, and one result per job.

Floors, in the same run: for ``db`` N plain INSERTs (autocommit, one connection, raw psycopg) of
a row the size of a task row into a scratch table; for ``rq`` N LPUSH+RPOP pairs (redis-py, one
connection) of a value the size of a job's hash. ``÷ floor`` is the engine's tasks/s over the
floor's operations/s.

Destructive on the bench stores only: the database name must contain "bench" (its task rows are
deleted) and the Redis database must not be 0 (it is flushed).
"""

# ruff: noqa: S603 - subprocess runs this interpreter on manage.py/this script with fixed arguments

from __future__ import annotations

import argparse
import importlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
MANAGE = str(ROOT / "manage.py")
QUEUE = "notifications"  # sweep_deliveries's queue

RQ_SETTINGS = '''"""Bench only (scripts/bench_tasks.py): the product's settings with django-tasks' RQ backend."""
from config.settings import *  # noqa: F403

INSTALLED_APPS = [*INSTALLED_APPS, "django_rq", "django_tasks_rq"]  # noqa: F405
TASKS = {{"default": {{"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default", "notifications"]}}}}
RQ_QUEUES = {{name: {{"URL": {url!r}, "DEFAULT_TIMEOUT": 60}} for name in ("default", "notifications")}}
'''


# --- the parent: database, settings, one child per engine, the table ------------------------------

def ensure_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    u = urlparse(url)
    name = u.path.lstrip("/")
    with psycopg.connect(host=u.hostname or "127.0.0.1", port=u.port or 5432, user=u.username or "postgres",
                         password=u.password or None, dbname="postgres", autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is None:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print(f"created database {name}")


def base_env(url: str) -> dict[str, str]:
    env = dict(os.environ, DATABASE_URL=url, DEBUG="true", PYTHONUNBUFFERED="1")
    env.setdefault("SECRET_KEY", "bench-tasks-not-secret")
    env.pop("TASKS_BACKEND", None)  # engine db: the product's default backend
    return env


def engine_env(engine: str, url: str, redis_url: str, rqlib: str, settings_dir: str) -> dict[str, str]:
    env = base_env(url)
    if engine == "db":
        env["DJANGO_SETTINGS_MODULE"] = "config.settings"
        env["PYTHONPATH"] = str(ROOT)
    else:
        env["DJANGO_SETTINGS_MODULE"] = "bench_tasks_rq_settings"
        env["PYTHONPATH"] = os.pathsep.join([settings_dir, str(ROOT), rqlib])
    env["BENCH_REDIS_URL"] = redis_url
    return env


def run_child(engine: str, args: argparse.Namespace, env: dict[str, str]) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--phase", engine, "--tasks", str(args.tasks), "--workers", str(args.workers)]
    load_before = os.getloadavg()[0]
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode != 0 or not lines:
        sys.stderr.write(done.stdout[-4000:] + done.stderr[-4000:])
        raise SystemExit(f"engine {engine}: the child failed (exit {done.returncode})")
    result: dict[str, Any] = json.loads(lines[-1].removeprefix("RESULT "))
    result["detail"] += f"; load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after"
    return result


def median_of(runs: list[dict[str, Any]], key: str) -> float:
    return statistics.median(float(r[key]) for r in runs)


def print_table(results: dict[str, list[dict[str, Any]]]) -> None:
    print("\n| engine | N | W | enqueue tasks/s | floor op/s | enqueue ÷ floor | run wall | run tasks/s "
          "| run tasks/s (window) | run ÷ floor | exactly once |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for engine, runs in results.items():
        first = runs[0]
        n = first["tasks"]
        enqueue = n / median_of(runs, "enqueue_s")
        floor = n / median_of(runs, "floor_s")
        wall = median_of(runs, "wall_s")
        window = median_of(runs, "window_s")
        once = "yes" if all(r["exactly_once"] for r in runs) else "NO"
        print(f"| {engine} | {n} | {first['workers']} | {enqueue:,.0f} | {floor:,.0f} ({first['floor']}) | "
              f"{enqueue / floor:.2f} | {wall:.2f} s | {n / wall:,.0f} | {n / window:,.0f} | "
              f"{n / wall / floor:.2f} | {once} |")
    print()
    for engine, runs in results.items():
        for r in runs:
            print(f"{engine}: {r['detail']}")


def parent(args: argparse.Namespace) -> None:
    url = os.environ.get("DATABASE_URL", "")
    name = urlparse(url).path.lstrip("/")
    if not url.startswith(("postgres://", "postgresql://")) or "bench" not in name:
        raise SystemExit("DATABASE_URL must name a PostgreSQL database whose name contains 'bench' "
                         "(its task rows are deleted)")
    if (urlparse(args.redis_url).path.lstrip("/") or "0") == "0":
        raise SystemExit("--redis-url must name a Redis database other than 0 (it is flushed)")
    engines = [e for e in args.engines.split(",") if e]
    unknown = set(engines) - {"db", "rq", "rq-simple"}
    if unknown:
        raise SystemExit(f"unknown engines: {', '.join(sorted(unknown))}")
    if any(e.startswith("rq") for e in engines) and not (Path(args.rqlib) / "django_tasks_rq").is_dir():
        raise SystemExit(f"django-tasks-rq is not in {args.rqlib}: see the docstring to install it")
    ensure_database(url)
    env = dict(base_env(url), DJANGO_SETTINGS_MODULE="config.settings", PYTHONPATH=str(ROOT))
    subprocess.run([sys.executable, MANAGE, "migrate", "--no-input", "-v", "0"], cwd=ROOT, env=env, check=True)
    print(f"{args.tasks} tasks, {args.workers} workers, {os.cpu_count()} CPUs (load average "
          f"{os.getloadavg()[0]:.1f}); database {name}, "
          f"Redis {args.redis_url}", flush=True)
    results: dict[str, list[dict[str, Any]]] = {e: [] for e in engines}
    with tempfile.TemporaryDirectory(prefix="bench_tasks_") as settings_dir:
        (Path(settings_dir) / "bench_tasks_rq_settings.py").write_text(RQ_SETTINGS.format(url=args.redis_url))
        for round_ in range(args.repeat):
            for engine in engines:
                result = run_child(engine, args, engine_env(engine, url, args.redis_url, args.rqlib, settings_dir))
                results[engine].append(result)
                print(f"round {round_ + 1} {engine}: enqueue {result['enqueue_s']:.2f} s, "
                      f"run {result['wall_s']:.2f} s, exactly once: {result['exactly_once']}", flush=True)
    print_table(results)


# --- a child: one engine, Django set up with that engine's settings --------------------------------

def spawn_workers(cmd: list[str], count: int, log_dir: Path) -> float:
    """Start ``count`` workers, wait until every one has exited; returns the wall time."""
    logs = [(log_dir / f"worker-{i}.log").open("w") for i in range(count)]
    started = time.perf_counter()
    procs = [subprocess.Popen([part.format(i=i) for part in cmd], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
             for i, log in enumerate(logs)]
    codes = [p.wait() for p in procs]
    wall = time.perf_counter() - started
    for log in logs:
        log.close()
    if any(codes):
        for i in range(count):
            sys.stderr.write((log_dir / f"worker-{i}.log").read_text()[-3000:])
        raise SystemExit(f"a worker failed: exit codes {codes}")
    return wall


def child_db(n: int, workers: int) -> dict[str, Any]:
    from django.db import connection
    from django.db.models import Max, Min
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    from notifications.tasks import sweep_deliveries

    table = DBTaskResult._meta.db_table
    DBTaskResult.objects.all().delete()
    sweep_deliveries.enqueue()  # warm-up (connection, imports); its row gives the size
    with connection.cursor() as cur:
        cur.execute(f"SELECT avg(pg_column_size(t.*))::int FROM {table} t")  # noqa: S608 - the model's table
        size = int(cur.fetchone()[0])
    DBTaskResult.objects.all().delete()

    # Floor: N plain INSERTs of a row that size, autocommit, one connection, no Django in between.
    connection.ensure_connection()
    raw = connection.connection
    assert raw is not None
    with raw.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS bench_tasks_floor")
        cur.execute("CREATE TABLE bench_tasks_floor (id bigserial PRIMARY KEY, payload text NOT NULL)")
        payload = "x" * max(1, size - 40)
        started = time.perf_counter()
        for _ in range(n):
            cur.execute("INSERT INTO bench_tasks_floor (payload) VALUES (%s)", [payload])
        floor_s = time.perf_counter() - started
        cur.execute("SELECT avg(pg_column_size(t.*))::int FROM bench_tasks_floor t")
        floor_size = int(cur.fetchone()[0])
        cur.execute("DROP TABLE bench_tasks_floor")

    started = time.perf_counter()
    for _ in range(n):
        sweep_deliveries.enqueue()
    enqueue_s = time.perf_counter() - started

    cmd = [sys.executable, MANAGE, "run_worker", "--batch", "--queue-name", "*", "--interval", "0.1",
           "--no-startup-delay", "-v", "0", "--worker-id", "bench-{i}"]
    with tempfile.TemporaryDirectory() as logs:
        wall_s = spawn_workers(cmd, workers, Path(logs))

    rows = DBTaskResult.objects.all()
    total = rows.count()
    successful = rows.filter(status=TaskResultStatus.SUCCESSFUL).count()
    owners = [ids for (ids,) in rows.values_list("worker_ids")]
    claimed_once = sum(1 for ids in owners if len(ids) == 1)
    split = Counter(ids[0] for ids in owners if ids)
    span = rows.aggregate(first=Min("started_at"), last=Max("finished_at"))
    window_s = (span["last"] - span["first"]).total_seconds()
    ok = total == successful == claimed_once == n
    detail = (f"{total} rows, {successful} SUCCESSFUL, {claimed_once} claimed by exactly one worker; "
              f"split {'/'.join(str(c) for _, c in sorted(split.items()))}; "
              f"task row {size} B, floor row {floor_size} B")
    DBTaskResult.objects.all().delete()
    return {"enqueue_s": enqueue_s, "floor_s": floor_s, "floor": "INSERT", "wall_s": wall_s,
            "window_s": window_s, "exactly_once": ok, "detail": detail}


def child_rq(n: int, workers: int, simple: bool) -> dict[str, Any]:
    import redis

    from notifications.tasks import sweep_deliveries

    django_rq: Any = importlib.import_module("django_rq")  # outside the venv: --rqlib
    rq_utils: Any = importlib.import_module("rq.utils")
    rq_job: Any = importlib.import_module("rq.job")
    r = redis.Redis.from_url(os.environ["BENCH_REDIS_URL"])
    r.flushdb()
    job_id = sweep_deliveries.enqueue().id  # warm-up; its hash gives the size
    size = sum(len(k) + len(v) for k, v in r.hgetall(f"rq:job:{job_id}").items())
    r.flushdb()

    # Floor: N LPUSH+RPOP pairs of a value that size, one connection, no pipelining.
    payload = b"x" * size
    started = time.perf_counter()
    for _ in range(n):
        r.lpush("bench:floor", payload)
        r.rpop("bench:floor")
    floor_s = time.perf_counter() - started
    r.flushdb()

    started = time.perf_counter()
    ids = [sweep_deliveries.enqueue().id for _ in range(n)]
    enqueue_s = time.perf_counter() - started

    cmd = [sys.executable, MANAGE, "rqworker", QUEUE, "--burst", "--job-class", "django_tasks_rq.Job", "-v", "0"]
    if simple:
        cmd += ["--worker-class", "rq.SimpleWorker"]
    with tempfile.TemporaryDirectory() as logs:
        wall_s = spawn_workers(cmd, workers, Path(logs))

    queue = django_rq.get_queue(QUEUE)
    finished = int(queue.finished_job_registry.count)
    failed = int(queue.failed_job_registry.count)
    left = int(queue.count)
    pipe = r.pipeline(transaction=False)
    for job_id in ids:
        pipe.xlen(f"rq:results:{job_id}")
    one_result = sum(1 for length in pipe.execute() if length == 1)
    pipe = r.pipeline(transaction=False)
    for job_id in ids:
        pipe.hmget(f"rq:job:{job_id}", ["started_at", "ended_at", "worker_name"])
    stamps = pipe.execute()

    def parse(value: bytes) -> datetime:
        parsed: datetime = rq_utils.utcparse(value.decode())
        return parsed

    window_s = (max(parse(s[1]) for s in stamps if s[1]) - min(parse(s[0]) for s in stamps if s[0])).total_seconds()
    split = Counter(s[2] for s in stamps)
    reasons: Counter[str] = Counter()  # why jobs failed, by the last line of their traceback
    for job_id in queue.failed_job_registry.get_job_ids()[:200]:
        latest = rq_job.Job.fetch(job_id, connection=r).latest_result()
        text = (getattr(latest, "exc_string", None) or "no result").strip()
        reasons[text.splitlines()[-1][:160]] += 1
    ok = finished == one_result == n and failed == left == 0
    detail = (f"{finished} in the finished registry, {failed} failed, {left} left queued, {one_result} with "
              f"exactly one result; split {'/'.join(str(c) for _, c in sorted(split.items(), key=str))}; "
              f"job hash {size} B" + "".join(f"; failed ({c}): {why}" for why, c in reasons.most_common(3)))
    r.flushdb()
    return {"enqueue_s": enqueue_s, "floor_s": floor_s, "floor": "LPUSH+RPOP", "wall_s": wall_s,
            "window_s": window_s, "exactly_once": ok, "detail": detail}


def child(args: argparse.Namespace) -> None:
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    if args.phase == "db":
        result = child_db(args.tasks, args.workers)
    else:
        result = child_rq(args.tasks, args.workers, simple=args.phase == "rq-simple")
    result.update(engine=args.phase, tasks=args.tasks, workers=args.workers)
    print("RESULT " + json.dumps(result), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--tasks", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/5")
    parser.add_argument("--rqlib", default=str(Path(tempfile.gettempdir()) / "rqlib"),
                        help="where django-tasks-rq, rq and django-rq are installed (default: $TMPDIR/rqlib)")
    parser.add_argument("--engines", default="db,rq,rq-simple")
    parser.add_argument("--repeat", type=int, default=1, help="rounds; the table shows the medians")
    parser.add_argument("--phase", choices=["db", "rq", "rq-simple"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        child(args)
    else:
        parent(args)


if __name__ == "__main__":
    main()
