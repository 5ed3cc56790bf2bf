"""Schemathesis against the committed description (docs/openapi.yaml), statefully: links from
the claim and account lists and from a filing lead to reading, answering and withdrawing
claims, so the fuzzer reaches the claims that already exist as well as the ones it files.
No answer is a server error. Examples are bounded to keep the run short."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from django.conf import settings as django_settings

from api.tests.conftest import Api, claim_form, register_channel
from api.tests.test_openapi import wsgi_app

COMMITTED = Path(django_settings.BASE_DIR) / "docs" / "openapi.yaml"

LINKS = {
    # (path, method, status): {link name: (target operationId, {parameter: runtime expression})}
    ("/api/v1/claims/", "get", "200"): {
        "ReadFirst": ("claims_retrieve", {"number": "$response.body#/0/number"}),
        "AnswerFirst": ("claims_answer", {"number": "$response.body#/0/number"}),
        "WithdrawFirst": ("claims_withdraw", {"number": "$response.body#/0/number"}),
        "LetterOfFirst": ("claims_letter", {"number": "$response.body#/0/number"}),
    },
    ("/api/v1/claims/", "post", "201"): {
        "Read": ("claims_retrieve", {"number": "$response.body#/number"}),
        "Withdraw": ("claims_withdraw", {"number": "$response.body#/number"}),
    },
    ("/api/v1/accounts/", "get", "200"): {
        "Account": ("accounts_retrieve", {"subscriber_code": "$response.body#/0/subscriber_code"}),
        "Invoices": ("accounts_invoices_list", {"subscriber_code": "$response.body#/0/subscriber_code"}),
    },
}


def linked_description() -> dict:
    description = yaml.safe_load(COMMITTED.read_text(encoding="utf-8"))
    for (path, method, status), links in LINKS.items():
        response = description["paths"][path][method]["responses"][status]
        response["links"] = {name: {"operationId": target, "parameters": params}
                             for name, (target, params) in links.items()}
    return description


@pytest.mark.usefixtures("default_templates")
def test_stateful_fuzzing_reaches_existing_claims_and_never_gets_a_server_error(
        settings, citizen, account_two_meters, operator, jpeg_upload, tmp_path):
    import schemathesis
    from hypothesis import HealthCheck
    from hypothesis import settings as hypothesis_settings
    from hypothesis.configuration import set_hypothesis_home_dir
    from schemathesis.checks import not_a_server_error

    set_hypothesis_home_dir(tmp_path / "hypothesis")
    settings.API_RATE_PER_CHANNEL_PER_MINUTE = settings.API_RATE_PER_CITIZEN_PER_MINUTE = 1_000_000
    settings.FOREIGN_ACCOUNT_LOOKUPS_PER_HOUR = 1_000_000
    egov = register_channel("egov")
    photos = {m.serial_number: jpeg_upload() for m in account_two_meters.meters.all()}
    existing = Api(egov, citizen.fin).post("/claims/", claim_form(account_two_meters, photos=photos),
                                           headers={"Idempotency-Key": "existing"})
    assert existing.status_code == 201, existing.content
    seen: list[tuple[str, int]] = []

    with wsgi_app() as application:
        schema = schemathesis.openapi.from_dict(linked_description())
        schema.app = application
        base = schema.as_state_machine()

        class Attack(base):  # type: ignore[misc, valid-type]
            def get_call_kwargs(self, case):
                return {"headers": egov.headers(citizen.fin)}

            def validate_response(self, response, case, additional_checks=None, **kwargs):
                seen.append((f"{case.operation.method.upper()} {case.operation.path}", response.status_code))
                case.validate_response(response, checks=[not_a_server_error])

        Attack.run(settings=hypothesis_settings(
            max_examples=25, stateful_step_count=4, deadline=None, database=None, derandomize=True,
            suppress_health_check=list(HealthCheck)))
    set_hypothesis_home_dir(None)

    assert not [s for s in seen if s[1] >= 500]
    reached = {label for label, status in seen if status < 300}
    # Through the list's links the fuzzer read (and acted on) the claim that existed before it.
    assert "GET /api/v1/claims/{number}/" in reached, sorted(set(seen))
