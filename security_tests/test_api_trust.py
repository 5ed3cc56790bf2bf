"""Who may call the API: forged, expired, replayed and alg=none citizen tokens are refused;
names from assertions carry no control characters or markup; webhook URLs cannot reach inside
the network (SSRF) and what an endpoint answers is never shown back."""

from __future__ import annotations

import base64
import json
import time
import uuid

import jwt
import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from api.models import ApiChannel, WebhookAttempt, WebhookDelivery, WebhookStatus
from api.services import api_channel_register
from api.tests.conftest import (
    RSA_KEY,
    RSA_OTHER,
    Api,
    citizen_token,
    claim_form,
    drive_webhooks,
    public_pem,
    register_channel,
)
from api.urlguard import UnsafeUrl, check_webhook_url
from identity.models import User

pytestmark = pytest.mark.django_db


def hs256_with_public_key(fin: str) -> str:
    """A token 'signed' with HMAC, the channel's public key as the secret (algorithm confusion)."""
    import hashlib
    import hmac

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    now = int(time.time())
    head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64(json.dumps({"iss": "egov", "sub": fin, "aud": "x", "iat": now, "exp": now + 60,
                           "jti": uuid.uuid4().hex}).encode())
    mac = hmac.new(public_pem(RSA_KEY).encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64(mac)}"


def call(egov, token: str):
    return Client().get("/api/v1/claims/", headers={"Authorization": f"ApiKey {egov.api_key}",
                                                   "X-Citizen-Token": token})


def refused(response, reason: str) -> None:
    """401 problem. ``reason`` names the case for the reader; the detail's wording follows the
    caller's language, so it is not compared."""
    assert response.status_code == 401, (reason, response.content)
    assert response["Content-Type"].startswith("application/problem+json")
    assert response.json()["detail"]


def test_a_token_is_accepted_once(egov, citizen):
    token = egov.token(citizen.fin)
    assert call(egov, token).status_code == 200
    refused(call(egov, token), "used already")
    assert call(egov, egov.token(citizen.fin)).status_code == 200  # a fresh token is fine


def test_the_same_jti_from_another_channel_is_not_a_replay(egov, citizen):
    esu = register_channel("esu")
    assert call(egov, egov.token(citizen.fin, jti="same")).status_code == 200
    assert call(esu, esu.token(citizen.fin, jti="same")).status_code == 200


def test_a_token_without_jti_is_refused(egov, citizen):
    refused(call(egov, egov.token(citizen.fin, jti=None)), "no jti")


@pytest.mark.parametrize(("make", "words"), [
    (lambda egov, fin: citizen_token(fin=fin, channel="egov", key=RSA_OTHER), "signature does not verify"),
    (lambda egov, fin: egov.token(fin, iat=int(time.time()) - 600), "expired"),
    (lambda egov, fin: egov.token(fin, lifetime=3600), "at most"),
    (lambda egov, fin: egov.token(fin, audience="https://elsewhere/api/"), "another audience"),
    (lambda egov, fin: egov.token(fin, iss="esu"), "not issued by this channel"),
    (lambda egov, fin: jwt.encode({"iss": "egov", "sub": fin, "aud": "x", "iat": int(time.time()),
                                   "exp": int(time.time()) + 60, "jti": uuid.uuid4().hex}, None, algorithm="none"),
     "not valid"),
    (lambda egov, fin: hs256_with_public_key(fin), "not valid"),  # key confusion
    (lambda egov, fin: egov.token(fin) + "x" * 9000, "too long"),
    (lambda egov, fin: "not.a.token", "not valid"),
])
def test_forged_expired_and_unsigned_tokens_are_refused(egov, citizen, make, words):
    refused(call(egov, make(egov, citizen.fin)), words)


def test_alg_none_with_a_doctored_header_is_refused(egov, citizen):
    good = egov.token(citizen.fin)
    _header, payload, _sig = good.split(".")
    none = base64.urlsafe_b64encode(json.dumps({"alg": "none", "typ": "JWT"}).encode()).rstrip(b"=").decode()
    refused(call(egov, f"{none}.{payload}."), "not valid")


