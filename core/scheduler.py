"""Periodic jobs: each app declares its own, one scheduler runs them all.

An app lists its jobs in ``<app>/jobs.py``::

    from core.scheduler import Job

    JOBS = [Job("sweep_deliveries", "notifications.tasks.sweep_deliveries")]

``task`` is the dotted path of a Django Tasks ``@task`` without arguments (the loop enqueues it,
``--once`` calls it in-process) or of a plain callable without arguments (called in both cases).
A job runs every ``every_seconds`` seconds (``None``: the command's ``--interval``) or once a
day at ``daily_at`` (local time, ``TIME_ZONE``).

The scheduler finds the jobs by looking for a ``jobs`` module in every installed app, so core
names no app and the layers stay pointing down.

Several schedulers may run at once (one per web node, or cron overlapping a loop). Time is cut
into periods on the wall clock (``every_seconds``: periods aligned to the epoch; ``daily_at``: from
one ``daily_at`` to the next), and a run first claims its job's current period with
``cache.add()``, which only one caller can win. So a job runs at most once per period across every
scheduler that shares the cache (Redis via ``CACHE_URL``; the default local-memory cache is per
process, which is enough for one scheduler). Jobs must still be idempotent: a claim outlives
neither a cache flush nor a failure of the cache.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from importlib import import_module
from typing import Any, Literal

from django.apps import apps
from django.core.cache import caches
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from django.utils.module_loading import import_string, module_has_submodule

logger = logging.getLogger(__name__)

JOBS_MODULE = "jobs"
CACHE_ALIAS = "default"
KEY_PREFIX = "core.scheduler"
# A claim lives a little past its period, so a late scheduler cannot re-run a period just ended.
CLAIM_MARGIN_SECONDS = 60


@dataclass(frozen=True)
class Job:
    name: str
    task: str  # dotted path of a django_tasks Task without arguments, or of a plain callable
    every_seconds: int | None = None  # None (and no daily_at): the scheduler's default interval
    daily_at: time | None = None  # local wall-clock time, instead of every_seconds

    def __post_init__(self) -> None:
        if self.every_seconds is not None and self.daily_at is not None:
            raise ImproperlyConfigured(f"Job {self.name!r}: give every_seconds or daily_at, not both")
        if self.every_seconds is not None and self.every_seconds < 1:
            raise ImproperlyConfigured(f"Job {self.name!r}: every_seconds must be at least 1")

    def describe(self, default_interval: int) -> str:
        if self.daily_at is not None:
            return f"{self.name} daily at {self.daily_at:%H:%M}"
        return f"{self.name} every {self.every_seconds or default_interval}s"


@dataclass(frozen=True)
class Period:
    """One period of a job: its key in the cache and when it ends."""

    key: str
    ends_at: datetime


def discover_jobs() -> list[Job]:
    """Every installed app's ``jobs.JOBS``, in INSTALLED_APPS order. Names must be unique."""
    jobs: list[Job] = []
    seen: dict[str, str] = {}
    for config in apps.get_app_configs():
        if not module_has_submodule(config.module, JOBS_MODULE):
            continue
        module = import_module(f"{config.name}.{JOBS_MODULE}")
        for job in getattr(module, "JOBS", ()):
            if not isinstance(job, Job):
                raise ImproperlyConfigured(f"{module.__name__}.JOBS holds {job!r}, not a core.scheduler.Job")
            if job.name in seen:
                raise ImproperlyConfigured(
                    f"Periodic job {job.name!r} is declared by both {seen[job.name]} and {module.__name__}")
            seen[job.name] = module.__name__
            jobs.append(job)
    return jobs


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


@dataclass
class Outcome:
    job: Job
    status: Literal["ran", "enqueued", "skipped", "failed"]
    result: Any = None


