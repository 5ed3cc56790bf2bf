"""Work after a commit never changes a committed answer: when the database goes away right after
a claim was committed (a PostgreSQL restart), the channel still gets its 201, and the call's
audit entry that could not be written is logged and counted instead."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.db import OperationalError, connection, transaction
from prometheus_client import REGISTRY

from claims.models import Claim

from .conftest import Api, claim_form

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("default_templates")]


@pytest.fixture(autouse=True)
def _published_consent_text(db: None) -> None:
    """The consent text of the data migration (a transactional test elsewhere may have flushed it)."""
    importlib.import_module("claims.migrations.0007_consent_text_v1").publish(apps, None)


def _failures() -> float:
    return REGISTRY.get_sample_value("after_commit_failures_total", {"work": "api_call_audit"}) or 0.0


class DatabaseGoneAfterCommit:
    """A query wrapper (Django's ``connection.execute_wrapper``): once the transaction that wrote
    the idempotency key has committed, every statement fails as on a restarted server."""

    def __init__(self) -> None:
        self.committed = self.gone = False

    def _commit(self) -> None:
        self.committed = True

    def __call__(self, execute, sql, params, many, context):
        if self.committed:
            self.gone = True
            raise OperationalError("server closed the connection unexpectedly")
        result = execute(sql, params, many, context)
        if sql.startswith("INSERT") and "api_apiidempotencykey" in sql:
            transaction.on_commit(self._commit)
        return result


def test_a_claim_committed_before_the_database_went_away_is_answered_201(egov, citizen, account, jpeg_upload):
    photos = {m.serial_number: jpeg_upload() for m in account.meters.all()}
    api = Api(egov, citizen.fin)
    before = _failures()
    gone = DatabaseGoneAfterCommit()
    with connection.execute_wrapper(gone):
        response = api.post("/claims/", claim_form(account, photos=photos), headers={"Idempotency-Key": "k"})
    assert gone.gone, response.content  # the audit after the commit did fail
    assert response.status_code == 201, response.content
    assert response.json()["number"] == Claim.objects.get().number
    assert response["Location"].endswith(f"/claims/{Claim.objects.get().number}/")
    assert _failures() == before + 1

    # The channel's retry with the same key gets the same claim, nothing is filed twice.
    photos = {m.serial_number: jpeg_upload() for m in account.meters.all()}
    again = api.post("/claims/", claim_form(account, photos=photos), headers={"Idempotency-Key": "k"})
    assert again.status_code == 200 and again.json()["number"] == response.json()["number"]
    assert Claim.objects.count() == 1
