import os
import signal
import threading
from datetime import UTC, datetime, time, timedelta
from io import StringIO

import pytest
import time_machine
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks.signals import task_enqueued

from core.scheduler import Job, Scheduler, discover_jobs
from notifications.models import Delivery, DeliveryStatus
from notifications.tests.conftest import claim, default_templates, make_claim  # noqa: F401 - fixtures
from notifications.tests.helpers import make_delivery

pytestmark = pytest.mark.django_db

calls: list[str] = []
calls_lock = threading.Lock()


def count_call() -> int:
    """A job's callable for these tests: counts its runs."""
    with calls_lock:
        calls.append(threading.current_thread().name)
        return len(calls)


def fail() -> None:
    raise RuntimeError("the database is down")


@pytest.fixture(autouse=True)
def _no_calls():
    calls.clear()
    yield
    calls.clear()


@pytest.fixture
def dummy_tasks():
    """The Dummy task backend of the test settings: it records enqueued tasks, runs nothing."""
    from django_tasks import task_backends

    backend = task_backends["default"]
    backend.clear()
    yield backend
    backend.clear()


@pytest.fixture
def restore_signals():
    """run_periodic installs SIGINT/SIGTERM handlers; give pytest its own back."""
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    yield
    for s, handler in saved.items():
        signal.signal(s, handler)


# --- the command (moved from notifications) ------------------------------------------------------


def test_once_runs_every_job_in_process(claim, dummy_tasks):  # noqa: F811 - fixture
    lost = make_delivery(claim)
    Delivery.objects.filter(pk=lost.pk).update(updated_at=timezone.now() - timedelta(hours=1))
    out = StringIO()

    call_command("run_periodic", "--once", stdout=out)

    assert "sweep_deliveries: 1" in out.getvalue()
    assert [r.args for r in dummy_tasks.results] == [[lost.pk]]


@pytest.mark.usefixtures("restore_signals")
def test_loop_enqueues_the_sweep_and_stops_cleanly_on_ctrl_c(dummy_tasks):
    def interrupt(sender, task_result, **kwargs):
        # Ctrl-C as soon as the first job is enqueued.
        os.kill(os.getpid(), signal.SIGINT)

    task_enqueued.connect(interrupt)
    out = StringIO()
    try:
        call_command("run_periodic", "--interval", "1", "--job", "sweep_deliveries", stdout=out)
    finally:
        task_enqueued.disconnect(interrupt)

    assert [r.task.name for r in dummy_tasks.results] == ["sweep_deliveries"]
    assert "Periodic jobs stopped." in out.getvalue()


def test_unknown_job_is_refused():
    with pytest.raises(SystemExit):
        call_command("run_periodic", "--once", "--job", "nope", stderr=StringIO())


def test_sweep_of_nothing(dummy_tasks):
    out = StringIO()
    call_command("run_periodic", "--once", stdout=out)
    assert "sweep_deliveries: 0" in out.getvalue()
    assert not Delivery.objects.exclude(status=DeliveryStatus.DELIVERED).exists()


# --- the registry --------------------------------------------------------------------------------


def test_each_app_declares_its_jobs_and_every_task_exists():
    jobs = {job.name: job for job in discover_jobs()}

    assert set(jobs) >= {"sweep_deliveries", "sweep_webhooks", "deadline_digest", "purge_drafts", "sweep_referrals",
                         "sweep_info_requests", "retention"}
    assert jobs["sweep_deliveries"].task == "notifications.tasks.sweep_deliveries"
    assert jobs["sweep_info_requests"].daily_at == time(8, 0)  # reminders before the working day
    assert jobs["retention"].task == "privacy.tasks.retention"
    assert jobs["sweep_webhooks"].task == "api.tasks.sweep_webhooks"
    assert jobs["deadline_digest"].daily_at == time(7, 0)
    assert jobs["purge_drafts"].every_seconds == 3600
    for job in jobs.values():
        target = import_string(job.task)  # a task (enqueue/call) or a plain callable
        assert hasattr(target, "enqueue") or callable(target)


