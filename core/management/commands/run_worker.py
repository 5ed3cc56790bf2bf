"""``manage.py run_worker``: the task worker of production (same options as ``db_worker``).

django-tasks-db's ``db_worker`` exits on the first database error that is not a lock: a
PostgreSQL restart or fail-over stops every worker. This command runs the same worker and, when
the database goes away, closes the broken connections, waits (1 s, doubling up to
``--max-backoff``) and goes on polling; a task that was running is found again by the outbox
sweep, which re-enqueues rows that are still pending. SIGTERM and Ctrl-C stop it as before.
"""

from __future__ import annotations

import logging
import time
from argparse import ArgumentParser
from typing import Any

from django.db import connections
from django.db.utils import InterfaceError, OperationalError
from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand

logger = logging.getLogger(__name__)


class Command(DbWorkerCommand):
    help = "Run the task worker; it survives database restarts (reconnects with backoff)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--max-backoff", type=float, default=30.0,
                            help="Longest wait between reconnection attempts, in seconds (default: 30).")

    def handle(self, *args: Any, **options: Any) -> None:
        max_backoff = float(options.pop("max_backoff", 30.0))
        options["reload"] = False  # a reloader would hide the restarts from the process manager
        wait = 1.0
        while True:
            started = time.monotonic()
            try:
                super().handle(*args, **options)
                return  # --batch or --max-tasks: done
            except (OperationalError, InterfaceError) as exc:
                if time.monotonic() - started > 60:
                    wait = 1.0  # it ran a while: a new outage, start the backoff again
                logger.warning("task worker: the database is unreachable (%s); retrying in %.0f s",
                               type(exc).__name__, wait)
                for connection in connections.all(initialized_only=True):
                    connection.close_if_unusable_or_obsolete()
                    try:
                        connection.close()
                    except Exception:  # noqa: BLE001 - a dead connection may fail to close; it is dropped
                        logger.debug("closing a broken connection failed", exc_info=True)
                time.sleep(wait)
                wait = min(max_backoff, wait * 2)