@pytest.mark.parametrize("name", ["Rəşad\r\nBcc: all@example.az", "<script>alert(1)</script>", "Anar\x00",
                                  "{{ settings.SECRET_KEY }}", "Ə" * 151, "Rəşad\u202e"])
def test_names_with_control_characters_or_markup_are_refused(egov, name):
    response = call(egov, egov.token("9ZZZZ99", given_name=name))
    refused(response, "given_name")
    assert not User.objects.filter(fin="9ZZZZ99").exists()


def test_ordinary_names_are_kept(egov):
    assert call(egov, egov.token("9ZZZZ98", given_name="Gülnar", family_name="Əliyeva-Həsənova")).status_code == 200
    assert User.objects.get(fin="9ZZZZ98").last_name == "Əliyeva-Həsənova"


# --- Webhook URLs -----------------------------------------------------------------------------------

HOSTILE_URLS = [
    "http://93.184.216.34/hook",  # plain http
    "https://127.0.0.1/hook", "https://localhost/hook", "https://[::1]/hook", "https://10.0.0.5/hook",
    "https://192.168.1.1/hook", "https://172.16.0.1/hook", "https://169.254.169.254/latest/meta-data/",
    "https://100.64.0.1/hook", "https://0.0.0.0/hook", "https://[::ffff:127.0.0.1]/hook", "https://[fd00::1]/hook",
    "https://224.0.0.1/hook", "https://user:pass@93.184.216.34/hook", "ftp://93.184.216.34/hook",
    "file:///etc/passwd", "gopher://127.0.0.1:6379/_FLUSHALL",
]


@pytest.fixture
def strict(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False


@pytest.mark.parametrize("url", HOSTILE_URLS)
def test_webhook_urls_inside_the_network_are_refused_at_registration(strict, url):
    with pytest.raises(ValidationError) as refused_url:
        api_channel_register(code="evil", name="evil", citizen_jwt_public_key=public_pem(RSA_KEY), webhook_url=url)
    assert "webhook_url" in refused_url.value.message_dict
    assert not ApiChannel.objects.filter(code="evil").exists()


def test_a_public_https_url_is_accepted(strict):
    check_webhook_url("https://93.184.216.34/hooks/borc")


def test_a_stored_private_url_is_not_called_and_its_answer_never_kept(
        citizen, account, jpeg_upload, webhook_endpoint, default_templates, settings, admin_client):
    egov = register_channel("egov", webhook_url=webhook_endpoint.url)  # allowed while registering (tests)
    photos = {m.serial_number: jpeg_upload() for m in account.meters.all()}
    assert Api(egov, citizen.fin).post("/claims/", claim_form(account, photos=photos),
                                       headers={"Idempotency-Key": "k"}).status_code == 201
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    deliveries = drive_webhooks()
    assert deliveries and all(d.status == WebhookStatus.FAILED for d in deliveries)
    assert webhook_endpoint.requests == []  # no request reached the internal address

    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True
    webhook_endpoint.script = [500]  # answers '{"error": "down for maintenance"}'
    WebhookDelivery.objects.update(status=WebhookStatus.CREATED, attempts=0)
    drive_webhooks()
    assert webhook_endpoint.requests
    assert not WebhookAttempt.objects.exclude(response_body="").exists()
    delivery = WebhookAttempt.objects.get(status_code=500).delivery
    page = admin_client.get(f"/admin/api/webhookdelivery/{delivery.pk}/change/").content.decode()
    assert "HTTP 500" in page and "down for maintenance" not in page


def test_the_connection_itself_refuses_a_private_peer(strict, webhook_endpoint):
    # A name that passed the check and later resolves inside (DNS rebinding) meets this check.
    from api.webhooks import webhook_opener

    with pytest.raises(UnsafeUrl):
        webhook_opener.open(webhook_endpoint.url, data=b"{}", timeout=5)
    assert webhook_endpoint.requests == []