class Scheduler:
    """Runs due jobs, each at most once per period across every scheduler sharing the cache."""

    def __init__(self, jobs: Iterable[Job], *, interval: int = 60, cache_alias: str = CACHE_ALIAS,
                 now: Callable[[], datetime] = timezone.now) -> None:
        if interval < 1:
            raise ValueError("interval must be at least 1 second")
        self.jobs = list(jobs)
        self.interval = interval
        self.cache = caches[cache_alias]
        self.now = now
        self._targets: dict[str, Any] = {}
        self._seen: dict[str, str] = {}  # job name -> key of the last period this scheduler tried

    def resolve(self) -> None:
        """Import every job's task now, so a wrong path fails at start and not at 7 a.m."""
        for job in self.jobs:
            self._targets[job.name] = import_string(job.task)

    def target(self, job: Job) -> Any:
        if job.name not in self._targets:
            self._targets[job.name] = import_string(job.task)
        return self._targets[job.name]

    def period(self, job: Job, now: datetime) -> Period:
        if job.daily_at is not None:
            local = timezone.localtime(now)
            start = timezone.make_aware(datetime.combine(local.date(), job.daily_at))
            if start > local:
                start = timezone.make_aware(datetime.combine(local.date() - timedelta(days=1), job.daily_at))
            end = timezone.make_aware(datetime.combine(start.date() + timedelta(days=1), job.daily_at))
            return Period(f"{KEY_PREFIX}:{job.name}:daily@{job.daily_at:%H%M}:{start.date().isoformat()}", end)
        every = job.every_seconds or self.interval
        index = int(now.timestamp()) // every
        return Period(f"{KEY_PREFIX}:{job.name}:{every}s:{index}",
                      datetime.fromtimestamp((index + 1) * every, tz=UTC))

    def claim(self, job: Job, period: Period, now: datetime) -> bool:
        """Take the job's current period; False if another scheduler (or this one) has it."""
        ttl = max(1, int((period.ends_at - now).total_seconds())) + CLAIM_MARGIN_SECONDS
        return bool(self.cache.add(period.key, _owner(), timeout=ttl))

    def release(self, period: Period) -> None:
        """Give a period back after a failure, so another scheduler may try it."""
        try:
            self.cache.delete(period.key)
        except Exception:
            logger.exception("periodic job lock %s could not be released", period.key)

    def run_job(self, job: Job, *, enqueue: bool, now: datetime | None = None) -> Outcome:
        """Run ``job`` if its current period is not taken: enqueue its task (``enqueue``) or call
        it in this process. Errors are logged and returned, not raised."""
        now = now or self.now()
        period = self.period(job, now)
        self._seen[job.name] = period.key
        try:
            if not self.claim(job, period, now):
                logger.info("periodic job %s skipped: already run in this period", job.name)
                return Outcome(job, "skipped")
        except Exception:
            # The cache is down: not knowing who runs the job, nobody does until the next period.
            logger.exception("periodic job %s: its lock could not be taken", job.name)
            return Outcome(job, "failed")
        try:
            target = self.target(job)
            if enqueue and hasattr(target, "enqueue"):
                target.enqueue()
                logger.info("periodic job %s enqueued", job.name)
                return Outcome(job, "enqueued")
            result = target.call() if hasattr(target, "call") else target()
            return Outcome(job, "ran", result)
        except Exception:
            # The database or broker may be down for a while: try again next period.
            logger.exception("periodic job %s failed", job.name)
            self.release(period)
            return Outcome(job, "failed")

    def due(self, now: datetime | None = None) -> list[Job]:
        """The jobs whose current period this scheduler has not tried yet."""
        now = now or self.now()
        return [job for job in self.jobs if self._seen.get(job.name) != self.period(job, now).key]

    def run_due(self, *, enqueue: bool = True, now: datetime | None = None) -> list[Outcome]:
        now = now or self.now()
        return [self.run_job(job, enqueue=enqueue, now=now) for job in self.due(now)]

    def seconds_to_next_period(self, now: datetime | None = None) -> float:
        now = now or self.now()
        if not self.jobs:
            return 60.0
        return max(0.0, min((self.period(job, now).ends_at - now).total_seconds() for job in self.jobs))

    def uses_local_cache(self) -> bool:
        return type(self.cache).__module__ == "django.core.cache.backends.locmem"

