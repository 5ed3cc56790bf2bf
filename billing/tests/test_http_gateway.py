"""The HTTP billing gateway against the billing stand-in (scripts/billing_standin.py), a real
process on loopback, in every fault mode; and both sides against the contract
(docs/billing-api.yaml)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import time_machine
import yaml
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from openapi_schema_validator import OAS31Validator
from openapi_spec_validator import validate as validate_spec

from billing import contract
from billing.gateway import BillingUnavailable, LocalBillingGateway, get_gateway
from billing.http import BREAKER
from billing.models import Adjustment, Posting
from billing.services import posting_send
from claims.transitions import ClaimOutcome, ClaimStatus
from commission.services import decision_approve
from conftest import baku
from notifications.models import Delivery
from testkit.factories import ClaimFactory, latest_item
from testkit.net import free_port

ROOT = Path(__file__).resolve().parents[2]
SPEC_PATH = ROOT / "docs" / "billing-api.yaml"
TOKEN = "standin-token"  # noqa: S105 - the stand-in's test token
CLIENT_ID, CLIENT_SECRET = "e-service", "client-secret"  # noqa: S105
CLOCK = baku(2026, 10, 14)  # a Wednesday

pytestmark = pytest.mark.django_db


@dataclass
class Standin:
    root: str
    process: subprocess.Popen[bytes]

    @property
    def base(self) -> str:
        return f"{self.root}/billing/v1"

    def control(self, path: str, body: Any = None) -> Any:
        if body is None:
            return httpx.get(self.root + path, timeout=5).json()
        return httpx.post(self.root + path, json=body, timeout=5).json()

    def fault(self, mode: str, delay: float = 0) -> None:
        self.control("/_faults", {"mode": mode, "delay": delay})

    def load_local(self, *codes: str) -> None:
        """The stand-in's data: what the local billing tables hold for these accounts."""
        local = LocalBillingGateway()
        data: dict[str, Any] = {"reset": True, "accounts": [], "invoices": [], "readings": {}, "balances": {}}
        for code in codes:
            account = local.account_by_code(code)
            assert account is not None
            data["accounts"].append(contract.account_json(account))
            data["invoices"] += [contract.invoice_json(i) for i in local.invoices_of_account(code)]
            data["readings"][code] = [contract.reading_json(r) for r in local.readings_of_account(code)]
            data["balances"][code] = str(local.balance(code))
        self.control("/_data", data)

    def requests(self) -> list[dict[str, Any]]:
        return list(self.control("/_requests")["items"])

    def booked(self) -> list[dict[str, Any]]:
        return list(self.control("/_adjustments")["items"])


