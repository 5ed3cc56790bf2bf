"""A channel registered by an administrator files a claim for a citizen, repeats the request,
and follows the claim to its closure through the API and its webhook."""

from __future__ import annotations

import pytest

from api.models import ApiIdempotencyKey, WebhookAttempt, WebhookDelivery, WebhookStatus
from audit.models import AuditEntry
from claims.models import Claim
from claims.services import claim_close_no_correction, claim_take

from .conftest import Api, claim_form, drive_webhooks, register_channel, verify_signature

pytestmark = pytest.mark.usefixtures("default_templates")


def _photos(account, jpeg_upload):
    return {m.serial_number: jpeg_upload() for m in account.meters.all()}


def test_a_channel_files_a_claim_once_and_its_webhook_follows_it_to_closure(
    citizen, account_two_meters, operator, jpeg_upload, webhook_endpoint, django_capture_on_commit_callbacks, client,
):
    egov = register_channel("egov", name="e-gov.az", webhook_url=webhook_endpoint.url)
    api = Api(egov, fin=citizen.fin)
    account = account_two_meters

    reasons = api.get("/reasons/").json()
    assert {"code": "misread", "text": "Sayğac göstəricisinin səhv oxunması",
            "texts": {"az": "Sayğac göstəricisinin səhv oxunması", "en": "Meter reading misread",
                      "ru": "Неверное снятие показаний счётчика"}, "requires_text": False} in reasons
    invoices = api.get(f"/accounts/{account.subscriber_code}/invoices/").json()
    assert len(invoices) == 12
    meters = api.get(f"/accounts/{account.subscriber_code}/invoices/{invoices[0]['number']}/meters/").json()
    assert [m["serial_number"] for m in meters] == sorted(m.serial_number for m in account.meters.all())

    key = "4b1d7a9e-0f3c-4f0e-9a51-5b8a6c2d1e00"
    with django_capture_on_commit_callbacks(execute=True):
        first = api.post("/claims/", claim_form(account, invoices[0]["number"], photos=_photos(account, jpeg_upload)),
                         headers={"Idempotency-Key": key})
    assert first.status_code == 201, first.content
    body = first.json()
    number = body["number"]
    assert first["Location"] == f"/api/v1/claims/{number}/"
    assert body["status"] == "forwarded"
    assert body["channel"] == "egov" and body["channel_label"] == "e-gov.az"
    assert body["login_method"] == "id_number"
    assert {m["meter_serial"]: m["declared_reading"] for m in body["meters"]} == {
        m["serial_number"]: 1490 + i for i, m in enumerate(meters)}

    # The same request twice more: the first claim, never a second one.
    for _ in range(2):
        again = api.post("/claims/", claim_form(account, invoices[0]["number"], photos=_photos(account, jpeg_upload)),
                         headers={"Idempotency-Key": key})
        assert again.status_code == 200
        assert again["Idempotent-Replayed"] == "true"
        assert again.json() == body
    assert Claim.objects.count() == 1
    claim = Claim.objects.get()
    assert claim.channel == "egov" and claim.citizen == citizen
    assert claim.evidence.count() == 2
    assert all(e.photo_content_type == "image/jpeg" for e in claim.evidence.all())
    assert ApiIdempotencyKey.objects.get().claim == claim

    # The back office works the claim; each change goes to the channel's endpoint.
    with django_capture_on_commit_callbacks(execute=True):
        claim_take(claim=claim, actor=operator)
    with django_capture_on_commit_callbacks(execute=True):
        claim_close_no_correction(claim=claim, actor=operator, explanation="Sayğac düzgün oxunub; faktura düzgündür.")
    deliveries = drive_webhooks()

    assert [d.status for d in deliveries] == [WebhookStatus.DELIVERED] * 4
    received = webhook_endpoint.accepted
    assert [r["json"]["status"] for r in received] == ["registered", "forwarded", "in_review", "closed"]
    assert [r["json"]["kind"] for r in received] == ["registered", "forwarded", "review_started", "closed_refused"]
    secret = egov.channel.webhook_secret
    for r in received:
        assert r["path"] == "/hooks/borc"
        assert r["headers"]["Content-Type"] == "application/json"
        assert verify_signature(r["headers"]["X-Signature"], r["body"], secret)
        assert not verify_signature(r["headers"]["X-Signature"], r["body"] + b" ", secret)
        assert r["json"]["claim_number"] == number
        assert r["headers"]["X-Webhook-Event-Id"] == r["json"]["event_id"]
    closed = received[-1]["json"]
    assert closed["outcome"] == "refused" and closed["note"] == "Sayğac düzgün oxunub; faktura düzgündür."
    assert len({r["json"]["event_id"] for r in received}) == 4
    assert WebhookAttempt.objects.count() == 4

    detail = api.get(f"/claims/{number}/").json()
    assert detail["status"] == "closed" and detail["outcome"] == "refused"
    assert detail["outcome_reason"] == "Sayğac düzgün oxunub; faktura düzgündür."
    assert [e["kind"] for e in detail["timeline"]] == ["registered", "forwarded", "review_started", "closed_refused"]
    assert detail["letter_url"] is None
    assert [c["number"] for c in api.get("/claims/").json()] == [number]

    # The citizen sees it on the portal, with the channel it came through.
    client.force_login(citizen)
    page = client.get(f"/claims/{number}/")
    assert page.status_code == 200
    assert "e-gov.az" in page.content.decode()

    # Every call was audited to the channel and the citizen.
    calls = AuditEntry.objects.filter(action="api_call")
    assert calls.count() == 3 + 3 + 2  # reads before, three filings, two reads after
    assert set(calls.values_list("object_type", flat=True)) == {"egov"}
    assert set(calls.values_list("actor", flat=True)) == {citizen.pk}
    assert WebhookDelivery.objects.filter(channel=egov.channel).count() == 4
