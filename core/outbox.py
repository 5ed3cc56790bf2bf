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
   then, or ``failed`` once the retry horizon has passed (or the attempts are used up).

``Outbox.sweep`` (a periodic task) re-enqueues ``created`` rows whose task was lost or whose
retry is due and rescues rows whose worker stopped mid-send; ``Outbox.retry`` is staff sending a
``failed`` row again. Delivery is at least once: each send carries a reference derived from the
row's id (an e-mail's Message-ID, an SMS's client reference, a webhook's event id), so that the
receiving side can drop a duplicate.

An outbox may keep its messages in order (``in_order_of``): a row is not sent while an earlier
row with the same values of those fields is pending (``created`` or ``sending``); when that one
is delivered or given up, the next one is due at once.

The limits are settings named after each user's prefix, read at each call (so a test or an
operator may change them); durations are seconds and may be fractions:

- ``<PREFIX>_RETRY_HORIZON``: how long after its creation a row is still retried; an attempt
  that fails after it fails the row (the last retry is moved up to the horizon);
- ``<PREFIX>_MAX_ATTEMPTS``: attempts before a row is failed (0 or absent: no limit but the
  horizon). At least one of the two must be set;
- ``<PREFIX>_BACKOFF_BASE`` (or, in older settings, ``<PREFIX>_BACKOFF_SECONDS``): the wait after
  the first failed attempt; it doubles after each one, up to ``<PREFIX>_BACKOFF_CAP`` (default
  ``BACKOFF_CAP_SECONDS``);
- ``<PREFIX>_STALE_SECONDS``: how long a row may sit untouched before the sweep takes it for
  lost.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connections, models, router, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

from core.aftercommit import after_commit
from core.logging import current_request_id

logger = logging.getLogger(__name__)

