"""The HTTP billing gateway: the utility's billing system through the contract of
docs/billing-api.yaml. Chosen by setting ``BILLING_URL`` (config/settings.py).

- Timeouts on every call (``BILLING_CONNECT_TIMEOUT``, ``BILLING_READ_TIMEOUT``).
- Reads are retried with exponential backoff (``BILLING_READ_RETRIES``,
  ``BILLING_RETRY_BACKOFF_SECONDS``) on a refused or timed-out connection and on 502/503/504.
  A posting is not retried here: the posting outbox retries it (billing books a reference once).
- A circuit breaker in the shared Django cache (Redis in production, so every process sees
  it): ``BILLING_BREAKER_FAILURES`` failed calls in a row open it for
  ``BILLING_BREAKER_OPEN_SECONDS``, during which calls fail at once instead of making each
  page wait for the timeout.
- Successful reads are kept ``BILLING_CACHE_SECONDS`` in the shared cache; a posting drops the
  cached reads of its account.
- Authentication: a static bearer token (``BILLING_TOKEN``) or OAuth2 client credentials
  (``BILLING_OAUTH_TOKEN_URL``, ``BILLING_CLIENT_ID``, ``BILLING_CLIENT_SECRET``), the token kept
  in the cache until shortly before it expires; mutual TLS with ``BILLING_CLIENT_CERT`` and
  ``BILLING_CLIENT_KEY``, billing's CA by ``BILLING_CA_BUNDLE`` (default: the system's CAs, or
  ``SSL_CERT_FILE``). The TLS context is built here, once per set of files: given a CA file,
  httpx 0.28 would build its own context without the client certificate.

Billing down, slow, or answering what the contract does not allow raises ``BillingUnavailable``;
a refusal (4xx other than 404) raises ``BillingError``; 404 is "no such thing" (None).
"""

from __future__ import annotations

import functools
import hashlib
import logging
import ssl
import time
from datetime import date
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import httpx
from django.conf import settings
from django.core.cache import cache

from . import contract, models
from .gateway import (
    AccountInfo,
    AdjustmentInfo,
    BillingConflict,
    BillingError,
    BillingUnavailable,
    InvoiceInfo,
    ReadingInfo,
)
from .pricing import PricedConsumption, TariffRate, price_consumption

logger = logging.getLogger(__name__)

KEY = "billing.http"
RETRY_STATUSES = {502, 503, 504}


@functools.lru_cache(maxsize=8)
def tls_context(ca_bundle: str, client_cert: str, client_key: str) -> ssl.SSLContext:
    """Verifies billing by ``ca_bundle`` (else the system's CAs) and, with ``client_cert``,
    presents that certificate (its key in ``client_key`` or in the same file)."""
    context = ssl.create_default_context(cafile=ca_bundle or None)
    if client_cert:
        context.load_cert_chain(client_cert, client_key or None)
    return context


class Breaker:
    """A circuit breaker whose state lives in the shared cache."""

    failures_key = f"{KEY}:breaker:failures"
    open_key = f"{KEY}:breaker:open"

    def is_open(self) -> bool:
        return bool(cache.get(self.open_key))

    def success(self) -> None:
        cache.delete(self.failures_key)

    def failure(self) -> None:
        open_seconds = settings.BILLING_BREAKER_OPEN_SECONDS
        cache.add(self.failures_key, 0, timeout=max(60, open_seconds * 4))
        try:
            failures = cache.incr(self.failures_key)
        except ValueError:  # expired between add and incr
            cache.set(self.failures_key, 1, timeout=max(60, open_seconds * 4))
            failures = 1
        if failures >= settings.BILLING_BREAKER_FAILURES:
            cache.set(self.open_key, True, timeout=open_seconds)
            logger.error("billing: %s failed calls in a row; breaker open for %s s", failures, open_seconds)

    def reset(self) -> None:
        cache.delete_many([self.failures_key, self.open_key])


BREAKER = Breaker()


