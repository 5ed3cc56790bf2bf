from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from notifications import sms
from notifications.models import Delivery, DeliveryStatus, Event
from notifications.services import deliveries_sweep, notification_queue
from notifications.tasks import deliver_notification, sweep_deliveries

DB_TASKS = {
    "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default", "notifications"]},
}


def run_worker():
    call_command("db_worker", "--batch", "--no-startup-delay", "--queue-name", "notifications", "--interval", "0",
                 verbosity=0)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("restore_signals")
def test_a_worker_stopped_between_commit_and_delivery_loses_nothing(make_claim, settings, dummy_tasks):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SMS_BACKEND = "notifications.sms.LocmemSmsBackend"
    settings.DELIVERY_STALE_SECONDS = 300
    claims = [make_claim() for _ in range(3)]

    # The claims' changes commit, their tasks go to a backend that never runs them: as if the
    # worker (or the broker) died right after the commit.
    with transaction.atomic():
        for claim in claims:
            notification_queue(claim=claim, event=Event.REGISTERED)
    assert len(dummy_tasks.results) == 6
    assert Delivery.objects.filter(status=DeliveryStatus.CREATED).count() == 6

    # Now a real queue and worker.
    settings.TASKS = DB_TASKS
    from django_tasks_db.models import DBTaskResult

    # Right after the commit the rows may still be queued: the sweep leaves them be.
    assert deliveries_sweep() == 0
    # Minutes later they are evidently lost: the sweep enqueues them again.
    Delivery.objects.update(updated_at=timezone.now() - timedelta(seconds=301))
    assert deliveries_sweep() == 6
    assert DBTaskResult.objects.count() == 6

    run_worker()

    assert Delivery.objects.filter(status=DeliveryStatus.DELIVERED).count() == 6
    assert sorted(m.to[0] for m in mail.outbox) == sorted(c.email for c in claims)
    assert len(sms.outbox) == 3
    # Nothing is sent twice: a duplicate task, another sweep, another worker run.
    deliver_notification.enqueue(Delivery.objects.first().pk)
    assert deliveries_sweep() == 0
    run_worker()
    assert len(mail.outbox) == 3
    assert len(sms.outbox) == 3
    assert set(Delivery.objects.values_list("attempts", flat=True)) == {1}


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("restore_signals")
def test_retries_run_through_the_worker_when_due(claim, settings, sms_gateway):
    settings.TASKS = DB_TASKS
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    sms_gateway.script = [503]
    from django_tasks_db.models import DBTaskResult

    with transaction.atomic():
        notification_queue(claim=claim, event=Event.REGISTERED)
    run_worker()

    sms_row = Delivery.objects.get(medium="sms")
    assert (sms_row.status, sms_row.attempts) == ("created", 1)
    retry = DBTaskResult.objects.get(status="READY")
    assert retry.run_after == sms_row.next_attempt_at
    # The retry is due later, so the worker leaves it; once due it runs.
    run_worker()
    assert Delivery.objects.get(medium="sms").attempts == 1
    DBTaskResult.objects.filter(pk=retry.pk).update(run_after=timezone.now() - timedelta(seconds=1))
    Delivery.objects.filter(pk=sms_row.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    run_worker()

    sms_row.refresh_from_db()
    assert (sms_row.status, sms_row.attempts) == ("delivered", 2)
    assert len(sms_gateway.accepted) == 1


@pytest.mark.django_db
def test_sweep_task_calls_the_sweep(claim, dummy_tasks):
    Delivery.objects.create(claim=claim, event=Event.REGISTERED, medium="sms", language="az",
                            recipient=claim.phone, body="x")
    Delivery.objects.update(updated_at=timezone.now() - timedelta(days=1))
    assert sweep_deliveries.call() == 1
    assert sweep_deliveries.queue_name == deliver_notification.queue_name == "notifications"
