"""The outbox engine: one for every outgoing message (e-mail, SMS, webhook, billing posting).

A message is first a row of a model built on ``OutboxRow``, written in the transaction of the
change that causes it; ``Outbox.enqueue_on_commit`` enqueues its delivery task when that
transaction commits. The task calls ``Outbox.deliver``, which

1. claims the row (``SELECT … FOR UPDATE SKIP LOCKED`` where the database has it: a row another
   worker holds is its business; SQLite serialises writers instead), leaves it alone unless it
   is ``created`` and due, marks it ``sending`` with one more attempt and commits, so that no
   lock is held while the remote side is called;
2. calls the user's ``send(row)``. It returns the fields to store on the delivered row (or None)
   or raises ``PermanentError`` (the remote side will never take it: ``failed`` at once, visible
   to staff) or ``RetryableError`` (it may take it later). An ``OSError`` (refused, timed out,
   reset) is retryable too. Any other exception is a bug or a misconfiguration: logged with its
   traceback and retried the same bounded way, so that no row stays in ``sending``;
3. records the outcome, but only if this attempt still owns the row: ``delivered``, ``created``
   again with ``next_attempt_at`` (capped exponential backoff) and the retry's task enqueued for
   then, or ``failed`` once the attempts are used up.

``Outbox.sweep`` (a periodic task) re-enqueues ``created`` rows whose task was lost and rescues
rows whose worker stopped mid-send; ``Outbox.retry`` is staff sending a ``failed`` row again.
Delivery is at least once: the receiving side must tolerate a duplicate.

The limits are settings named after each user's prefix, read at each call (so a test or an
operator may change them): ``<PREFIX>_MAX_ATTEMPTS`` (attempts before a row is failed),
``<PREFIX>_BACKOFF_SECONDS`` (the wait after the first failed attempt; it doubles after each
one, up to ``BACKOFF_CAP_SECONDS``) and ``<PREFIX>_STALE_SECONDS`` (how long a row may sit
untouched before the sweep takes it for lost).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any, Generic, TypeVar

from django.conf import settings
from django.db import connections, models, router, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

logger = logging.getLogger(__name__)

ERROR_MAX_CHARS = 2000
# However many attempts a setting allows, a retry is never further away than this.
BACKOFF_CAP_SECONDS = 6 * 3600


class OutboxStatus(models.TextChoices):
    CREATED = "created", _("Yaradılıb")
    SENDING = "sending", _("Göndərilir")
    DELIVERED = "delivered", _("Çatdırılıb")
    FAILED = "failed", _("Uğursuz")


class OutboxRow(models.Model):
    """The state the engine keeps on every outgoing message. A user's model adds what it sends
    (recipient, body, payload) and its own indexes (``status, next_attempt_at`` serves the
    sweep)."""

    status = models.CharField(max_length=12, choices=OutboxStatus.choices, default=OutboxStatus.CREATED)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True


class RetryableError(Exception):
    """The remote side may take the message later: retried with backoff."""


class PermanentError(Exception):
    """The remote side will never take the message as it is: failed at once."""


class NotRetryable(Exception):
    """Staff may send again only a failed row (and only one its user says can be sent)."""


def error_text(error: BaseException) -> str:
    """What ``last_error`` shows. The engine's own two classes carry a text their raiser wrote
    for the operator ("HTTP 503"); anything else is named by its type ("ConnectionRefusedError:
    [Errno 111] …")."""
    text = str(error) if type(error) in (RetryableError, PermanentError) else f"{type(error).__name__}: {error}"
    return text[:ERROR_MAX_CHARS]


def enqueue_task(task: Any, row_id: int, run_after: datetime | None = None) -> None:
    """Enqueue the delivery task of one row, deferred when the backend can defer."""
    if run_after is not None and task.get_backend().supports_defer:
        task = task.using(run_after=run_after)
    task.enqueue(row_id)


def id_batches(queryset: QuerySet[Any], size: int) -> Iterator[list[int]]:
    """The primary keys of ``queryset`` in ascending batches (keyset pagination: no OFFSET)."""
    last = 0
    while True:
        ids = list(queryset.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:size])
        if not ids:
            return
        yield ids
        last = ids[-1]


def enqueue_each(ids: list[int], enqueue: Callable[[int], None], what: str) -> int:
    """Enqueue each id; one that cannot be enqueued is logged and left to the next sweep."""
    done = 0
    for pk in ids:
        try:
            enqueue(pk)
            done += 1
        except Exception:
            logger.exception("sweep: could not enqueue %s %s", what, pk)
    return done


Row = TypeVar("Row", bound=OutboxRow)