ERROR_MAX_CHARS = 2000
# Unless <PREFIX>_BACKOFF_CAP says otherwise, a retry is never further away than this.
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
    request_id = current_request_id()
    if request_id and getattr(task.func, "carries_request_id", False):
        task.enqueue(row_id, request_id=request_id)  # the task's log lines carry the request's id
    else:
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
    - ``settings_prefix``: the limits are the settings ``<prefix>_RETRY_HORIZON``,
      ``<prefix>_MAX_ATTEMPTS``, ``<prefix>_BACKOFF_BASE`` (or ``_BACKOFF_SECONDS``),
      ``<prefix>_BACKOFF_CAP`` and ``<prefix>_STALE_SECONDS`` (the module's docstring);
    - ``what``: the row's name in logs and errors; ``describe(row)`` a longer one for logs;
    - ``hold(row, now)``: asked, with the row locked, before an attempt; a time returned puts the
      row off until then without using an attempt (webhooks: a claim's earlier event first);
    - ``settled(row)``: called after ``deliver`` left the row delivered or failed;
    - ``in_order_of``: fields whose values make a sequence (a claim and its recipient): a row
      waits, without using an attempt, while an earlier row of its sequence is pending, and the
      next row is made due when it settles. A row with an empty one of them is in no sequence.
    """

    model: type[Row]
    task: str
    send: Callable[[Row], Mapping[str, Any] | None]
    settings_prefix: str
    what: str = "message"
    describe: Callable[[Row], str] | None = None
    hold: Callable[[Row, datetime], datetime | None] | None = None
    settled: Callable[[Row], None] | None = None
    in_order_of: tuple[str, ...] = ()

    # --- Enqueueing ----------------------------------------------------------------------------

    def enqueue(self, pk: int, run_after: datetime | None = None) -> None:
        enqueue_task(import_string(self.task), pk, run_after)

    def enqueue_on_commit(self, pk: int) -> None:
        """Enqueue the row's task when the current transaction commits. Robust: a broker that is
        down must not fail the committed change; the sweep enqueues the row later."""
        after_commit(self.enqueue, pk)

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
            wait_until = self._behind(row, now)
            if wait_until is None and self.hold is not None:
                wait_until = self.hold(row, now)
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
            try:
                self._delivered(row, stored=stored or {})
            except Exception:
                # The message went but the row still says "sending": the sweep sends it again
                # after the stale period, under the same reference, and the receiver drops it.
                logger.exception("%s was sent but could not be marked delivered", self._name(row))
                raise

    def backoff(self, attempt: int) -> timedelta:
        """How long after failed attempt number ``attempt`` (1, 2, …) the next one is due:
        ``BACKOFF_BASE`` doubled after each failed attempt, never more than ``BACKOFF_CAP``."""
        base = self._optional("BACKOFF_BASE")
        if base is None:
            base = self._setting("BACKOFF_SECONDS")
        cap = self._optional("BACKOFF_CAP")
        cap = BACKOFF_CAP_SECONDS if cap is None else cap
        return timedelta(seconds=min(cap, base * 2 ** min(attempt - 1, 62)))

    def horizon(self) -> timedelta | None:
        """How long after its creation a row is retried (``RETRY_HORIZON``), if limited so."""
        seconds = self._optional("RETRY_HORIZON")
        return None if seconds is None else timedelta(seconds=seconds)

    def _max_attempts(self) -> int | None:
        value = self._optional("MAX_ATTEMPTS")
        if not value and self.horizon() is None:
            raise ImproperlyConfigured(
                f"{self.settings_prefix}_RETRY_HORIZON or {self.settings_prefix}_MAX_ATTEMPTS must be set")
        return int(value) if value else None

    def _gives_up(self, row: Row, *, attempt: int, now: datetime) -> bool:
        """Whether a failed attempt ends the row's retries."""
        max_attempts = self._max_attempts()
        if max_attempts is not None and attempt >= max_attempts:
            return True
        horizon = self.horizon()
        return horizon is not None and now >= row.created_at + horizon

    def _setting(self, name: str) -> float:
        return float(getattr(settings, f"{self.settings_prefix}_{name}"))

    def _optional(self, name: str) -> float | None:
        value = getattr(settings, f"{self.settings_prefix}_{name}", None)
        return None if value is None else float(value)

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
        self._settled(row)

    def _fail(self, row: Row, *, attempt: int, error: str) -> None:
        self._owned(row, attempt).update(
            status=OutboxStatus.FAILED, last_error=error, next_attempt_at=None, updated_at=timezone.now(),
        )
        logger.error("%s failed after %s attempt(s): %s", self._name(row), attempt, error)
        self._settled(row)

    def _retry_later(self, row: Row, *, attempt: int, error: str) -> None:
        now = timezone.now()
        if self._gives_up(row, attempt=attempt, now=now):
            self._fail(row, attempt=attempt, error=error)
            return
        next_attempt_at = now + self.backoff(attempt)
        horizon = self.horizon()
        if horizon is not None:  # one last attempt at the horizon rather than none after it
            next_attempt_at = min(next_attempt_at, row.created_at + horizon)
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

    # --- Order ---------------------------------------------------------------------------------

    def _sequence(self, row: Row) -> dict[str, Any] | None:
        if not self.in_order_of:
            return None
        values = {field: getattr(row, field) for field in self.in_order_of}
        return None if any(v is None or v == "" for v in values.values()) else values

    def _behind(self, row: Row, now: datetime) -> datetime | None:
        """Until when ``row`` waits for an earlier row of its sequence that is still pending
        (None: it may go now). The earlier row is read, not locked: locking it would make its
        own worker skip it. The race with its completion is closed by this row's lock, held by
        ``deliver`` until this decision commits: ``_next_in_line`` updates this row, so it
        waits for the decision and then makes the row due again."""
        sequence = self._sequence(row)
        if sequence is None:
            return None
        earlier = (self._rows().filter(**sequence, pk__lt=row.pk,
                                       status__in=[OutboxStatus.CREATED, OutboxStatus.SENDING])
                   .order_by("pk").first())
        if earlier is None:
            return None
        # Made due again by the earlier row's end; this wait only matters if that nudge is lost.
        wait_until = now + self.backoff(1)
        if earlier.status == OutboxStatus.CREATED and earlier.next_attempt_at is not None:
            wait_until = max(wait_until, earlier.next_attempt_at)
        logger.info("%s waits for %s %s of its sequence", self._name(row), self.what, earlier.pk)
        return wait_until

    def _settled(self, row: Row) -> None:
        if self.settled is not None:
            self.settled(row)
        self._next_in_line(row)

    def _next_in_line(self, row: Row) -> None:
        """The next row of ``row``'s sequence (``row`` was delivered or given up: a failed row
        does not hold the later ones back) is due now and enqueued."""
        sequence = self._sequence(row)
        if sequence is None:
            return
        following = (self._rows().filter(**sequence, pk__gt=row.pk, status=OutboxStatus.CREATED)
                     .order_by("pk").values_list("pk", flat=True).first())
        if following is None:
            return
        self._rows().filter(pk=following, status=OutboxStatus.CREATED).update(next_attempt_at=None)
        try:
            self.enqueue(following)
        except Exception:
            logger.exception("%s %s: could not enqueue; the sweep will", self.what, following)

    # --- Recovery ------------------------------------------------------------------------------

    def sweep(self, *, batch_size: int = 500) -> int:
        """Re-enqueue rows whose task was lost; returns how many were enqueued.

        - ``created`` rows that are due (``next_attempt_at`` empty or past) and untouched for the
          stale period: their enqueue was lost (a crash between commit and enqueue, a broker
          outage, a backend that cannot defer a retry) or is stuck. Each is touched when
          enqueued, so a long backlog gets at most one extra (harmless, idempotent) task per
          stale period, not one per sweep.
        - ``sending`` rows untouched for the stale period: their worker stopped mid-send (or could
          not record the outcome). They go back to ``created`` and are enqueued (the message may
          go twice, under the same reference), or to ``failed`` when their horizon has passed or
          their attempts are used up.

        Works in batches of ``batch_size`` rows; safe to run concurrently with workers and with
        another sweep.
        """
        now = timezone.now()
        cutoff = now - timedelta(seconds=self._setting("STALE_SECONDS"))
        rows = self._rows()
        enqueued = 0

        stale = rows.filter(status=OutboxStatus.SENDING, updated_at__lt=cutoff)
        out_of_time = Q(pk__in=[])
        max_attempts, horizon = self._max_attempts(), self.horizon()
        if max_attempts is not None:
            out_of_time |= Q(attempts__gte=max_attempts)
        if horizon is not None:
            out_of_time |= Q(created_at__lte=now - horizon)
        given_up = stale.filter(out_of_time).update(
            status=OutboxStatus.FAILED, next_attempt_at=None, updated_at=now,
            last_error="the worker stopped while sending its last attempt; gave up",
        )
        if given_up:
            logger.error("sweep: %s stale %s rows failed: no attempt or time left", given_up, self.what)
        for ids in id_batches(stale.exclude(out_of_time), batch_size):
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
        """Staff send a ``failed`` row again: back to ``created`` with its attempts reset and a
        new retry horizon (``created_at`` becomes now), its task enqueued on commit.
        ``check(row)`` may refuse it too (raising ``NotRetryable``).
        Returns the row and what it was before, for the caller's audit entry (recorded in the
        same transaction: call this inside one)."""
        with transaction.atomic(using=self._db()):
            row = self._rows().select_for_update().get(pk=pk)
            if row.status != OutboxStatus.FAILED:
                raise NotRetryable(f"{self.what} {row.pk} is {row.status}, not failed")
            if check is not None:
                check(row)
            before = {"status": row.status, "attempts": row.attempts, "last_error": row.last_error,
                      "created_at": row.created_at.isoformat()}
            row.status = OutboxStatus.CREATED
            row.attempts = 0
            row.next_attempt_at = None
            # A new round: the retry horizon counts from now (the audit entry keeps the first time).
            row.created_at = timezone.now()
            row.save(update_fields=["status", "attempts", "next_attempt_at", "created_at", "updated_at"])
            self.enqueue_on_commit(row.pk)
        return row, before
