"""Work after a commit: a failure is logged under the work's name and never reaches the caller
(a ``functools.partial`` given to ``on_commit(robust=True)`` would fail Django's own log line)."""

from __future__ import annotations

import logging

import pytest
from django.db import transaction

from core.aftercommit import after_commit, delete_after_commit


@pytest.mark.django_db(transaction=True)
def test_work_that_fails_after_the_commit_is_logged_and_the_caller_goes_on(caplog):
    calls: list[str] = []

    def store_elsewhere(name: str) -> None:
        calls.append(name)
        raise OSError("storage down")

    with caplog.at_level(logging.ERROR), transaction.atomic():
        after_commit(store_elsewhere, "a.jpg")
        assert calls == []  # not before the commit
    assert calls == ["a.jpg"]
    assert "store_elsewhere" in caplog.text and "storage down" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_files_are_deleted_after_the_commit_and_not_after_a_rollback(tmp_path, settings):
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    kept = default_storage.save("drafts/kept.txt", ContentFile(b"x"))
    gone = default_storage.save("drafts/gone.txt", ContentFile(b"x"))
    with pytest.raises(RuntimeError), transaction.atomic():
        delete_after_commit(kept)
        raise RuntimeError("rolled back")
    with transaction.atomic():
        delete_after_commit(gone)
    assert default_storage.exists(kept) and not default_storage.exists(gone)
    default_storage.delete(kept)
