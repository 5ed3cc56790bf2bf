"""Webhooks: a row in the claim change's transaction, signed POSTs, retries with backoff, every
attempt logged, nothing lost when the endpoint is down."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from api import webhooks
from api.models import WebhookAttempt, WebhookDelivery, WebhookStatus
from api.tasks import send_webhook, sweep_webhooks
from claims.services import claim_take, claim_withdraw
from conftest import baku
from testkit.net import free_port

from .conftest import Api, claim_form, drive_webhooks, register_channel, verify_signature

pytestmark = pytest.mark.usefixtures("default_templates")


def _file(registered, citizen, account, jpeg_upload, key="k"):
    photos = {m.serial_number: jpeg_upload() for m in account.meters.all()}
    response = Api(registered, citizen.fin).post("/claims/", claim_form(account, photos=photos),
                                                 headers={"Idempotency-Key": key})
    assert response.status_code == 201, response.content
    from claims.models import Claim

    return Claim.objects.get(number=response.json()["number"])


def _closed_port_url() -> str:
    return f"http://127.0.0.1:{free_port()}/hooks"


def _sent_task_ids(backend) -> list[int]:
    return [r.args[0] for r in backend.results if r.task.name == "send_webhook"]


def test_the_delivery_row_is_written_with_the_change_and_its_task_enqueued_on_commit(
    citizen, account, jpeg_upload, webhook_endpoint, dummy_tasks, django_capture_on_commit_callbacks,
):
    egov = register_channel("egov", webhook_url=webhook_endpoint.url)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        claim = _file(egov, citizen, account, jpeg_upload)
    # Registered and forwarded: two rows, nothing sent before the commit.
    assert WebhookDelivery.objects.filter(claim=claim).count() == 2
    assert _sent_task_ids(dummy_tasks) == []
    for callback in callbacks:
        callback()
    assert sorted(_sent_task_ids(dummy_tasks)) == sorted(WebhookDelivery.objects.values_list("pk", flat=True))
    assert webhook_endpoint.requests == []

    # A change that rolls back leaves no webhook row.
    with pytest.raises(RuntimeError), transaction.atomic():
        claim_withdraw(claim=claim, actor=citizen)
        raise RuntimeError("rolled back")
    assert WebhookDelivery.objects.filter(claim=claim).count() == 2


def test_an_endpoint_that_fails_twice_then_succeeds_gets_every_event_exactly_once(
    citizen, account, operator, jpeg_upload, webhook_endpoint,
):
    egov = register_channel("egov", webhook_url=webhook_endpoint.url)
    claim = _file(egov, citizen, account, jpeg_upload)
    claim_take(claim=claim, actor=operator)
    webhook_endpoint.script = [500, 503]

    first = WebhookDelivery.objects.order_by("id").first()
    before = timezone.now()
    webhooks.webhook_send(delivery_id=first.pk)
    first.refresh_from_db()
    assert first.status == WebhookStatus.CREATED and first.attempts == 1
    assert first.last_error == "HTTP 500"
    # Backoff: API_WEBHOOK_BACKOFF_SECONDS (60) after the first failure, doubling after each.
    assert before + timedelta(seconds=59) <= first.next_attempt_at <= timezone.now() + timedelta(seconds=61)
    webhooks.webhook_send(delivery_id=first.pk)  # not due yet: an early duplicate does nothing
    assert WebhookAttempt.objects.filter(delivery=first).count() == 1

    deliveries = drive_webhooks()
    assert [d.status for d in deliveries] == [WebhookStatus.DELIVERED] * 3
    kinds = [r["json"]["kind"] for r in webhook_endpoint.accepted]
    assert kinds == ["registered", "forwarded", "review_started"]
    assert len({r["json"]["event_id"] for r in webhook_endpoint.accepted}) == 3
    assert len(webhook_endpoint.requests) == 5  # two refused, three accepted
    log = list(WebhookAttempt.objects.filter(delivery=first).order_by("number"))
    assert [(a.number, a.status_code, a.error) for a in log] == [(1, 500, "HTTP 500"), (2, 503, "HTTP 503"),
                                                                 (3, 200, "")]
    assert all(a.duration_ms >= 0 and a.url == webhook_endpoint.url for a in log)
    assert [r["headers"]["X-Webhook-Attempt"] for r in webhook_endpoint.requests[:3]] == ["1", "2", "3"]
    secret = egov.channel.webhook_secret
    assert all(verify_signature(r["headers"]["X-Signature"], r["body"], secret) for r in webhook_endpoint.requests)

    # A task that runs again after delivery sends nothing.
    webhooks.webhook_send(delivery_id=first.pk)
    assert len(webhook_endpoint.requests) == 5


def test_a_down_endpoint_leaves_rows_pending_and_the_sweep_recovers_them(
    citizen, account, jpeg_upload, webhook_endpoint, dummy_tasks, settings,
):
    egov = register_channel("egov", webhook_url=_closed_port_url())
    _file(egov, citizen, account, jpeg_upload)
    drive_webhooks(rounds=2)
    pending = list(WebhookDelivery.objects.order_by("id"))
    assert [d.status for d in pending] == [WebhookStatus.CREATED] * 2
    # The first event was tried twice; the claim's second waits behind it (events keep their order).
    assert [d.attempts for d in pending] == [2, 0]
    assert "Connection refused" in pending[0].last_error
    assert WebhookAttempt.objects.filter(status_code__isnull=True).count() == 2

    # The retries' tasks are lost (as if the worker died). Right after, the sweep leaves them be;
    # once stale and due, it enqueues them again.
    dummy_tasks.clear()
    assert webhooks.webhooks_sweep() == 0
    stale = timezone.now() - timedelta(seconds=settings.API_WEBHOOK_STALE_SECONDS + 1)
    WebhookDelivery.objects.update(updated_at=stale, next_attempt_at=timezone.now() - timedelta(seconds=1))
    assert sweep_webhooks.call() == 2
    assert sorted(_sent_task_ids(dummy_tasks)) == [d.pk for d in pending]
    assert webhooks.webhooks_sweep() == 0  # touched: not again within the stale period

    # The endpoint is back: the enqueued tasks deliver every event.
    egov.channel.webhook_url = webhook_endpoint.url
    egov.channel.save()
    for pk in list(_sent_task_ids(dummy_tasks)):
        send_webhook.call(pk)
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {WebhookStatus.DELIVERED}
    assert [r["json"]["kind"] for r in webhook_endpoint.accepted] == ["registered", "forwarded"]


def test_a_worker_stopped_mid_send_is_recovered_by_the_sweep(citizen, account, jpeg_upload, webhook_endpoint,
                                                             dummy_tasks, settings):
    egov = register_channel("egov", webhook_url=webhook_endpoint.url)
    _file(egov, citizen, account, jpeg_upload)
    stale = timezone.now() - timedelta(seconds=settings.API_WEBHOOK_STALE_SECONDS + 1)
    WebhookDelivery.objects.update(status=WebhookStatus.SENDING, attempts=1, updated_at=stale)
    assert webhooks.webhooks_sweep() == 2
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {WebhookStatus.CREATED}
    drive_webhooks()
    assert len(webhook_endpoint.accepted) == 2


def test_after_the_last_attempt_the_row_fails_visibly_and_an_administrator_can_send_it_again(
    citizen, account, jpeg_upload, webhook_endpoint, settings, admin_client, dummy_tasks,
    django_capture_on_commit_callbacks,
):
    settings.API_WEBHOOK_MAX_ATTEMPTS = 3
    egov = register_channel("egov", webhook_url=webhook_endpoint.url)
    webhook_endpoint.script = [500] * 6
    _file(egov, citizen, account, jpeg_upload)
    deliveries = drive_webhooks()
    assert [(d.status, d.attempts) for d in deliveries] == [(WebhookStatus.FAILED, 3)] * 2

    changelist = admin_client.get("/admin/api/webhookdelivery/?status=failed")
    assert changelist.status_code == 200
    assert "HTTP 500" in changelist.content.decode()
    page = admin_client.get(f"/admin/api/webhookdelivery/{deliveries[0].pk}/change/")
    assert page.status_code == 200 and page.content.decode().count("HTTP 500") >= 3

    dummy_tasks.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post("/admin/api/webhookdelivery/", {
            "action": "retry_failed", "_selected_action": [d.pk for d in deliveries]})
    assert response.status_code == 302
    assert sorted(_sent_task_ids(dummy_tasks)) == [d.pk for d in deliveries]
    drive_webhooks()
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {WebhookStatus.DELIVERED}
    assert len(webhook_endpoint.accepted) == 2


def test_by_default_a_failing_endpoint_is_retried_until_72_hours_after_the_event_then_failed(
    citizen, account, jpeg_upload, webhook_endpoint, time_machine,
):
    # The default settings: no cap on attempts, a 72-hour horizon. The old rule (8 attempts,
    # about two hours) would have given up long before.
    time_machine.move_to(baku(2026, 10, 14), tick=False)
    egov = register_channel("egov", webhook_url=webhook_endpoint.url)
    webhook_endpoint.script = [500] * 1000
    _file(egov, citizen, account, jpeg_upload)
    first = WebhookDelivery.objects.order_by("id").first()
    horizon = first.created_at + timedelta(hours=72)

    for _ in range(200):
        webhooks.webhook_send(delivery_id=first.pk)
        first.refresh_from_db()
        assert first.status == WebhookStatus.CREATED, (first.attempts, timezone.now() - first.created_at)
        if first.next_attempt_at == horizon:
            break
        assert first.next_attempt_at < horizon
        time_machine.move_to(first.next_attempt_at, tick=False)
    # Still being retried after far more than 8 attempts, every one of them before the horizon;
    # the waits grew to an hour, and the last retry is moved up to the horizon itself.
    assert timezone.now() < horizon
    assert first.attempts > 60
    assert first.last_error == "HTTP 500"
    assert WebhookAttempt.objects.filter(delivery=first).count() == first.attempts == len(webhook_endpoint.requests)

    time_machine.move_to(horizon, tick=False)  # the first attempt at or past the horizon
    webhooks.webhook_send(delivery_id=first.pk)
    first.refresh_from_db()
    assert (first.status, first.next_attempt_at, first.last_error) == (WebhookStatus.FAILED, None, "HTTP 500")
    assert WebhookAttempt.objects.filter(delivery=first).count() == first.attempts
    assert webhook_endpoint.accepted == []


def test_the_immediate_task_backend_delivers_right_after_the_commit(
    citizen, account, jpeg_upload, webhook_endpoint, settings, django_capture_on_commit_callbacks,
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend",
                                  "QUEUES": ["default", "notifications"]}}
    egov = register_channel("egov", webhook_url=webhook_endpoint.url)
    with django_capture_on_commit_callbacks(execute=True):
        _file(egov, citizen, account, jpeg_upload)
    assert [r["json"]["status"] for r in webhook_endpoint.accepted] == ["registered", "forwarded"]
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {WebhookStatus.DELIVERED}


def test_only_public_events_of_the_channels_own_claims_go_out(citizen, account, account_two_meters, operator,
                                                              jpeg_upload, webhook_endpoint):
    egov = register_channel("egov", webhook_url=webhook_endpoint.url)
    esu = register_channel("esu")  # no webhook URL
    claim = _file(egov, citizen, account, jpeg_upload)
    _file(esu, citizen, account_two_meters, jpeg_upload, key="other")
    claim = claim_take(claim=claim, actor=operator)
    claim_take(claim=claim, actor=operator)  # taken again: a private event, not for the channel
    assert list(WebhookDelivery.objects.values_list("kind", flat=True).order_by("id")) == [
        "registered", "forwarded", "review_started"]
    assert set(WebhookDelivery.objects.values_list("channel__code", flat=True)) == {"egov"}

    # A disabled channel gets no new events, and its pending ones fail at once.
    egov.channel.active = False
    egov.channel.save()
    claim_withdraw(claim=claim, actor=citizen)
    assert WebhookDelivery.objects.count() == 3
    drive_webhooks()
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {WebhookStatus.FAILED}
    assert webhook_endpoint.requests == []


def test_the_payload_carries_the_claims_state(citizen, account, operator, jpeg_upload, webhook_endpoint):
    egov = register_channel("egov", webhook_url=webhook_endpoint.url)
    claim = _file(egov, citizen, account, jpeg_upload)
    drive_webhooks()
    payload = webhook_endpoint.accepted[1]["json"]
    event = claim.events.get(kind="forwarded")
    assert payload == {
        "event_id": payload["event_id"], "type": "claim.event", "sequence": event.pk, "kind": "forwarded",
        "claim_number": claim.number, "status": "forwarded", "outcome": None, "corrected_amount": None,
        "due_on": claim.due_on.isoformat(), "note": "", "occurred_at": event.at.isoformat(),
        "channel": "egov",
    }
    assert "5ABCD12" not in webhook_endpoint.accepted[1]["body"].decode()  # no FIN in webhooks