class HttpBillingGateway:
    def __init__(self) -> None:
        self.base = settings.BILLING_URL.rstrip("/")
        if not self.base:
            raise BillingError("BILLING_URL is not set")

    # --- Transport -----------------------------------------------------------------------------

    def _client(self) -> httpx.Client:
        try:
            context = tls_context(settings.BILLING_CA_BUNDLE, settings.BILLING_CLIENT_CERT, settings.BILLING_CLIENT_KEY)
        except (OSError, ssl.SSLError) as e:  # a missing or unreadable file: the operator's to fix
            logger.error("billing's TLS files cannot be loaded: %s: %s", type(e).__name__, e)
            raise BillingUnavailable(f"billing's TLS files cannot be loaded: {type(e).__name__}") from e
        timeout = httpx.Timeout(settings.BILLING_READ_TIMEOUT, connect=settings.BILLING_CONNECT_TIMEOUT)
        return httpx.Client(timeout=timeout, verify=context, follow_redirects=False)

    def _token(self, client: httpx.Client) -> str:
        if settings.BILLING_TOKEN:
            return str(settings.BILLING_TOKEN)
        if not settings.BILLING_OAUTH_TOKEN_URL:
            return ""
        key = _token_key()
        token = cache.get(key)
        if token:
            return str(token)
        data = {"grant_type": "client_credentials"}
        if settings.BILLING_OAUTH_SCOPE:
            data["scope"] = settings.BILLING_OAUTH_SCOPE
        response = client.post(settings.BILLING_OAUTH_TOKEN_URL, data=data,
                                auth=(settings.BILLING_CLIENT_ID, settings.BILLING_CLIENT_SECRET))
        if response.status_code != 200:
            raise BillingUnavailable(f"billing's token endpoint answered HTTP {response.status_code}")
        body = response.json()
        token = str(body["access_token"])
        cache.set(key, token, timeout=max(1, int(body.get("expires_in", 300)) - 30))
        return token

    def _call(self, method: str, path: str, *, params: dict[str, str] | None = None,
              json: dict[str, Any] | None = None, retries: int = 0) -> httpx.Response | None:
        """One call, with ``retries`` extra attempts on a transport failure or 502/503/504.
        Returns None for 404; raises BillingUnavailable or BillingError."""
        if BREAKER.is_open():
            raise BillingUnavailable("billing's circuit breaker is open")
        url = f"{self.base}{path}"
        attempt = 0
        with self._client() as client:
            while True:
                try:
                    token = self._token(client)
                    headers = {"Accept": "application/json"}
                    if token:
                        headers["Authorization"] = f"Bearer {token}"
                    response = client.request(method, url, params=params, json=json, headers=headers)
                    if response.status_code == 401 and settings.BILLING_OAUTH_TOKEN_URL:
                        cache.delete(_token_key())  # expired or revoked early: a new one next time
                    if response.status_code not in RETRY_STATUSES and response.status_code < 500:
                        break
                    error = f"HTTP {response.status_code}"
                except (httpx.TransportError, ValueError, KeyError) as e:
                    error = f"{type(e).__name__}: {e}"
                if attempt >= retries:
                    BREAKER.failure()
                    raise BillingUnavailable(f"billing does not answer {method} {path}: {error}")
                time.sleep(settings.BILLING_RETRY_BACKOFF_SECONDS * 2 ** attempt)
                attempt += 1
        if response.status_code in (401, 403):
            # Our credentials (a token, a certificate) are refused: nothing the user can fix, and
            # nothing a posting should give up on; staff see the log, the user "try again later".
            BREAKER.failure()
            logger.error("billing refused our credentials on %s %s: HTTP %s", method, path, response.status_code)
            raise BillingUnavailable(f"billing refused our credentials: HTTP {response.status_code}")
        BREAKER.success()
        if response.status_code == 404:
            return None
        if response.status_code == 409:
            raise BillingConflict(_detail(response))
        if response.status_code >= 400:
            if method == "GET":  # a read billing cannot answer is a fault on one side or the other
                logger.error("billing refused %s %s: HTTP %s %s", method, path, response.status_code, _detail(response))
                raise BillingUnavailable(f"billing refused {path}: HTTP {response.status_code}")
            raise BillingError(f"billing refused {method} {path}: HTTP {response.status_code}: {_detail(response)}")
        return response

    def _read(self, path: str, params: dict[str, str] | None = None, *, account: str = "") -> Any | None:
        """A GET through the shared cache; the JSON body, or None for 404."""
        version = cache.get(f"{KEY}:v:{account}", 0) if account else 0
        raw = f"{path}?{sorted((params or {}).items())}:{version}"
        key = f"{KEY}:read:{hashlib.sha256(raw.encode()).hexdigest()}"
        seconds = settings.BILLING_CACHE_SECONDS
        if seconds > 0:
            hit = cache.get(key)
            if hit is not None:
                return hit
        response = self._call("GET", path, params=params, retries=settings.BILLING_READ_RETRIES)
        if response is None:
            return None
        body = _json(response)
        if seconds > 0:
            cache.set(key, body, timeout=seconds)
        return body

    def _parse(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except contract.ContractError as e:
            BREAKER.failure()
            logger.error("billing answered outside the contract: %s", e)
            raise BillingUnavailable(f"billing's answer does not follow the contract: {e}") from e

    # --- The gateway ---------------------------------------------------------------------------

    def account_by_code(self, subscriber_code: str) -> AccountInfo | None:
        body = self._read(f"/accounts/{quote(subscriber_code, safe='')}", account=subscriber_code)
        return self._parse(contract.account_from_json, body) if body is not None else None

    def accounts_of_fin(self, fin: str) -> list[AccountInfo]:
        if not fin:
            return []
        body = self._read("/accounts", {"fin": fin})
        return [self._parse(contract.account_from_json, a) for a in self._items(body)]

    def invoices_of_account(self, subscriber_code: str, *, since: date | None = None) -> list[InvoiceInfo]:
        params = {"since": since.isoformat()} if since else None
        body = self._read(f"/accounts/{quote(subscriber_code, safe='')}/invoices", params, account=subscriber_code)
        invoices = [self._parse(contract.invoice_from_json, i) for i in self._items(body)]
        return sorted(invoices, key=lambda i: i.period, reverse=True)

    def invoice(self, number: str) -> InvoiceInfo | None:
        body = self._read(f"/invoices/{quote(number, safe='')}")
        return self._parse(contract.invoice_from_json, body) if body is not None else None

    def readings_of_account(self, subscriber_code: str, *, since: date | None = None) -> list[ReadingInfo]:
        params = {"since": since.isoformat()} if since else None
        body = self._read(f"/accounts/{quote(subscriber_code, safe='')}/readings", params, account=subscriber_code)
        return [self._parse(contract.reading_from_json, r) for r in self._items(body)]

    def balance(self, subscriber_code: str, *, as_of: date | None = None) -> Decimal:
        params = {"as_of": as_of.isoformat()} if as_of else None
        body = self._read(f"/accounts/{quote(subscriber_code, safe='')}/balance", params, account=subscriber_code)
        if body is None:
            raise BillingError(f"unknown account {subscriber_code}")
        value: Decimal = self._parse(contract.balance_from_json, body)
        return value

    def price(self, subscriber_code: str, *, period_start: date, period_end: date,
              consumption: int) -> PricedConsumption:
        # Tariffs are public decisions kept in this database (billing.models.Tariff); the
        # account's category and zone come from billing.
        account = self.account_by_code(subscriber_code)
        if account is None:
            raise BillingError(f"unknown account {subscriber_code}")
        rates = [TariffRate(service=t.service, price=t.price, valid_from=t.valid_from)
                 for t in models.Tariff.objects.filter(category=account.category, zone=account.zone)]
        return price_consumption(rates=rates, period_start=period_start, period_end=period_end,
                                 consumption=consumption)

    def post_adjustment(self, *, reference: str, subscriber_code: str, invoice_number: str,
                        amount: Decimal, posted_on: date, claim_number: str, note: str) -> AdjustmentInfo:
        body = {"subscriber_code": subscriber_code, "invoice_number": invoice_number,
                "amount": contract.money(amount), "posted_on": posted_on.isoformat(),
                "claim_number": claim_number, "note": note}
        response = self._call("PUT", f"/adjustments/{quote(reference, safe='')}", json=body)
        if response is None:
            raise BillingError(f"unknown account or invoice {subscriber_code}/{invoice_number}")
        self._forget(subscriber_code)
        info: AdjustmentInfo = self._parse(contract.adjustment_from_json, _json(response),
                                           created=response.status_code == 201)
        return info

    def adjustment(self, reference: str) -> AdjustmentInfo | None:
        response = self._call("GET", f"/adjustments/{quote(reference, safe='')}",
                              retries=settings.BILLING_READ_RETRIES)
        if response is None:
            return None
        info: AdjustmentInfo = self._parse(contract.adjustment_from_json, _json(response), created=False)
        return info

    # --- Helpers -------------------------------------------------------------------------------

    def _items(self, body: Any) -> list[Any]:
        if body is None:
            return []
        items = body.get("items") if isinstance(body, dict) else None
        if not isinstance(items, list):
            self._parse(_raise, "a list under 'items' expected")
        return list(items or [])

    def _forget(self, subscriber_code: str) -> None:
        """Drop the cached reads of an account (its balance changed)."""
        key = f"{KEY}:v:{subscriber_code}"
        cache.add(key, 0, timeout=None)
        try:
            cache.incr(key)
        except ValueError:
            cache.set(key, 1, timeout=None)


def _token_key() -> str:
    return f"{KEY}:oauth:{hashlib.sha256(settings.BILLING_CLIENT_ID.encode()).hexdigest()[:16]}"


def _raise(message: str) -> None:
    raise contract.ContractError(message)


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError as e:
        BREAKER.failure()
        raise BillingUnavailable(f"billing's answer is not JSON: {e}") from e


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    return str(body.get("detail") or body.get("title") or "") if isinstance(body, dict) else ""
