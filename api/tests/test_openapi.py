"""The OpenAPI description: committed and current, served, and true to the API (schemathesis
generates requests from it and checks the answers against it)."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.core.management import call_command

from .conftest import Api, claim_form, register_channel

COMMITTED = Path(settings.BASE_DIR) / "docs" / "openapi.yaml"


def test_the_committed_openapi_description_is_current(tmp_path):
    generated = tmp_path / "openapi.yaml"
    call_command("spectacular", "--file", str(generated), "--fail-on-warn")
    assert COMMITTED.read_text(encoding="utf-8") == generated.read_text(encoding="utf-8"), (
        "docs/openapi.yaml is stale: run `.venv/bin/python manage.py spectacular --file docs/openapi.yaml`"
    )


def test_the_description_is_served_without_credentials(client):
    response = client.get("/api/v1/schema/")
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/claims/" in schema["paths"]
    assert set(schema["components"]["securitySchemes"]) == {"ApiKey", "CitizenToken"}
    assert "/api/v1/schema/" not in schema["paths"]


@contextmanager
def wsgi_app():
    """The project's WSGI application, run in this thread on the test's database connection.
    Django closes "old" connections around each request; that would close the test's
    transaction, so that is switched off meanwhile, as Django's own test client does (which
    switches it back on after each of its requests: do not use it inside this block)."""
    from django.core import signals
    from django.db import close_old_connections

    from config.wsgi import application

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield application
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def hypothesis_home(tmp_path):
    """Hypothesis keeps caches in .hypothesis/ of the working directory: not in the tree."""
    from hypothesis.configuration import set_hypothesis_home_dir

    set_hypothesis_home_dir(tmp_path / "hypothesis")
    yield
    set_hypothesis_home_dir(None)


@pytest.mark.usefixtures("default_templates")
def test_schemathesis_finds_no_server_error_and_no_answer_outside_the_description(
    settings, citizen, account_two_meters, foreign_account, operator, jpeg_upload, hypothesis_home,
):
    import schemathesis
    from hypothesis import HealthCheck, given
    from hypothesis import settings as hypothesis_settings
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

    settings.API_RATE_PER_CHANNEL_PER_MINUTE = 100_000
    settings.API_RATE_PER_CITIZEN_PER_MINUTE = 100_000
    settings.FOREIGN_ACCOUNT_LOOKUPS_PER_HOUR = 100_000
    egov = register_channel("egov")
    # A claim to read, so that the claim operations answer 200 too.
    api = Api(egov, fin=citizen.fin)
    photos = {m.serial_number: jpeg_upload() for m in account_two_meters.meters.all()}
    filed = api.post("/claims/", claim_form(account_two_meters, photos=photos), headers={"Idempotency-Key": "seed-1"})
    assert filed.status_code == 201, filed.content
    number = filed.json()["number"]
    invoice = filed.json()["invoice_number"]

    with wsgi_app() as application:
        schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", application)
        checks = [not_a_server_error, response_schema_conformance, content_type_conformance]
        known = {"subscriber_code": account_two_meters.subscriber_code, "invoice_number": invoice, "number": number}
        exercised: list[tuple[str, int]] = []

        for result in schema.get_all_operations():
            operation = result.ok()
            method = operation.method.upper()
            if method == "POST" and operation.path != "/api/v1/claims/":
                continue  # state-changing operations on a claim are tested by hand (test_claims)
            fixed = {k: v for k, v in known.items() if k in {p.name for p in operation.path_parameters}}
            strategies = [operation.as_strategy()]
            if fixed:
                strategies.append(operation.as_strategy(path_parameters=fixed))
            for strategy in strategies:

                @given(case=strategy)
                @hypothesis_settings(max_examples=12, deadline=None, database=None, derandomize=True,
                                     suppress_health_check=list(HealthCheck))
                def run(case):
                    headers = egov.headers(citizen.fin)
                    response = case.call(headers=headers)
                    case.validate_response(response, checks=checks, headers=headers)
                    # run() is called right below, inside this iteration: the loop variable is current.
                    exercised.append((operation.label, response.status_code))  # noqa: B023

                run()

    statuses = {label: {s for lbl, s in exercised if lbl == label} for label, _s in exercised}
    # The fixed path parameters reached the real data.
    assert 200 in statuses["GET /api/v1/claims/{number}/"]
    assert 200 in statuses["GET /api/v1/accounts/{subscriber_code}/invoices/{invoice_number}/meters/"]
    assert 404 in statuses["GET /api/v1/accounts/{subscriber_code}/"]
    assert statuses["POST /api/v1/claims/"] <= {200, 201, 400, 409, 415, 422}
