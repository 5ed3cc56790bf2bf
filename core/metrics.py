"""Prometheus metrics: request latency and counts per view and status (``MetricsMiddleware``) and
business gauges computed when scraped (``BusinessCollector``), served at ``/metrics`` to callers
with ``METRICS_TOKEN`` or from ``METRICS_ALLOWED_NETWORKS``.

core sits below every app, so the collector reads their models by name through the app
registry (``apps.get_model``) when scraped, never at import. With several worker processes
(gunicorn), set ``PROMETHEUS_MULTIPROC_DIR`` (prometheus_client's multiprocess mode) so that the
request metrics of every worker are added up.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import time
from collections.abc import Callable, Iterator
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db.models import Count, Min
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.utils import timezone
from django.utils.module_loading import import_string
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

REQUEST_LATENCY = Histogram(
    "http_request_duration_seconds", "Time to answer a request, by view and status", ["view", "method", "status"]
)
REQUESTS = Counter("http_requests", "Requests answered, by view and status", ["view", "method", "status"])
# Work after a change was committed (an API call's audit entry, ...) that failed: logged and
# counted here, never allowed to change the answer already decided.
AFTER_COMMIT_FAILURES = Counter("after_commit_failures", "Work after a commit that failed (logged; the answer "
                                "stood)", ["work"])

# Which statuses are open: declared once, next to the claim statuses (loaded by dotted path: core
# does not import the claims app).
OPEN_STATUSES = "claims.transitions.OPEN_STATUSES"
AWAITING_CITIZEN = "awaiting_citizen"  # the deadline is paused: not overdue
PENDING = ("created", "sending")  # core.outbox.OutboxStatus
FAILED = "failed"
OUTBOXES = {"notification": ("notifications", "Delivery"), "webhook": ("api", "WebhookDelivery")}


class MetricsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        match = request.resolver_match
        # The URL pattern's name, never the path: paths carry claim numbers (unbounded labels).
        view = match.view_name if match else "unresolved"
        labels = {"view": view, "method": request.method or "", "status": str(response.status_code)}
        REQUEST_LATENCY.labels(**labels).observe(time.perf_counter() - started)
        REQUESTS.labels(**labels).inc()
        return response


class BusinessCollector(Collector):
    """Gauges read from the database at scrape time: open claims by status, overdue claims, the
    age of the oldest pending delivery, and the deliveries of each outbox that are failed (given
    up: staff look at them) or retrying (an outage in progress)."""

    def describe(self) -> Iterator[Metric]:
        # Registering must not query the database (describe() is what the registry calls).
        return iter(())

    def collect(self) -> Iterator[Metric]:
        yield from self._claims()
        yield from self._outboxes()

    def _claims(self) -> Iterator[Metric]:
        if not apps.is_installed("claims"):
            return
        claim = apps.get_model("claims", "Claim")
        open_statuses = sorted(import_string(OPEN_STATUSES))
        by_status = dict(
            claim.objects.filter(status__in=open_statuses).values_list("status").annotate(n=Count("pk")).order_by()
        )
        gauge = GaugeMetricFamily("claims_open", "Open claims, by status", labels=["status"])
        for status in open_statuses:
            gauge.add_metric([str(status)], by_status.get(status, 0))
        yield gauge
        overdue = (
            claim.objects.filter(status__in=open_statuses, due_on__lt=timezone.localdate())
            .exclude(status=AWAITING_CITIZEN)
            .count()
        )
        yield GaugeMetricFamily("claims_overdue", "Open claims past their due date (not paused)", value=overdue)

    def _outboxes(self) -> Iterator[Metric]:
        age = GaugeMetricFamily(
            "deliveries_oldest_pending_age_seconds",
            "Age of the oldest delivery not yet sent (created or sending), 0 when none",
            labels=["kind"],
        )
        failed = GaugeMetricFamily("deliveries_failed", "Deliveries given up (failed)", labels=["kind"])
        retrying = GaugeMetricFamily(
            "deliveries_retrying", "Deliveries waiting for a retry after a temporary failure", labels=["kind"])
        now = timezone.now()
        for kind, (app_label, model_name) in OUTBOXES.items():
            if not apps.is_installed(app_label):
                continue
            model = apps.get_model(app_label, model_name)
            oldest = model.objects.filter(status__in=PENDING).aggregate(oldest=Min("created_at"))["oldest"]
            age.add_metric([kind], max((now - oldest).total_seconds(), 0.0) if oldest else 0.0)
            failed.add_metric([kind], model.objects.filter(status=FAILED).count())
            retrying.add_metric([kind], model.objects.filter(status=PENDING[0], attempts__gt=0).count())
        yield age
        yield failed
        yield retrying


def _allowed(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    header = request.headers.get("Authorization", "")
    if token and header.startswith("Bearer ") and hmac.compare_digest(header[7:].strip(), token):
        return True
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(net.strip(), strict=False) for net in settings.METRICS_ALLOWED_NETWORKS)


def metrics(request: HttpRequest) -> HttpResponse:
    if not _allowed(request):
        return HttpResponseForbidden("metrics: token or network required\n", content_type="text/plain")
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        process_registry: Any = CollectorRegistry()
        multiprocess.MultiProcessCollector(process_registry)
    else:
        process_registry = REGISTRY
    business = CollectorRegistry()
    business.register(BusinessCollector())
    body = generate_latest(process_registry) + generate_latest(business)
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
