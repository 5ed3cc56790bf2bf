"""The audit trail is tamper-evident: every entry is chained to the one before it,
``audit_verify`` names the first broken entry, and on PostgreSQL the database itself refuses
UPDATE and DELETE of audit rows."""

from __future__ import annotations

import threading
from io import StringIO

import pgtrigger
import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, connections, transaction

from audit.models import AuditEntry
from audit.services import audit_record

pytestmark = pytest.mark.django_db


def verify() -> str:
    out = StringIO()
    call_command("audit_verify", stdout=out)
    return out.getvalue()


def entries(citizen, n=5) -> list[AuditEntry]:
    return [audit_record(actor=citizen, action=f"test_{i}", after={"i": i, "text": "ə"}, ip="::ffff:10.0.0.1")
            for i in range(n)]


def raw(sql: str, params: list) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql.format(table=AuditEntry._meta.db_table), params)


def tampered(sql: str, params: list) -> None:
    """Change the table behind the application's back (on PostgreSQL with the trigger switched
    off, as only a database owner could)."""
    if connection.vendor == "postgresql":
        with transaction.atomic(), pgtrigger.ignore("audit.AuditEntry:audit_append_only"):
            raw(sql, params)
    else:
        raw(sql, params)


def test_an_intact_chain_verifies(citizen):
    first, *_rest, last = entries(citizen)
    assert first.prev_hash == "0" * 64 and len(last.entry_hash) == 64
    assert "intact: 5 entries" in verify()


def test_a_changed_entry_is_named(citizen):
    rows = entries(citizen)
    tampered("UPDATE {table} SET after = %s WHERE id = %s", ['{"i": 99}', rows[2].pk])
    with pytest.raises(CommandError, match=f"#{rows[2].pk}: its content does not match"):
        verify()


def test_a_removed_entry_is_noticed_at_the_next_one(citizen):
    rows = entries(citizen)
    tampered("DELETE FROM {table} WHERE id = %s", [rows[1].pk])
    with pytest.raises(CommandError, match=f"#{rows[2].pk}: its prev_hash"):
        verify()


def test_the_application_cannot_change_or_delete_entries(citizen):
    row = entries(citizen, 1)[0]
    for attempt in (lambda: AuditEntry.objects.filter(pk=row.pk).update(action="x"),
                    lambda: AuditEntry.objects.filter(pk=row.pk).delete(), row.delete, row.save):
        with pytest.raises(PermissionError):
            attempt()


@pytest.mark.postgres
def test_postgres_refuses_raw_update_and_delete(citizen):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL leg only: the trigger is PostgreSQL's")
    row = entries(citizen, 1)[0]
    for sql in ("UPDATE {table} SET action = 'x' WHERE id = %s", "DELETE FROM {table} WHERE id = %s"):
        with pytest.raises(DatabaseError, match="Cannot update or delete"), transaction.atomic():
            raw(sql, [row.pk])
    assert AuditEntry.objects.get(pk=row.pk).action == "test_0"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_keep_one_chain(citizen):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL leg only: SQLite serialises writers by itself")
    barrier = threading.Barrier(6)
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            barrier.wait()
            for i in range(10):
                with transaction.atomic():
                    audit_record(actor=None, action=f"w{n}_{i}")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert AuditEntry.objects.filter(action__startswith="w").count() == 60
    assert "intact" in verify()
