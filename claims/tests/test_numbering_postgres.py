"""Concurrent registrations on PostgreSQL never share a claim number."""

import threading

import pytest
from django.db import connection, connections, transaction

from claims.models import ClaimNumberSequence
from claims.services import claim_number_next

pytestmark = pytest.mark.postgres


@pytest.mark.django_db(transaction=True)
def test_concurrent_numbering_gives_distinct_consecutive_numbers():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL leg only: SQLite serialises writers by itself")
    numbers: list[str] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)
    lock = threading.Lock()

    def worker():
        try:
            barrier.wait()
            for _ in range(10):
                with transaction.atomic():
                    n = claim_number_next(year=2031)
                with lock:
                    numbers.append(n)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(numbers) == 80
    assert sorted(numbers) == [f"BA-2031-{i:06d}" for i in range(1, 81)]
    assert ClaimNumberSequence.objects.get(year=2031).last == 80
