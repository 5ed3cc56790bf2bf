"""Periodic jobs: enqueue each job's task every so many seconds, until stopped.

``manage.py run_periodic`` runs the loop (``make run`` starts it beside the worker; Ctrl-C or
SIGTERM stops it cleanly). ``manage.py run_periodic --once`` runs every job once, in this
process, and exits: for cron or a Kubernetes CronJob at scale, where one scheduler is wanted
and a long-running process per web node is not.

To add a job, add a row to ``JOBS``: a name, the dotted path of a task (Django Tasks API) that
takes no arguments, and how often it runs (``None``: every ``--interval`` seconds). Jobs must be
idempotent: the loop may run on more than one host, and cron may overlap.
"""

from __future__ import annotations

import logging
import signal
import time
from dataclasses import dataclass
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    task: str  # dotted path of a django_tasks Task without arguments
    every_seconds: int | None = None  # None: the command's --interval


JOBS: tuple[PeriodicJob, ...] = (
    PeriodicJob("sweep_deliveries", "notifications.tasks.sweep_deliveries"),
    PeriodicJob("deadline_digest", "backoffice.tasks.deadline_digest", every_seconds=24 * 3600),
    PeriodicJob("purge_drafts", "claims.tasks.purge_drafts", every_seconds=3600),
    PeriodicJob("sweep_webhooks", "api.tasks.sweep_webhooks"),
)


class Command(BaseCommand):
    help = "Enqueue the periodic jobs (the delivery sweep, ...) on their intervals; --once runs each once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--interval", type=int, default=60,
                            help="Seconds between runs of jobs without an interval of their own (default: 60).")
        parser.add_argument("--once", action="store_true",
                            help="Run every job once, synchronously in this process, and exit.")
        parser.add_argument("--job", action="append", dest="jobs", metavar="NAME",
                            help="Only this job (repeatable). Jobs: " + ", ".join(j.name for j in JOBS))

    def handle(self, *args: Any, interval: int, once: bool, jobs: list[str] | None, **options: Any) -> None:
        selected = [j for j in JOBS if not jobs or j.name in jobs]
        unknown = set(jobs or []) - {j.name for j in JOBS}
        if unknown:
            self.stderr.write(f"Unknown job(s): {', '.join(sorted(unknown))}")
            raise SystemExit(2)
        if interval < 1:
            self.stderr.write("--interval must be at least 1 second")
            raise SystemExit(2)
        if once:
            self.run_once(selected)
        else:
            self.run_forever(selected, interval)

    def run_once(self, jobs: list[PeriodicJob]) -> None:
        failed = False
        for job in jobs:
            try:
                result = import_string(job.task).call()
                self.stdout.write(f"{job.name}: {result}")
            except Exception:
                logger.exception("periodic job %s failed", job.name)
                failed = True
        if failed:
            raise SystemExit(1)

    def run_forever(self, jobs: list[PeriodicJob], interval: int) -> None:
        # A flag, not a threading.Event: setting an Event from a signal handler can deadlock.
        stop = {"requested": False}

        def request_stop(signum: int, frame: FrameType | None) -> None:
            stop["requested"] = True

        previous = {s: signal.signal(s, request_stop) for s in (signal.SIGINT, signal.SIGTERM)}
        tasks = {job.name: import_string(job.task) for job in jobs}
        next_run = {job.name: time.monotonic() for job in jobs}  # every job runs at start
        self.stdout.write("Periodic jobs: " + ", ".join(
            f"{job.name} every {job.every_seconds or interval}s" for job in jobs) + ". Ctrl-C stops.")
        try:
            while not stop["requested"]:
                now = time.monotonic()
                for job in jobs:
                    if next_run[job.name] > now:
                        continue
                    close_old_connections()
                    try:
                        tasks[job.name].enqueue()
                        logger.info("periodic job %s enqueued", job.name)
                    except Exception:
                        # The database or broker may be down for a while: try again next time.
                        logger.exception("periodic job %s could not be enqueued", job.name)
                    next_run[job.name] = now + (job.every_seconds or interval)
                if stop["requested"]:
                    break
                # Short naps so that a stop request is seen within a second.
                time.sleep(max(0.0, min(1.0, min(next_run.values()) - time.monotonic())))
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler)
            close_old_connections()
            self.stdout.write("Periodic jobs stopped.")