def test_a_job_has_one_schedule():
    with pytest.raises(ImproperlyConfigured):
        Job("both", "core.tests.test_scheduler.count_call", every_seconds=60, daily_at=time(7, 0))


# --- the lock: once per period, however many schedulers run --------------------------------------


def test_two_schedulers_at_once_run_a_due_job_once():
    job = Job("count", "core.tests.test_scheduler.count_call", every_seconds=60)
    start = threading.Barrier(2)
    outcomes = []

    def scheduler_process():
        scheduler = Scheduler([job])
        start.wait()
        outcomes.extend(o.status for o in scheduler.run_due(enqueue=True))

    threads = [threading.Thread(target=scheduler_process, name=f"scheduler-{i}") for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)

    assert len(calls) == 1
    assert sorted(outcomes) == ["ran", "skipped"]


def test_once_twice_in_a_period_sweeps_once(claim, dummy_tasks):  # noqa: F811 - fixture
    lost = make_delivery(claim)
    Delivery.objects.filter(pk=lost.pk).update(updated_at=timezone.now() - timedelta(hours=1))

    # Both runs in the same minute (the sweep's period is --interval, 60 s).
    with time_machine.travel(timezone.now().replace(second=5), tick=False):
        call_command("run_periodic", "--once", "--job", "sweep_deliveries", stdout=StringIO())
        Delivery.objects.filter(pk=lost.pk).update(updated_at=timezone.now() - timedelta(hours=1))
        out = StringIO()
        call_command("run_periodic", "--once", "--job", "sweep_deliveries", stdout=out)

    assert "sweep_deliveries: skipped, already run in this period" in out.getvalue()
    assert [r.args for r in dummy_tasks.results] == [[lost.pk]]


def test_an_interval_job_runs_again_in_the_next_period():
    job = Job("count", "core.tests.test_scheduler.count_call", every_seconds=60)
    first, second = Scheduler([job]), Scheduler([job])
    t0 = datetime(2026, 3, 2, 10, 0, 5, tzinfo=UTC)

    first.run_due(now=t0)
    second.run_due(now=t0 + timedelta(seconds=50))  # same minute: taken
    assert first.due(now=t0 + timedelta(seconds=30)) == []
    second.run_due(now=t0 + timedelta(seconds=60))  # next minute

    assert len(calls) == 2


def test_a_daily_job_runs_once_a_day_at_its_time(settings):
    settings.TIME_ZONE = "Asia/Baku"  # UTC+4, no summer time
    job = Job("count", "core.tests.test_scheduler.count_call", daily_at=time(7, 0))
    baku = timezone.get_fixed_timezone(4 * 60)
    day = datetime(2026, 3, 2, tzinfo=baku)
    scheduler = Scheduler([job])

    scheduler.run_due(now=day.replace(hour=7, minute=0, second=30))  # the day's run
    for hour in (8, 12, 23):
        Scheduler([job]).run_due(now=day.replace(hour=hour))  # other schedulers, same day: taken
    assert scheduler.due(now=day + timedelta(days=1, hours=6, minutes=59)) == []
    assert scheduler.due(now=day + timedelta(days=1, hours=7)) == [job]
    scheduler.run_due(now=day + timedelta(days=1, hours=7))

    assert len(calls) == 2


def test_a_failed_run_gives_its_period_back():
    failing = Job("flaky", "core.tests.test_scheduler.fail", every_seconds=60)
    t0 = datetime(2026, 3, 2, 10, 0, 5, tzinfo=UTC)

    assert [o.status for o in Scheduler([failing]).run_due(now=t0)] == ["failed"]

    # Another scheduler may try the same period; the lock is not left behind.
    key = Scheduler([failing]).period(failing, t0).key
    assert cache.get(key) is None
