"""Work that follows a commit and must never fail the request that committed.

``transaction.on_commit(func, robust=True)`` logs a failing ``func`` by its ``__qualname__``,
which a ``functools.partial`` lacks (an AttributeError, a 500, instead of the log line). The
hooks here are plain functions with a name, run robustly.
"""

from __future__ import annotations

from collections.abc import Callable

from django.core.files.storage import default_storage
from django.db import transaction


def after_commit(func: Callable[..., object], *args: object) -> None:
    """Call ``func(*args)`` once the current transaction commits; a failure is logged (by Django,
    under ``django.db.backends.base``), never raised into the request."""

    def committed() -> None:
        func(*args)

    committed.__qualname__ = f"after_commit({getattr(func, '__qualname__', repr(func))})"
    transaction.on_commit(committed, robust=True)


def delete_after_commit(*names: str) -> None:
    """Delete stored files once the current transaction commits (drafts the commit made useless,
    files it erased); a storage that fails then leaves them for the next clean-up."""
    for name in names:
        after_commit(default_storage.delete, name)
