"""Helpers shared by the outbox-style deliveries (notifications, webhooks): rows written in the
transaction of their cause, delivered by tasks, re-enqueued by a sweep."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import datetime

from django.db.models import QuerySet

logger = logging.getLogger(__name__)


def enqueue_task(task, row_id: int, run_after: datetime | None = None) -> None:
    """Enqueue the delivery task of one row, deferred when the backend can defer."""
    if run_after is not None and task.get_backend().supports_defer:
        task = task.using(run_after=run_after)
    task.enqueue(row_id)


def id_batches(queryset: QuerySet, size: int) -> Iterator[list[int]]:
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
