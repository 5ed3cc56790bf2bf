"""Periodic jobs: run each app's jobs (``<app>/jobs.py``, see core.scheduler) on their schedules.

``manage.py run_periodic`` runs the loop (``make run`` starts it beside the worker; Ctrl-C or
SIGTERM stops it cleanly): it enqueues each job's task once per period. ``manage.py run_periodic
--once`` runs every job whose current period is not taken yet, in this process, and exits: for
cron or a Kubernetes CronJob at scale, where a long-running process per web node is not wanted.

Several loops, or cron overlapping a loop, may run at once: each job runs at most once per period
across all of them when they share a cache (see core.scheduler). Jobs must still be idempotent.
"""

from __future__ import annotations

import logging
import signal
import time
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections

from core.scheduler import Job, Scheduler, discover_jobs

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = ("Run the periodic jobs every app declares in its jobs.py (the delivery sweep, ...) on their "
            "schedules; --once runs each once.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--interval", type=int, default=60,
                            help="Seconds between runs of jobs without a schedule of their own (default: 60).")
        parser.add_argument("--once", action="store_true",
                            help="Run every job once, synchronously in this process, and exit.")
        parser.add_argument("--job", action="append", dest="jobs", metavar="NAME",
                            help="Only this job (repeatable). Jobs: " + ", ".join(j.name for j in discover_jobs()))

    def handle(self, *args: Any, interval: int, once: bool, jobs: list[str] | None, **options: Any) -> None:
        declared = discover_jobs()
        selected = [j for j in declared if not jobs or j.name in jobs]
        unknown = set(jobs or []) - {j.name for j in declared}
        if unknown:
            self.stderr.write(f"Unknown job(s): {', '.join(sorted(unknown))}")
            raise SystemExit(2)
        if interval < 1:
            self.stderr.write("--interval must be at least 1 second")
            raise SystemExit(2)
        scheduler = Scheduler(selected, interval=interval)
        scheduler.resolve()
        if once:
            self.run_once(scheduler)
        else:
            self.run_forever(scheduler)

    def run_once(self, scheduler: Scheduler) -> None:
        failed = False
        for job in scheduler.jobs:
            outcome = scheduler.run_job(job, enqueue=False)
            if outcome.status == "ran":
                self.stdout.write(f"{job.name}: {outcome.result}")
            elif outcome.status == "skipped":
                self.stdout.write(f"{job.name}: skipped, already run in this period")
            else:
                failed = True
        if failed:
            raise SystemExit(1)

    def run_forever(self, scheduler: Scheduler) -> None:
        # A flag, not a threading.Event: setting an Event from a signal handler can deadlock.
        stop = {"requested": False}

        def request_stop(signum: int, frame: FrameType | None) -> None:
            stop["requested"] = True

        previous = {s: signal.signal(s, request_stop) for s in (signal.SIGINT, signal.SIGTERM)}
        self.stdout.write("Periodic jobs: " + ", ".join(job.describe(scheduler.interval) for job in scheduler.jobs)
                          + ". Ctrl-C stops.")
        if scheduler.uses_local_cache():
            logger.info("run_periodic: the cache is local to this process; with several schedulers, "
                           "set CACHE_URL to a shared cache so that each job runs once per period")
        try:
            while not stop["requested"]:
                due: list[Job] = scheduler.due()
                if due:
                    close_old_connections()
                for job in due:
                    scheduler.run_job(job, enqueue=True)  # logs its own errors; next period tries again
                    if stop["requested"]:
                        break
                if stop["requested"]:
                    break
                # Short naps so that a stop request is seen within a second.
                time.sleep(max(0.0, min(1.0, scheduler.seconds_to_next_period())))
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler)
            close_old_connections()
            self.stdout.write("Periodic jobs stopped.")
