"""Who may call: the channel's API key and the citizen token it signs."""

from __future__ import annotations

import io
import time

import jwt
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from api.models import ApiKey
from api.services import api_key_create, api_key_revoke
from audit.models import AuditEntry
from identity.models import User

from .conftest import EC_KEY, RSA_KEY, RSA_OTHER, Api, citizen_token

PROBLEM = "application/problem+json"


def _problem(response, status: int, slug: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["type"].endswith(f"/api/problems/{slug}")
    assert body["status"] == status
    assert body["title"] and body["detail"] and body["instance"].startswith("/api/v1/")
    return body


def test_the_api_key_command_prints_the_key_once_and_stores_only_its_hash(egov):
    key = ApiKey.objects.get(channel=egov.channel)
    prefix, secret = egov.api_key.split(".")
    assert key.prefix == prefix
    assert secret not in key.secret_hash and len(key.secret_hash) == 64
    with pytest.raises(CommandError, match="No channel 'esu'"):
        call_command("api_key_create", "--channel", "esu", stdout=io.StringIO(), stderr=io.StringIO())


def test_a_valid_key_and_token_are_accepted_and_the_citizen_created_on_first_sight(egov, client):
    assert not User.objects.filter(fin="5ABCD12").exists()
    headers = egov.headers("5ABCD12", given_name="Rəşad", family_name="Əliyev")
    response = client.get("/api/v1/accounts/", headers=headers)
    assert response.status_code == 200
    user = User.objects.get(fin="5ABCD12")
    assert (user.username, user.first_name, user.last_name) == ("citizen-5ABCD12", "Rəşad", "Əliyev")
    assert not user.has_usable_password()
    assert ApiKey.objects.get(channel=egov.channel).last_used_at is not None
    entry = AuditEntry.objects.filter(action="api_call").get()
    assert (entry.actor, entry.object_type, entry.object_id) == (user, "egov", "accounts")
    assert entry.after == {"method": "GET", "path": "/api/v1/accounts/", "status": 200,
                           "key": egov.api_key.split(".")[0]}


def test_an_ec_p256_channel_signs_with_es256(esu, citizen, client):
    assert client.get("/api/v1/accounts/", headers=esu.headers(citizen.fin)).status_code == 200


@pytest.mark.parametrize("authorization, slug", [
    (None, "not-authenticated"),
    ("Bearer abc", "invalid-credentials"),
    ("ApiKey nodot", "invalid-credentials"),
    ("ApiKey 0123456789ab.wrong-secret", "invalid-credentials"),
])
def test_missing_or_bad_api_keys_are_401_problems(egov, citizen, client, authorization, slug):
    headers = {"X-Citizen-Token": egov.token(citizen.fin)}
    if authorization:
        headers["Authorization"] = authorization
    body = _problem(client.get("/api/v1/claims/", headers=headers), 401, slug)
    assert "errors" not in body


def test_a_wrong_secret_for_a_real_prefix_is_refused(egov, citizen, client):
    prefix = egov.api_key.split(".")[0]
    response = client.get("/api/v1/claims/", headers={"Authorization": f"ApiKey {prefix}.not-the-secret",
                                                      "X-Citizen-Token": egov.token(citizen.fin)})
    _problem(response, 401, "invalid-credentials")
    assert response["WWW-Authenticate"] == 'ApiKey realm="api"'


def test_a_revoked_key_is_refused_while_the_rotated_one_works(egov, citizen, client):
    new_key, clear = api_key_create(channel=egov.channel, name="rotation")
    api_key_revoke(key=ApiKey.objects.get(channel=egov.channel, prefix=egov.api_key.split(".")[0]))
    _problem(client.get("/api/v1/claims/", headers=egov.headers(citizen.fin)), 401, "invalid-credentials")
    rotated = {"Authorization": f"ApiKey {clear}", "X-Citizen-Token": egov.token(citizen.fin)}
    assert client.get("/api/v1/claims/", headers=rotated).status_code == 200
    assert AuditEntry.objects.filter(action="api_key_revoked", object_id=egov.api_key.split(".")[0]).count() == 1


def test_a_disabled_channel_is_forbidden(egov, citizen, client):
    egov.channel.active = False
    egov.channel.save()
    _problem(client.get("/api/v1/claims/", headers=egov.headers(citizen.fin)), 403, "forbidden")
    entry = AuditEntry.objects.filter(action="api_call").get()
    assert entry.object_type == "egov" and entry.actor is None and entry.actor_label == "api:egov"
    assert entry.after["status"] == 403


def test_citizen_operations_need_a_citizen_token_but_reasons_do_not(egov, client, default_templates):
    headers = egov.headers()  # the key only
    assert client.get("/api/v1/reasons/", headers=headers).status_code == 200
    body = _problem(client.get("/api/v1/claims/", headers=headers), 401, "not-authenticated")
    assert "X-Citizen-Token" in body["detail"]


def _now() -> int:
    return int(time.time())


@pytest.mark.parametrize("make_token, message", [
    (lambda: citizen_token(fin="5ABCD12", channel="egov", iat=_now() - 400, lifetime=300), "expired"),
    (lambda: citizen_token(fin="5ABCD12", channel="egov", key=RSA_OTHER), "signature"),
    (lambda: citizen_token(fin="5ABCD12", channel="egov", audience="https://other.example/api/"), "audience"),
    (lambda: citizen_token(fin="5ABCD12", channel="esu"), "not issued by this channel"),
    (lambda: citizen_token(fin="5ABCD12", channel="egov", lifetime=3600), "at most 300 seconds"),
    (lambda: citizen_token(fin="5ABCD12", channel="egov", iat=_now() + 600), "not yet valid"),
    (lambda: citizen_token(fin="5ABCI12", channel="egov"), "FIN"),  # the letter I is not used
    (lambda: citizen_token(fin="5ABCD1", channel="egov"), "FIN"),
    (lambda: citizen_token(fin="5ABCD12", channel="egov", extra={"fin": "7XYZ9K1"}), "different citizens"),
    (lambda: citizen_token(fin="5ABCD12", channel="egov", login_method="password"), "login_method"),
    (lambda: citizen_token(fin="5ABCD12", channel="egov", key=EC_KEY, algorithm="ES256"), "not valid"),
    (lambda: jwt.encode({"iss": "egov", "sub": "5ABCD12"}, RSA_KEY, algorithm="RS256"), "not valid"),
    (lambda: jwt.encode({"iss": "egov", "aud": "x", "sub": "5ABCD12", "iat": _now(), "exp": _now() + 60}, None,
                        algorithm="none"), "not valid"),
    (lambda: "not-a-jwt", "not valid"),
])
def test_bad_citizen_tokens_are_401_problems(egov, client, settings, make_token, message):
    headers = {"Authorization": f"ApiKey {egov.api_key}", "X-Citizen-Token": make_token(), "Accept-Language": "en"}
    body = _problem(client.get("/api/v1/claims/", headers=headers), 401, "invalid-credentials")
    assert message in body["detail"]
    assert not User.objects.filter(fin__in=["5ABCD12", "7XYZ9K1"]).exists()


def test_a_token_signed_with_the_public_key_as_an_hmac_secret_is_refused(egov, client):
    """The algorithm comes from the registered key, never from the token (the classic RS256/HS256
    confusion)."""
    import base64
    import hashlib
    import hmac
    import json

    def b64(data: bytes) -> bytes:
        return base64.urlsafe_b64encode(data).rstrip(b"=")

    header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = b64(json.dumps({"iss": "egov", "aud": egov.channel.citizen_jwt_public_key, "sub": "5ABCD12",
                              "iat": _now(), "exp": _now() + 60}).encode())
    signature = b64(hmac.new(egov.channel.citizen_jwt_public_key.encode(), header + b"." + payload,
                             hashlib.sha256).digest())
    token = (header + b"." + payload + b"." + signature).decode()
    response = client.get("/api/v1/claims/", headers={"Authorization": f"ApiKey {egov.api_key}",
                                                      "X-Citizen-Token": token})
    _problem(response, 401, "invalid-credentials")


def test_the_fin_may_come_in_a_fin_claim(egov, client):
    token = citizen_token(fin="ignored", channel="egov", sub=None, extra={"fin": "7XYZ9K1"})
    response = client.get("/api/v1/accounts/", headers={"Authorization": f"ApiKey {egov.api_key}",
                                                        "X-Citizen-Token": token})
    assert response.status_code == 200
    assert User.objects.filter(fin="7XYZ9K1").exists()


def test_a_disabled_citizen_is_forbidden(egov, citizen, client):
    citizen.is_active = False
    citizen.save()
    _problem(client.get("/api/v1/claims/", headers=egov.headers(citizen.fin)), 403, "forbidden")


def test_a_channel_with_a_weak_or_unknown_key_cannot_be_registered(db):
    from cryptography.hazmat.primitives.asymmetric import rsa
    from django.core.exceptions import ValidationError

    from api.services import api_channel_register

    from .conftest import public_pem

    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505 - the weak key under test
    with pytest.raises(ValidationError, match="2048"):
        api_channel_register(code="egov", name="e-gov.az", citizen_jwt_public_key=public_pem(weak))
    with pytest.raises(ValidationError, match="PEM"):
        api_channel_register(code="egov", name="e-gov.az", citizen_jwt_public_key="-----BEGIN nonsense")
    with pytest.raises(ValidationError):
        api_channel_register(code="nope", name="?", citizen_jwt_public_key=public_pem(RSA_KEY))


def test_the_same_api_is_spoken_by_two_registered_channels(egov, esu, citizen):
    assert Api(egov, citizen.fin).get("/claims/").status_code == 200
    assert Api(esu, citizen.fin).get("/claims/").status_code == 200
    # One channel's key with the other's token: the token's issuer and signature do not match.
    mixed = Api(egov, citizen.fin)
    response = mixed.get("/claims/", headers={"X-Citizen-Token": esu.token(citizen.fin)})
    _problem(response, 401, "invalid-credentials")
