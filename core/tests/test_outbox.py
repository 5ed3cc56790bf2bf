"""The outbox engine, through a message model of its own and a stand-in for the remote side:
what an operator sees of a row (its status, attempts, next attempt, last error) and of the
queue (which tasks were enqueued, for when)."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import pytest
import time_machine
from django.db import connection, models, transaction
from django.utils import timezone
from django_tasks import task, task_backends

from core.outbox import (
    BACKOFF_CAP_SECONDS,
    NotRetryable,
    Outbox,
    OutboxRow,
    OutboxStatus,
    PermanentError,
    RetryableError,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday morning; nothing here depends on the day
BACKOFF = 30
STALE = 300


class OutboxTestMessage(OutboxRow):
    to = models.CharField(max_length=50)
    reference = models.CharField(max_length=50, blank=True)

    objects: ClassVar[models.Manager[OutboxTestMessage]] = models.Manager()  # django-stubs sees no app model here

    class Meta:
        app_label = "core"


class Remote:
    """The remote side: answers from ``script`` in turn (an exception is raised), then accepts."""

    def __init__(self) -> None:
        self.script: list[BaseException] = []
        self.received: list[int] = []

    def reset(self) -> None:
        self.script.clear()
        self.received.clear()

    def send(self, row: OutboxTestMessage) -> dict[str, Any]:
        self.received.append(row.pk)
        if self.script:
            raise self.script.pop(0)
        return {"reference": f"ref-{len(self.received)}"}


REMOTE = Remote()


@task()
def deliver_test_message(message_id: int) -> None:
    OUTBOX.deliver(message_id)


OUTBOX: Outbox[OutboxTestMessage] = Outbox(
    model=OutboxTestMessage,
    task=f"{__name__}.deliver_test_message",
    send=lambda row: REMOTE.send(row),
    settings_prefix="TEST_OUTBOX",
    what="test message",
)


@pytest.fixture(scope="module", autouse=True)
def _table(django_db_setup: None, django_db_blocker: Any) -> None:
    # core has no migrations: the test database usually has the table already (syncdb);
    # create it when it does not.
    with django_db_blocker.unblock():
        if OutboxTestMessage._meta.db_table not in connection.introspection.table_names():
            with connection.schema_editor() as editor:
                editor.create_model(OutboxTestMessage)


@pytest.fixture(autouse=True)
def remote(settings: Any) -> Iterator[Remote]:
    settings.TEST_OUTBOX_MAX_ATTEMPTS = 4
    settings.TEST_OUTBOX_BACKOFF_SECONDS = BACKOFF
    settings.TEST_OUTBOX_STALE_SECONDS = STALE
    REMOTE.reset()
    yield REMOTE
    REMOTE.reset()


@pytest.fixture
def queue() -> Any:
    """The Dummy task backend of the test settings, emptied: it records enqueued tasks and runs
    none (``deliver_test_message.call`` runs one here)."""
    backend = task_backends["default"]
    backend.clear()  # type: ignore[attr-defined]
    return backend


@pytest.fixture
def clock() -> Iterator[Any]:
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def enqueued(queue: Any) -> list[tuple[int, datetime | None]]:
    return [(r.args[0], r.task.run_after) for r in queue.results if r.task.name == "deliver_test_message"]


def state(row: OutboxTestMessage) -> tuple[str, int, datetime | None, str]:
    row.refresh_from_db()
    return row.status, row.attempts, row.next_attempt_at, row.last_error


pytestmark = pytest.mark.django_db


def test_a_temporary_failure_is_retried_later_with_backoff(clock, queue, remote):
    row = OutboxTestMessage.objects.create(to="+994501234567")
    remote.script = [RetryableError("gateway busy"), ConnectionResetError("connection reset by peer")]

    OUTBOX.deliver(row.pk)
    first_retry = T0 + timedelta(seconds=BACKOFF)
    assert state(row) == (OutboxStatus.CREATED, 1, first_retry, "gateway busy")
    assert enqueued(queue) == [(row.pk, first_retry)]  # the retry's task waits until it is due

    OUTBOX.deliver(row.pk)  # an early duplicate task sends nothing
    assert remote.received == [row.pk]

    clock.shift(timedelta(seconds=BACKOFF))
    OUTBOX.deliver(row.pk)
    second_retry = first_retry + timedelta(seconds=2 * BACKOFF)  # the wait doubles
    assert state(row) == (OutboxStatus.CREATED, 2, second_retry, "ConnectionResetError: connection reset by peer")

    clock.shift(timedelta(seconds=2 * BACKOFF))
    OUTBOX.deliver(row.pk)
    row.refresh_from_db()
    assert (row.status, row.attempts, row.next_attempt_at) == (OutboxStatus.DELIVERED, 3, None)
    assert (row.delivered_at, row.reference) == (second_retry, "ref-3")  # what send asked to store
    assert remote.received == [row.pk] * 3


def test_the_wait_between_attempts_doubles_up_to_a_cap(settings):
    settings.TEST_OUTBOX_BACKOFF_SECONDS = 3600
    waits = [OUTBOX.backoff(attempt).total_seconds() for attempt in (1, 2, 3, 4, 40)]
    assert waits == [3600, 7200, 14400, BACKOFF_CAP_SECONDS, BACKOFF_CAP_SECONDS]


def test_a_temporary_failure_on_the_last_attempt_fails_the_row(clock, queue, remote, settings):
    settings.TEST_OUTBOX_MAX_ATTEMPTS = 2
    row = OutboxTestMessage.objects.create(to="+994501234567")
    remote.script = [RetryableError("HTTP 503"), RetryableError("HTTP 503")]
    OUTBOX.deliver(row.pk)
    clock.shift(timedelta(seconds=BACKOFF))
    queue.clear()
    OUTBOX.deliver(row.pk)
    assert state(row) == (OutboxStatus.FAILED, 2, None, "HTTP 503")
    assert enqueued(queue) == []


def test_a_permanent_failure_is_failed_at_once_and_staff_can_send_it_again(
    clock, queue, remote, django_capture_on_commit_callbacks,
):
    row = OutboxTestMessage.objects.create(to="+99450")
    remote.script = [PermanentError("not a phone number: '+99450'")]

    OUTBOX.deliver(row.pk)
    assert state(row) == (OutboxStatus.FAILED, 1, None, "not a phone number: '+99450'")
    assert enqueued(queue) == []  # no retry
    assert list(OutboxTestMessage.objects.filter(status=OutboxStatus.FAILED)) == [row]  # what staff look at

    with django_capture_on_commit_callbacks(execute=True):
        _row, before = OUTBOX.retry(row.pk)
    assert before == {"status": OutboxStatus.FAILED, "attempts": 1, "last_error": "not a phone number: '+99450'",
                      "created_at": T0.isoformat()}
    assert state(row)[:3] == (OutboxStatus.CREATED, 0, None)
    assert enqueued(queue) == [(row.pk, None)]  # on commit
    deliver_test_message.call(row.pk)
    row.refresh_from_db()
    assert (row.status, row.attempts) == (OutboxStatus.DELIVERED, 1)


def test_an_unexpected_error_is_retried_and_never_left_sending(clock, queue, remote, settings):
    settings.TEST_OUTBOX_MAX_ATTEMPTS = 2
    row = OutboxTestMessage.objects.create(to="+994501234567")
    remote.script = [ValueError("bug"), ValueError("bug")]
    OUTBOX.deliver(row.pk)
    assert state(row) == (OutboxStatus.CREATED, 1, T0 + timedelta(seconds=BACKOFF), "ValueError: bug")
    clock.shift(timedelta(seconds=BACKOFF))
    OUTBOX.deliver(row.pk)
    assert state(row) == (OutboxStatus.FAILED, 2, None, "ValueError: bug")


def test_a_row_stuck_in_sending_is_rescued_by_the_sweep(clock, queue, remote, settings):
    # Two workers stopped mid-send at T0: one with attempts left, one on its last.
    stuck = OutboxTestMessage.objects.create(to="+994501234567", status=OutboxStatus.SENDING, attempts=1)
    last = OutboxTestMessage.objects.create(to="+994551112233", status=OutboxStatus.SENDING, attempts=4)

    clock.shift(timedelta(seconds=STALE - 1))  # a slow send, perhaps: left alone
    assert OUTBOX.sweep() == 0
    OUTBOX.deliver(stuck.pk)  # the row is another worker's: not sent twice
    assert remote.received == []
    assert state(stuck)[0] == OutboxStatus.SENDING

    clock.shift(timedelta(seconds=2))
    assert OUTBOX.sweep() == 1
    assert state(stuck) == (OutboxStatus.CREATED, 1, None, "the worker stopped while sending; sent again by the sweep")
    assert enqueued(queue) == [(stuck.pk, None)]
    assert state(last) == (OutboxStatus.FAILED, 4, None, "the worker stopped while sending its last attempt; gave up")

    deliver_test_message.call(stuck.pk)
    assert state(stuck)[:2] == (OutboxStatus.DELIVERED, 2)
    assert remote.received == [stuck.pk]


def test_created_rows_whose_task_was_lost_are_enqueued_again_once_per_stale_period(clock, queue, remote):
    lost = OutboxTestMessage.objects.create(to="a")
    lost_retry = OutboxTestMessage.objects.create(to="b", attempts=1, next_attempt_at=T0 + timedelta(seconds=60))
    later = OutboxTestMessage.objects.create(to="c", attempts=1, next_attempt_at=T0 + timedelta(hours=2))
    clock.shift(timedelta(seconds=STALE + 1))
    fresh = OutboxTestMessage.objects.create(to="d")  # its task is probably still in the queue

    assert OUTBOX.sweep(batch_size=1) == 2
    assert sorted(enqueued(queue)) == [(lost.pk, None), (lost_retry.pk, None)]
    assert OUTBOX.sweep() == 0  # touched: no pile of duplicates on the next sweep
    clock.shift(timedelta(seconds=STALE + 1))
    assert OUTBOX.sweep() == 3  # still not sent (the worker is down): again, now with the fresh one
    assert {pk for pk, _ in enqueued(queue)} == {lost.pk, lost_retry.pk, fresh.pk}
    assert later.pk not in {pk for pk, _ in enqueued(queue)}


def test_a_delivered_row_is_never_sent_again(clock, queue, remote):
    row = OutboxTestMessage.objects.create(to="+994501234567")
    deliver_test_message.call(row.pk)
    deliver_test_message.call(row.pk)  # the task ran twice
    assert remote.received == [row.pk]
    assert state(row)[:2] == (OutboxStatus.DELIVERED, 1)

    clock.shift(timedelta(days=1))
    assert OUTBOX.sweep() == 0
    assert enqueued(queue) == []
    with pytest.raises(NotRetryable):
        OUTBOX.retry(row.pk)
    assert remote.received == [row.pk]


def test_a_missing_row_is_ignored(remote):
    OUTBOX.deliver(987654)
    assert remote.received == []


def test_a_row_held_back_waits_without_using_an_attempt(clock, remote):
    held = {"until": T0 + timedelta(seconds=10)}
    settled: list[tuple[int, str]] = []
    outbox = dataclasses.replace(
        OUTBOX,
        hold=lambda row, now: held["until"] if held["until"] > now else None,
        settled=lambda row: settled.append((row.pk, OutboxTestMessage.objects.get(pk=row.pk).status)),
    )
    row = OutboxTestMessage.objects.create(to="+994501234567")
    outbox.deliver(row.pk)
    assert state(row) == (OutboxStatus.CREATED, 0, T0 + timedelta(seconds=10), "")
    assert remote.received == [] and settled == []

    clock.shift(timedelta(seconds=10))
    outbox.deliver(row.pk)
    assert state(row)[:2] == (OutboxStatus.DELIVERED, 1)
    assert settled == [(row.pk, OutboxStatus.DELIVERED)]


@pytest.mark.django_db(transaction=True)
def test_a_row_another_worker_is_claiming_is_left_to_it(remote):
    if not connection.features.has_select_for_update_skip_locked:
        pytest.skip("SQLite serialises writers: there is no row lock to skip")
    row = OutboxTestMessage.objects.create(to="+994501234567")
    locked, release = threading.Event(), threading.Event()

    def other_worker() -> None:
        try:
            with transaction.atomic():
                OutboxTestMessage.objects.select_for_update().get(pk=row.pk)
                locked.set()
                release.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=other_worker)
    thread.start()
    try:
        assert locked.wait(10)
        OUTBOX.deliver(row.pk)  # returns at once instead of waiting for the lock
        assert remote.received == []
    finally:
        release.set()
        thread.join(10)
    assert state(row)[:2] == (OutboxStatus.CREATED, 0)


# --- The retry horizon -----------------------------------------------------------------------------


@pytest.fixture
def horizon(settings: Any) -> None:
    """Retries for an hour, however many attempts that takes; waits of 30 s doubling up to 10 min."""
    settings.TEST_OUTBOX_MAX_ATTEMPTS = 0
    settings.TEST_OUTBOX_RETRY_HORIZON = 3600
    settings.TEST_OUTBOX_BACKOFF_BASE = 30
    settings.TEST_OUTBOX_BACKOFF_CAP = 600


def _run_due(clock: Any, row: OutboxTestMessage) -> None:
    """Move the clock just past the row's next attempt and let the sweep enqueue it (as in
    production when the backend cannot defer a task)."""
    clock.move_to(row.next_attempt_at + timedelta(seconds=1))
    assert OUTBOX.sweep() == 1


@pytest.mark.usefixtures("horizon")
def test_an_outage_longer_than_any_attempt_budget_is_waited_out(clock, queue, remote, settings):
    settings.TEST_OUTBOX_STALE_SECONDS = 1
    row = OutboxTestMessage.objects.create(to="+994501234567")
    remote.script = [ConnectionRefusedError("[Errno 111] Connection refused")] * 8  # down for about 45 minutes

    deliver_test_message.call(row.pk)
    waits = []
    while state(row)[0] == OutboxStatus.CREATED:
        waits.append((row.next_attempt_at - row.updated_at).total_seconds())
        _run_due(clock, row)
        queue.results[-1].task.call(row.pk)
    assert waits == [30, 60, 120, 240, 480, 600, 600, 600]  # doubling, capped
    assert state(row)[:2] == (OutboxStatus.DELIVERED, 9)


@pytest.mark.usefixtures("horizon")
def test_after_the_horizon_a_temporary_failure_fails_the_row(clock, queue, remote):
    row = OutboxTestMessage.objects.create(to="+994501234567")
    remote.script = [RetryableError("HTTP 503")] * 1000
    deliver_test_message.call(row.pk)
    while state(row)[0] == OutboxStatus.CREATED:
        assert row.next_attempt_at <= T0 + timedelta(hours=1)  # never scheduled past the horizon
        clock.move_to(row.next_attempt_at)
        OUTBOX.deliver(row.pk)
    status, attempts, next_attempt_at, error = state(row)
    assert (status, next_attempt_at, error) == (OutboxStatus.FAILED, None, "HTTP 503")
    assert remote.received == [row.pk] * attempts
    assert timezone.now() == T0 + timedelta(hours=1)  # the last attempt was made at the horizon itself

    # Sent again by staff: a new hour from now.
    OUTBOX.retry(row.pk)
    remote.script = [RetryableError("HTTP 503")]
    OUTBOX.deliver(row.pk)
    assert state(row)[:3] == (OutboxStatus.CREATED, 1, T0 + timedelta(hours=1, seconds=30))


@pytest.mark.usefixtures("horizon")
def test_a_row_stuck_in_sending_past_the_horizon_is_failed_by_the_sweep(clock, queue, remote):
    young = OutboxTestMessage.objects.create(to="a", status=OutboxStatus.SENDING, attempts=40)
    clock.shift(timedelta(hours=1))
    old_row = OutboxTestMessage.objects.filter(pk=young.pk)
    old = OutboxTestMessage.objects.create(to="b", status=OutboxStatus.SENDING, attempts=1)
    OutboxTestMessage.objects.filter(pk=old.pk).update(created_at=T0 - timedelta(hours=2))
    old_row.update(created_at=T0 + timedelta(minutes=30))
    clock.shift(timedelta(seconds=STALE + 1))
    assert OUTBOX.sweep() == 1
    assert state(young)[0] == OutboxStatus.CREATED  # forty attempts, but time left
    assert state(old)[0] == OutboxStatus.FAILED


def test_neither_a_horizon_nor_an_attempt_limit_is_a_configuration_error(remote, settings):
    from django.core.exceptions import ImproperlyConfigured

    settings.TEST_OUTBOX_MAX_ATTEMPTS = 0
    with pytest.raises(ImproperlyConfigured):
        OUTBOX.sweep()


# --- Order ------------------------------------------------------------------------------------------


IN_ORDER = dataclasses.replace(OUTBOX, in_order_of=("to",))


def test_a_later_message_of_a_sequence_waits_for_the_earlier_one(clock, queue, remote):
    first = OutboxTestMessage.objects.create(to="+994501234567")
    second = OutboxTestMessage.objects.create(to="+994501234567")
    elsewhere = OutboxTestMessage.objects.create(to="+994551112233")
    remote.script = [RetryableError("HTTP 500")]

    IN_ORDER.deliver(first.pk)
    assert state(first)[:2] == (OutboxStatus.CREATED, 1)
    IN_ORDER.deliver(second.pk)  # the earlier one is retrying: wait, without using an attempt
    assert state(second)[:2] == (OutboxStatus.CREATED, 0)
    assert state(second)[2] >= T0 + timedelta(seconds=BACKOFF)
    IN_ORDER.deliver(elsewhere.pk)  # another recipient is another sequence
    assert state(elsewhere)[0] == OutboxStatus.DELIVERED

    clock.shift(timedelta(seconds=BACKOFF))
    queue.clear()
    IN_ORDER.deliver(first.pk)
    assert state(first)[0] == OutboxStatus.DELIVERED
    assert state(second)[2] is None and enqueued(queue) == [(second.pk, None)]  # due now, enqueued
    IN_ORDER.deliver(second.pk)
    assert state(second)[0] == OutboxStatus.DELIVERED
    assert remote.received == [first.pk, elsewhere.pk, first.pk, second.pk]


def test_a_failed_message_does_not_hold_the_sequence_back(clock, queue, remote):
    first = OutboxTestMessage.objects.create(to="+994501234567")
    second = OutboxTestMessage.objects.create(to="+994501234567")
    remote.script = [PermanentError("refused")]
    IN_ORDER.deliver(first.pk)
    assert state(first)[0] == OutboxStatus.FAILED
    IN_ORDER.deliver(second.pk)
    assert state(second)[0] == OutboxStatus.DELIVERED
