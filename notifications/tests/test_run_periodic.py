import os
import signal
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks.signals import task_enqueued

from notifications.models import Delivery, DeliveryStatus

from .helpers import make_delivery

pytestmark = pytest.mark.django_db


def test_once_runs_every_job_in_process(claim, dummy_tasks):
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