@dataclass(frozen=True, kw_only=True)
class Outbox(Generic[Row]):
    """One kind of outgoing message: its model, its task and how it is sent.

    - ``task``: dotted path of the Tasks API task that takes a row's id and calls ``deliver``
      (a path, because task modules import the services that build the outbox);
    - ``send(row)``: hands the row to the remote side (see the module's docstring);
    - ``settings_prefix``: the limits are the settings ``<prefix>_MAX_ATTEMPTS``,
      ``<prefix>_BACKOFF_SECONDS`` and ``<prefix>_STALE_SECONDS``;
    - ``what``: the row's name in logs and errors; ``describe(row)`` a longer one for logs;
    - ``hold(row, now)``: asked, with the row locked, before an attempt; a time returned puts the
      row off until then without using an attempt (webhooks: a claim's earlier event first);
    - ``settled(row)``: called after ``deliver`` left the row delivered or failed.
    """

    model: type[Row]
    task: str
    send: Callable[[Row], Mapping[str, Any] | None]
    settings_prefix: str
    what: str = "message"
    describe: Callable[[Row], str] | None = None
    hold: Callable[[Row, datetime], datetime | None] | None = None
    settled: Callable[[Row], None] | None = None

    # --- Enqueueing ----------------------------------------------------------------------------

    def enqueue(self, pk: int, run_after: datetime | None = None) -> None:
        enqueue_task(import_string(self.task), pk, run_after)

    def enqueue_on_commit(self, pk: int) -> None:
        """Enqueue the row's task when the current transaction commits. Robust: a broker that is
        down must not fail the committed change; the sweep enqueues the row later."""
        transaction.on_commit(partial(self.enqueue, pk), robust=True)

    # --- Sending -------------------------------------------------------------------------------

    def deliver(self, pk: int) -> None:
        """Send one row; what its task calls. Idempotent: only a ``created`` row that is due (no
        ``next_attempt_at``, or one in the past) is sent, so a task that runs twice sends once."""
        now = timezone.now()
        with transaction.atomic(using=self._db()):
            row = self._claim(pk)
            if row is None or row.status != OutboxStatus.CREATED:
                return
            if row.next_attempt_at is not None and row.next_attempt_at > now:
                return  # an early duplicate; the retry's own task or the sweep sends it when due
            wait_until = self.hold(row, now) if self.hold is not None else None
            if wait_until is not None:
                row.next_attempt_at = wait_until
                row.save(update_fields=["next_attempt_at", "updated_at"])
                return
            row.status = OutboxStatus.SENDING
            row.attempts += 1
            row.save(update_fields=["status", "attempts", "updated_at"])
        attempt = row.attempts

        try:
            stored = self.send(row)
        except PermanentError as e:
            self._fail(row, attempt=attempt, error=error_text(e))
        except (RetryableError, OSError) as e:
            self._retry_later(row, attempt=attempt, error=error_text(e))
        except Exception as e:
            logger.exception("%s: unexpected error", self._name(row))
            self._retry_later(row, attempt=attempt, error=error_text(e))
        else:
            self._delivered(row, stored=stored or {})

    def backoff(self, attempt: int) -> timedelta:
        """How long after failed attempt number ``attempt`` (1, 2, …) the next one is due."""
        base = self._setting("BACKOFF_SECONDS")
        return timedelta(seconds=min(BACKOFF_CAP_SECONDS, base * 2 ** (attempt - 1)))

    def _setting(self, name: str) -> int:
        return int(getattr(settings, f"{self.settings_prefix}_{name}"))

    def _db(self) -> str:
        return router.db_for_write(self.model)

    def _rows(self) -> QuerySet[Row]:
        return self.model._default_manager.using(self._db())

    def _name(self, row: Row) -> str:
        return self.describe(row) if self.describe is not None else f"{self.what} {row.pk}"

    def _claim(self, pk: int) -> Row | None:
        rows = self._rows().filter(pk=pk)
        if connections[self._db()].features.has_select_for_update_skip_locked:
            row = rows.select_for_update(skip_locked=True).first()
            if row is None and rows.exists():
                return None  # another worker holds it: the row is its business
        else:
            row = rows.select_for_update().first()
        if row is None:
            logger.warning("%s %s does not exist", self.what, pk)
        return row

    def _owned(self, row: Row, attempt: int) -> QuerySet[Row]:
        # Only the attempt that still owns the row decides its fate (the sweep may have taken a
        # slow send for a stopped one and started another).
        return self._rows().filter(pk=row.pk, status=OutboxStatus.SENDING, attempts=attempt)

    def _delivered(self, row: Row, *, stored: Mapping[str, Any]) -> None:
        now = timezone.now()
        # "created" too: the sweep may have taken a slow send for a lost one; the message went.
        self._rows().filter(pk=row.pk, status__in=[OutboxStatus.SENDING, OutboxStatus.CREATED]).update(
            status=OutboxStatus.DELIVERED, delivered_at=now, next_attempt_at=None, updated_at=now, **stored,
        )
        logger.info("%s delivered", self._name(row))
        if self.settled is not None:
            self.settled(row)

    def _fail(self, row: Row, *, attempt: int, error: str) -> None:
        self._owned(row, attempt).update(
            status=OutboxStatus.FAILED, last_error=error, next_attempt_at=None, updated_at=timezone.now(),
        )
        logger.error("%s failed after %s attempt(s): %s", self._name(row), attempt, error)
        if self.settled is not None:
            self.settled(row)

    def _retry_later(self, row: Row, *, attempt: int, error: str) -> None:
        if attempt >= self._setting("MAX_ATTEMPTS"):
            self._fail(row, attempt=attempt, error=error)
            return
        now = timezone.now()
        next_attempt_at = now + self.backoff(attempt)
        updated = self._owned(row, attempt).update(
            status=OutboxStatus.CREATED, next_attempt_at=next_attempt_at, last_error=error, updated_at=now,
        )
        logger.warning("%s attempt %s failed, next at %s: %s", self._name(row), attempt, next_attempt_at.isoformat(),
                       error)
        if updated:
            try:
                self.enqueue(row.pk, run_after=next_attempt_at)
            except Exception:
                logger.exception("%s: could not enqueue the retry; the sweep will", self._name(row))

    # --- Recovery ------------------------------------------------------------------------------

    def sweep(self, *, batch_size: int = 500) -> int:
        """Re-enqueue rows whose task was lost; returns how many were enqueued.

        - ``created`` rows that are due (``next_attempt_at`` empty or past) and untouched for the
          stale period: their enqueue was lost (a crash between commit and enqueue, a broker
          outage, a backend that cannot defer a retry) or is stuck. Each is touched when
          enqueued, so a long backlog gets at most one extra (harmless, idempotent) task per
          stale period, not one per sweep.
        - ``sending`` rows untouched for the stale period: their worker stopped mid-send. They
          go back to ``created`` and are enqueued (the message may go twice), or to ``failed``
          when their attempts are used up.

        Works in batches of ``batch_size`` rows; safe to run concurrently with workers and with
        another sweep.
        """
        now = timezone.now()
        cutoff = now - timedelta(seconds=self._setting("STALE_SECONDS"))
        max_attempts = self._setting("MAX_ATTEMPTS")
        rows = self._rows()
        enqueued = 0

        stale = rows.filter(status=OutboxStatus.SENDING, updated_at__lt=cutoff)
        given_up = stale.filter(attempts__gte=max_attempts).update(
            status=OutboxStatus.FAILED, next_attempt_at=None, updated_at=now,
            last_error=f"the worker stopped while sending attempt {max_attempts}; gave up",
        )
        if given_up:
            logger.error("sweep: %s stale %s rows failed after %s attempts", given_up, self.what, max_attempts)
        for ids in id_batches(stale.filter(attempts__lt=max_attempts), batch_size):
            rows.filter(pk__in=ids, status=OutboxStatus.SENDING, updated_at__lt=cutoff).update(
                status=OutboxStatus.CREATED, next_attempt_at=None, updated_at=now,
                last_error="the worker stopped while sending; sent again by the sweep",
            )
            logger.warning("sweep: %s %s rows stuck in sending sent again", len(ids), self.what)
            enqueued += enqueue_each(ids, self.enqueue, self.what)

        due = rows.filter(
            Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now), status=OutboxStatus.CREATED,
        ).filter(updated_at__lt=cutoff)
        for ids in id_batches(due, batch_size):
            rows.filter(pk__in=ids, status=OutboxStatus.CREATED).update(updated_at=now)
            enqueued += enqueue_each(ids, self.enqueue, self.what)
        if enqueued:
            logger.info("sweep: %s %s rows enqueued", enqueued, self.what)
        return enqueued

    def retry(self, pk: int, *, check: Callable[[Row], None] | None = None) -> tuple[Row, dict[str, Any]]:
        """Staff send a ``failed`` row again: back to ``created`` with its attempts reset, its
        task enqueued on commit. ``check(row)`` may refuse it too (raising ``NotRetryable``).
        Returns the row and what it was before, for the caller's audit entry (recorded in the
        same transaction: call this inside one)."""
        with transaction.atomic(using=self._db()):
            row = self._rows().select_for_update().get(pk=pk)
            if row.status != OutboxStatus.FAILED:
                raise NotRetryable(f"{self.what} {row.pk} is {row.status}, not failed")
            if check is not None:
                check(row)
            before = {"status": row.status, "attempts": row.attempts, "last_error": row.last_error}
            row.status = OutboxStatus.CREATED
            row.attempts = 0
            row.next_attempt_at = None
            row.save(update_fields=["status", "attempts", "next_attempt_at", "updated_at"])
            self.enqueue_on_commit(row.pk)
        return row, before
