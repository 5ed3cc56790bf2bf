"""/metrics: refused without the token or an allowed network; request metrics and business gauges."""

from datetime import timedelta

import pytest
from django.utils import timezone

from testkit.factories import ClaimFactory

TOKEN = "scrape-token-123"


@pytest.fixture
def metrics_settings(settings):
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_ALLOWED_NETWORKS = []
    return settings


def scrape(client, **headers):
    return client.get("/metrics", headers=headers)


@pytest.mark.django_db
def test_refused_without_a_token(client, metrics_settings):
    assert scrape(client).status_code == 403
    assert scrape(client, Authorization="Bearer wrong").status_code == 403


@pytest.mark.django_db
def test_refused_when_nothing_is_configured(client, settings):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_NETWORKS = []
    assert scrape(client, Authorization="Bearer ").status_code == 403


@pytest.mark.django_db
def test_allowed_from_a_listed_network(client, settings):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_NETWORKS = ["10.0.0.0/8", "127.0.0.0/8"]
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="192.0.2.7").status_code == 403


@pytest.mark.django_db
def test_business_gauges_and_request_metrics(client, metrics_settings):
    ClaimFactory(forwarded=True)
    late = ClaimFactory(forwarded=True)
    type(late).objects.filter(pk=late.pk).update(due_on=timezone.localdate() - timedelta(days=3))
    paused = ClaimFactory(awaiting_citizen=True)
    type(paused).objects.filter(pk=paused.pk).update(due_on=timezone.localdate() - timedelta(days=3))
    client.get("/healthz")

    r = scrape(client, Authorization=f"Bearer {TOKEN}")

    assert r.status_code == 200
    assert r["Content-Type"].startswith("text/plain")
    text = r.content.decode()
    assert 'claims_open{status="forwarded"} 2.0' in text
    assert 'claims_open{status="awaiting_citizen"} 1.0' in text
    assert 'claims_open{status="closed"}' not in text
    assert "claims_overdue 1.0" in text  # the paused claim is not overdue
    assert 'deliveries_oldest_pending_age_seconds{kind="notification"}' in text
    assert 'deliveries_oldest_pending_age_seconds{kind="webhook"} 0.0' in text
    assert 'deliveries_failed{kind="notification"} 0.0' in text
    assert 'http_request_duration_seconds_bucket{le="0.005",method="GET",status="200",view="healthz"}' in text
    assert 'http_requests_total{method="GET",status="200",view="healthz"}' in text


@pytest.mark.django_db
def test_oldest_pending_and_failed_deliveries(client, metrics_settings, time_machine):
    from notifications.models import Delivery

    ClaimFactory(forwarded=True)  # notifies the citizen: delivery rows in "created"
    assert Delivery.objects.filter(status="created").exists()
    Delivery.objects.filter(pk=Delivery.objects.first().pk).update(status="failed")
    Delivery.objects.filter(status="created").update(created_at=timezone.now() - timedelta(hours=1))
    Delivery.objects.filter(pk=Delivery.objects.filter(status="created").first().pk).update(attempts=3)

    text = scrape(client, Authorization=f"Bearer {TOKEN}").content.decode()

    line = next(x for x in text.splitlines()
                if x.startswith('deliveries_oldest_pending_age_seconds{kind="notification"}'))
    assert 3590 < float(line.split()[-1]) < 3700
    assert 'deliveries_failed{kind="notification"} 1.0' in text
    assert 'deliveries_retrying{kind="notification"} 1.0' in text  # an outage in progress shows


def test_registering_the_collector_queries_nothing():
    # No django_db mark: any query here raises. describe() is what a registry calls on registration.
    from prometheus_client import CollectorRegistry

    from core.metrics import BusinessCollector

    CollectorRegistry(auto_describe=True).register(BusinessCollector())