@pytest.fixture(scope="module")
def standin_process() -> Iterator[Standin]:
    port = free_port()
    env = dict(os.environ, BILLING_STANDIN_QUIET="1", DJANGO_SETTINGS_MODULE="config.settings_test")
    process = subprocess.Popen(  # noqa: S603 - our own script
        [sys.executable, str(ROOT / "scripts" / "billing_standin.py"), "--port", str(port), "--source", "memory",
         "--token", TOKEN, "--client-id", CLIENT_ID, "--client-secret", CLIENT_SECRET],
        env=env, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    root = f"http://127.0.0.1:{port}"
    while True:
        try:
            httpx.get(root + "/_health", timeout=1)
            break
        except httpx.TransportError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the billing stand-in did not start") from None
            time.sleep(0.1)
    yield Standin(root=root, process=process)
    process.terminate()
    process.wait(10)


@pytest.fixture
def standin(standin_process: Standin, settings: Any) -> Iterator[Standin]:
    """The product on the HTTP gateway (BILLING_URL and its token), short timeouts."""
    standin_process.fault("none")
    settings.BILLING_URL = standin_process.base
    settings.BILLING_GATEWAY = "billing.http.HttpBillingGateway"
    settings.BILLING_TOKEN = TOKEN
    settings.BILLING_CONNECT_TIMEOUT = 1.0
    settings.BILLING_READ_TIMEOUT = 0.5
    settings.BILLING_READ_RETRIES = 1
    settings.BILLING_RETRY_BACKOFF_SECONDS = 0.05
    settings.BILLING_BREAKER_FAILURES = 4
    settings.BILLING_BREAKER_OPEN_SECONDS = 60
    settings.BILLING_CACHE_SECONDS = 0
    BREAKER.reset()
    yield standin_process
    standin_process.fault("none")


# --- The contract ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    document = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
    validate_spec(document)  # a valid OpenAPI 3.1 document
    return dict(document)


def schema_validator(spec: dict[str, Any], schema: dict[str, Any]) -> OAS31Validator:
    # The contract's "#/components/..." references resolve against a root that carries them.
    return OAS31Validator({**schema, "components": spec["components"]})


def operation(spec: dict[str, Any], method: str, path: str) -> tuple[str, dict[str, Any]]:
    """The contract's path template and operation that ``path`` matches."""
    for template, item in spec["paths"].items():
        pattern = "^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$"
        if re.match(pattern, path) and method.lower() in item:
            return template, item[method.lower()]
    raise AssertionError(f"{method} {path} is not in the contract")


def check_response(spec: dict[str, Any], method: str, path: str, response: httpx.Response) -> None:
    _template, op = operation(spec, method, path)
    declared = op["responses"].get(str(response.status_code)) or op["responses"].get(f"{response.status_code // 100}XX")
    assert declared is not None, f"{method} {path}: status {response.status_code} is not declared"
    if "$ref" in declared:
        declared = spec["components"]["responses"][declared["$ref"].rsplit("/", 1)[-1]]
    media = response.headers["content-type"].split(";")[0]
    assert media in declared["content"], f"{method} {path}: {media} not declared"
    schema_validator(spec, declared["content"][media]["schema"]).validate(response.json())


def test_the_contract_is_valid_openapi_and_the_standin_answers_by_it(standin, spec, account):
    standin.load_local(account.subscriber_code)
    code = account.subscriber_code
    invoice = LocalBillingGateway().invoices_of_account(code)[0].number
    headers = {"Authorization": f"Bearer {TOKEN}"}
    calls = [
        ("GET", f"/accounts/{code}", None), ("GET", "/accounts/NOSUCH", None),
        ("GET", "/accounts", {"fin": account.holder_fin}), ("GET", f"/accounts/{code}/invoices", None),
        ("GET", f"/accounts/{code}/invoices", {"since": "2026-01-01"}), ("GET", f"/invoices/{invoice}", None),
        ("GET", "/invoices/NOSUCH", None), ("GET", f"/accounts/{code}/readings", None),
        ("GET", f"/accounts/{code}/balance", None), ("GET", f"/accounts/{code}/balance", {"as_of": "2026-06-30"}),
        ("GET", "/adjustments/claim:none:item:0", None),
    ]
    for method, path, params in calls:
        check_response(spec, method, path, httpx.request(method, standin.base + path, params=params,
                                                         headers=headers, timeout=5))
    body = {"subscriber_code": code, "invoice_number": invoice, "amount": "-20.00", "posted_on": "2026-10-14",
            "claim_number": "2026-000001", "note": "protocol K-1"}
    for expected in (201, 200):  # booked, then the same reference again: the first booking
        response = httpx.put(f"{standin.base}/adjustments/claim:1:item:1", json=body, headers=headers, timeout=5)
        assert response.status_code == expected
        check_response(spec, "PUT", "/adjustments/claim:1:item:1", response)
    conflict = httpx.put(f"{standin.base}/adjustments/claim:1:item:1", json=body | {"amount": "-30.00"},
                         headers=headers, timeout=5)
    assert conflict.status_code == 409
    check_response(spec, "PUT", "/adjustments/claim:1:item:1", conflict)
    check_response(spec, "GET", "/adjustments/claim:1:item:1",
                   httpx.get(f"{standin.base}/adjustments/claim:1:item:1", headers=headers, timeout=5))
    unauthorised = httpx.get(f"{standin.base}/accounts/{code}", timeout=5)
    assert unauthorised.status_code == 401
    check_response(spec, "GET", f"/accounts/{code}", unauthorised)


def test_what_the_gateway_sends_follows_the_contract(standin, spec, account):
    standin.load_local(account.subscriber_code)
    gw = get_gateway()
    code = account.subscriber_code
    invoice = gw.invoices_of_account(code)[0]
    gw.account_by_code(code)
    gw.accounts_of_fin(account.holder_fin)
    gw.invoices_of_account(code, since=invoice.period)
    gw.readings_of_account(code, since=invoice.period_start)
    gw.balance(code, as_of=invoice.issued_on)
    gw.post_adjustment(reference="claim:2026-000009:item:3", subscriber_code=code, invoice_number=invoice.number,
                       amount=Decimal("-12.40"), posted_on=timezone.localdate(), claim_number="2026-000009",
                       note="protocol K-9")
    gw.adjustment("claim:2026-000009:item:3")

    sent = [r for r in standin.requests() if r["path"].startswith("/billing/v1")][-8:]
    assert len(sent) == 8
    for request in sent:
        assert request["authorization"]
        path = request["path"][len("/billing/v1"):]
        template, op = operation(spec, request["method"], path)
        for parameter in op.get("parameters", []) + spec["paths"][template].get("parameters", []):
            if parameter.get("in") == "query" and parameter["name"] in request["query"]:
                schema_validator(spec, parameter["schema"]).validate(request["query"][parameter["name"]])
            elif parameter.get("in") == "query" and parameter.get("required"):
                raise AssertionError(f"{path}: the required {parameter['name']} is missing")
        if request["method"] == "PUT":
            schema = op["requestBody"]["content"]["application/json"]["schema"]
            schema_validator(spec, schema).validate(request["body"])
            assert request["body"]["amount"] == "-12.40"  # money as a decimal string


# --- Reads ------------------------------------------------------------------------------------------

def test_the_http_gateway_reads_what_billing_holds(standin, account, account_two_meters):
    standin.load_local(account.subscriber_code, account_two_meters.subscriber_code)
    local, http = LocalBillingGateway(), get_gateway()
    assert type(http).__name__ == "HttpBillingGateway"
    for code in (account.subscriber_code, account_two_meters.subscriber_code):
        assert http.account_by_code(code) == local.account_by_code(code)
        assert http.invoices_of_account(code) == local.invoices_of_account(code)
        newest = local.invoices_of_account(code)[0]
        assert http.invoice(newest.number) == newest
        assert http.readings_of_account(code) == local.readings_of_account(code)
        assert http.balance(code) == local.balance(code)
    assert http.accounts_of_fin(account.holder_fin) == local.accounts_of_fin(account.holder_fin)
    assert http.account_by_code("000000000") is None
    assert http.invoice("NOSUCH") is None


def test_reads_are_kept_in_the_shared_cache(standin, settings, account):
    standin.load_local(account.subscriber_code)
    settings.BILLING_CACHE_SECONDS = 60
    gw = get_gateway()
    first = gw.account_by_code(account.subscriber_code)
    standin.fault("down")
    assert gw.account_by_code(account.subscriber_code) == first  # from the cache: billing was not asked


@pytest.mark.parametrize("mode", ["error", "down", "slow", "wrong"])
def test_every_fault_of_billing_is_billing_unavailable(standin, account, mode):
    standin.load_local(account.subscriber_code)
    standin.fault(mode, delay=2)
    gw = get_gateway()
    started = time.monotonic()
    with pytest.raises(BillingUnavailable):
        gw.account_by_code(account.subscriber_code)
    with pytest.raises(BillingUnavailable):
        gw.balance(account.subscriber_code)
    # Timeouts bound the wait: two reads, each tried twice with a 0.5 s read timeout.
    assert time.monotonic() - started < 6


def test_reads_are_retried_before_giving_up(standin, account):
    standin.load_local(account.subscriber_code)
    standin.fault("error")
    before = len(standin.requests())
    with pytest.raises(BillingUnavailable):
        get_gateway().account_by_code(account.subscriber_code)
    assert len(standin.requests()) - before == 2  # the first attempt and one retry (BILLING_READ_RETRIES)


def test_the_breaker_opens_after_repeated_failures_and_calls_then_fail_at_once(standin, account):
    standin.load_local(account.subscriber_code)
    gw = get_gateway()
    standin.fault("error")
    for _ in range(4):  # BILLING_BREAKER_FAILURES
        with pytest.raises(BillingUnavailable):
            gw.balance(account.subscriber_code)
    standin.fault("none")
    before = len(standin.requests())
    with pytest.raises(BillingUnavailable, match="breaker"):
        gw.balance(account.subscriber_code)
    assert len(standin.requests()) == before  # billing was not even asked
    BREAKER.reset()  # the open period is over
    assert gw.balance(account.subscriber_code) == LocalBillingGateway().balance(account.subscriber_code)


def test_a_refused_token_is_billing_unavailable_not_an_error_page(standin, settings, account):
    standin.load_local(account.subscriber_code)
    settings.BILLING_TOKEN = "wrong-token"  # noqa: S105
    with pytest.raises(BillingUnavailable, match="credentials"):
        get_gateway().account_by_code(account.subscriber_code)


def test_oauth2_client_credentials(standin, settings, account):
    standin.load_local(account.subscriber_code)
    settings.BILLING_TOKEN = ""
    settings.BILLING_OAUTH_TOKEN_URL = f"{standin.root}/oauth/token"
    settings.BILLING_CLIENT_ID, settings.BILLING_CLIENT_SECRET = CLIENT_ID, CLIENT_SECRET
    assert get_gateway().account_by_code(account.subscriber_code) is not None
    settings.BILLING_CLIENT_SECRET = "wrong"  # noqa: S105
    from django.core.cache import cache

    cache.clear()
    with pytest.raises(BillingUnavailable):
        get_gateway().account_by_code(account.subscriber_code)


# --- Billing down on the pages ---------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["down", "error", "wrong"])
def test_billing_down_gives_the_citizen_a_clear_message_not_a_500(client, standin, citizen, account, mode):
    standin.load_local(account.subscriber_code)
    client.force_login(citizen)
    standin.fault(mode)
    response = client.post(reverse("portal:claim_new"), {"action": "check", "subscriber_code":
                                                         account.subscriber_code})
    assert response.status_code == 503
    assert response["Retry-After"]
    html = response.content.decode()
    assert "Billinq sistemi cavab vermir" in html
    assert "Bir neçə dəqiqədən sonra yenidən cəhd edin" in html

    standin.fault("none")  # billing is back: the same request goes through
    BREAKER.reset()
    response = client.post(reverse("portal:claim_new"), {"action": "check", "subscriber_code":
                                                         account.subscriber_code})
    assert response.status_code == 302


def test_billing_down_is_translated(client, standin, settings, citizen, account):
    standin.load_local(account.subscriber_code)
    client.force_login(citizen)
    standin.fault("down")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.get(reverse("portal:claim_new"))
    assert response.status_code == 503
    assert "The billing system is not responding" in response.content.decode()


# --- Postings through the outbox -------------------------------------------------------------------

def test_an_approval_taken_while_billing_is_down_is_posted_once_when_it_returns(standin, settings, branch):
    with time_machine.travel(CLOCK, tick=True):
        with override_settings(BILLING_GATEWAY="billing.gateway.LocalBillingGateway"):
            claim = ClaimFactory(on_agenda=True, branch=branch)
        item = latest_item(claim)
        standin.load_local(claim.subscriber_code)
        standin.fault("down")

        decided = decision_approve(item=item, actor=item.meeting.members.exclude(
            pk=item.proposal.proposed_by_id).first())  # billing down: the decision is taken all the same

        claim.refresh_from_db()
        assert claim.status == ClaimStatus.POSTING
        posting = Posting.objects.get(reference=decided.adjustment_reference)
        posting_send(posting_id=posting.pk)  # the worker tries: billing does not answer
        posting.refresh_from_db()
        assert (posting.status, posting.attempts) == ("created", 1)
        assert posting.next_attempt_at is not None and "billing does not answer" in posting.last_error
        claim.refresh_from_db()
        assert claim.status == ClaimStatus.POSTING
        assert not Delivery.objects.filter(claim=claim, event="closed_corrected").exists()
        assert standin.booked() == [] or all(b["reference"] != posting.reference for b in standin.booked())

    standin.fault("none")
    BREAKER.reset()
    with time_machine.travel(posting.next_attempt_at + timedelta(seconds=1), tick=True):
        posting_send(posting_id=posting.pk)  # the retry: billing is back
        posting_send(posting_id=posting.pk)  # a duplicate task: nothing more is sent
    posting.refresh_from_db()
    assert posting.status == "delivered"
    booked = [b for b in standin.booked() if b["reference"] == posting.reference]
    assert len(booked) == 1 and booked[0]["amount"] == str(decided.amount)
    assert posting.balance_after == Decimal(booked[0]["balance_after"])
    claim.refresh_from_db()
    assert (claim.status, claim.outcome) == (ClaimStatus.CLOSED, ClaimOutcome.CORRECTED)
    told = Delivery.objects.filter(claim=claim, event="closed_corrected")
    assert sorted(told.values_list("medium", flat=True)) == ["email", "sms"]
    assert f"{posting.balance_after:.2f}".replace(".", ",") in told.get(medium="email").body \
        or f"{posting.balance_after:.2f}" in told.get(medium="email").body
    assert not Adjustment.objects.filter(reference=posting.reference).exists()  # booked at billing, not here


def test_a_posting_billing_refuses_fails_for_staff_and_the_claim_stays_being_posted(standin, branch):
    with time_machine.travel(CLOCK, tick=True):
        with override_settings(BILLING_GATEWAY="billing.gateway.LocalBillingGateway"):
            claim = ClaimFactory(on_agenda=True, branch=branch)
        item = latest_item(claim)
        standin.control("/_data", {"reset": True})  # billing does not know the account
        decided = decision_approve(item=item, actor=item.meeting.members.exclude(
            pk=item.proposal.proposed_by_id).first())
        posting = Posting.objects.get(reference=decided.adjustment_reference)
        posting_send(posting_id=posting.pk)
    posting.refresh_from_db()
    assert posting.status == "failed"
    assert "unknown account or invoice" in posting.last_error
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.POSTING


def test_the_standin_json_round_trips(account):
    local = LocalBillingGateway()
    info = local.account_by_code(account.subscriber_code)
    assert info is not None
    assert contract.account_from_json(json.loads(json.dumps(contract.account_json(info)))) == info
    invoice = local.invoices_of_account(account.subscriber_code)[0]
    assert contract.invoice_from_json(json.loads(json.dumps(contract.invoice_json(invoice)))) == invoice


def test_billing_down_gives_staff_a_clear_message_not_a_500(client, standin, branch):
    with time_machine.travel(CLOCK, tick=True):
        with override_settings(BILLING_GATEWAY="billing.gateway.LocalBillingGateway"):
            claim = ClaimFactory(in_review=True, branch=branch)
        standin.load_local(claim.subscriber_code)
        client.force_login(claim.operator)
        url = reverse("backoffice:claim", args=[claim.number])
        assert client.get(url).status_code == 200  # billing answers: the page with the reading history
        standin.fault("down")
        response = client.get(url)
    assert response.status_code == 503
    html = response.content.decode()
    assert "Billinq sistemi cavab vermir" in html
    assert "billinqdən məlumat tələb etməyən işləri davam etdirə bilərsiniz" in html
