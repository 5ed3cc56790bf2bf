"""Every way an ID token can be wrong is refused, through the same callback a citizen uses.

The provider here is OidcStandIn: it shapes the ID token as each test asks (the real provider
always signs correctly)."""

import base64
import json
import logging
import time

import jwt
import pytest
from django.urls import reverse

from identity.models import User
from identity.tests.helpers import begin_login, local_path
from identity.tests.servers import JsonHandler, SigningKey, http, serve


def callback(client, op):
    """The whole login: /auth/login/ -> provider -> /auth/callback/; returns the callback's answer."""
    status, headers, _ = http("GET", begin_login(client))
    assert status == 302
    return client.get(local_path(headers["Location"]))


def assert_refused(r, client, status, words):
    body = r.content.decode()
    assert r.status_code == status, body[:800]
    assert "Giriş alınmadı" in body and words in body
    assert "_auth_user_id" not in client.session
    assert not User.objects.filter(fin__isnull=False).exists()


@pytest.mark.django_db
def test_well_formed_token_logs_in(client, oidc_standin):
    r = callback(client, oidc_standin)
    assert r.status_code == 302
    user = User.objects.get(fin="5ABCD12")
    assert int(client.session["_auth_user_id"]) == user.pk
    assert client.session["login_method"] == "sima_signature"
    assert oidc_standin.client_auth == ["client_secret_basic"]


@pytest.mark.django_db
def test_client_secret_post(client, oidc_standin, settings):
    settings.OIDC_TOKEN_AUTH_METHOD = "client_secret_post"
    assert callback(client, oidc_standin).status_code == 302
    assert oidc_standin.client_auth == ["client_secret_post"]


@pytest.mark.django_db
def test_tampered_id_token_is_refused(client, oidc_standin):
    def tamper(token):
        header, payload, signature = token.split(".")
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        claims["fin"] = "7XYZ9K1"  # someone else's FIN, the signature left as it was
        forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
        return f"{header}.{forged}.{signature}"

    oidc_standin.mutate = tamper
    assert_refused(callback(client, oidc_standin), client, 401, "imzası yoxlanılmadı")


@pytest.mark.django_db
def test_token_signed_with_another_key_under_the_providers_key_id_is_refused(client, oidc_standin):
    oidc_standin.sign_with = SigningKey(kid=oidc_standin.key.kid)
    assert_refused(callback(client, oidc_standin), client, 401, "imzası yoxlanılmadı")
    # A known key id with a bad signature is a forgery: no reason to fetch the keys again.
    assert oidc_standin.requests["/jwks"] == 1


@pytest.mark.django_db
def test_token_signed_with_an_unknown_key_is_refused_after_one_fresh_look_at_the_keys(client, oidc_standin):
    oidc_standin.sign_with = SigningKey()
    assert_refused(callback(client, oidc_standin), client, 401, "imzası yoxlanılmadı")
    assert oidc_standin.requests["/jwks"] == 2


@pytest.mark.django_db
@pytest.mark.parametrize("alg", ["none", "HS256"])
def test_tokens_without_a_public_key_signature_are_refused(client, oidc_standin, alg):
    def resign(token):
        claims = jwt.decode(token, options={"verify_signature": False})
        secret = oidc_standin.key.jwk()["n"]  # the "HS256 with the public key as secret" trick
        return jwt.encode(claims, None if alg == "none" else secret, algorithm=alg)

    oidc_standin.mutate = resign
    assert_refused(callback(client, oidc_standin), client, 401, "imzası yoxlanılmadı")


@pytest.mark.django_db
def test_token_for_another_service_is_refused(client, oidc_standin):
    oidc_standin.overrides = {"aud": "another-service"}
    assert_refused(callback(client, oidc_standin), client, 401, "bu xidmət üçün verilməyib")


@pytest.mark.django_db
def test_token_for_several_audiences_needs_us_as_authorized_party(client, oidc_standin):
    oidc_standin.overrides = {"aud": ["borc-portal", "another-service"], "azp": "another-service"}
    assert_refused(callback(client, oidc_standin), client, 401, "bu xidmət üçün verilməyib")


@pytest.mark.django_db
def test_token_from_another_issuer_is_refused(client, oidc_standin):
    oidc_standin.overrides = {"iss": "https://sso.example.org"}
    assert_refused(callback(client, oidc_standin), client, 401, "tanınmayan mənbədən")


@pytest.mark.django_db
def test_expired_token_is_refused(client, oidc_standin):
    now = int(time.time())
    oidc_standin.overrides = {"iat": now - 3600, "exp": now - 120}
    assert_refused(callback(client, oidc_standin), client, 401, "vaxtı keçib")


@pytest.mark.django_db
def test_small_clock_skew_is_tolerated(client, oidc_standin):
    now = int(time.time())
    oidc_standin.overrides = {"iat": now - 600, "exp": now - 20}  # within SSO_CLOCK_LEEWAY (60 s)
    assert callback(client, oidc_standin).status_code == 302


@pytest.mark.django_db
def test_token_with_another_nonce_is_refused(client, oidc_standin):
    oidc_standin.overrides = {"nonce": "replayed-from-another-login"}
    assert_refused(callback(client, oidc_standin), client, 401, "bu giriş sorğusuna aid deyil")


@pytest.mark.django_db
def test_token_without_nonce_is_refused(client, oidc_standin):
    oidc_standin.drop = {"nonce"}
    assert_refused(callback(client, oidc_standin), client, 401, "bu giriş sorğusuna aid deyil")


@pytest.mark.django_db
def test_token_without_fin_is_refused(client, oidc_standin):
    oidc_standin.drop = {"fin"}
    oidc_standin.userinfo = {"sub": "citizen-1"}
    assert_refused(callback(client, oidc_standin), client, 401, "FİN-i ötürmədi")


@pytest.mark.django_db
@pytest.mark.parametrize("fin", ["5ABCDI2", "12345", "5ABC-12", "5ABCD123"])
def test_token_with_a_malformed_fin_is_refused(client, oidc_standin, fin):
    oidc_standin.overrides = {"fin": fin}
    assert_refused(callback(client, oidc_standin), client, 401, "FİN düzgün deyil")


@pytest.mark.django_db
def test_fin_only_in_userinfo_is_used(client, oidc_standin):
    oidc_standin.drop = {"fin"}
    oidc_standin.userinfo = {"sub": "citizen-1", "fin": "5ABCD12"}
    assert callback(client, oidc_standin).status_code == 302
    assert User.objects.filter(fin="5ABCD12").exists()


@pytest.mark.django_db
def test_userinfo_of_another_subject_is_ignored(client, oidc_standin):
    oidc_standin.drop = {"fin"}
    oidc_standin.userinfo = {"sub": "someone-else", "fin": "7XYZ9K1"}
    assert_refused(callback(client, oidc_standin), client, 401, "FİN-i ötürmədi")


@pytest.mark.django_db
def test_nested_fin_claim_and_custom_method_map(client, oidc_standin, settings):
    settings.OIDC_FIN_CLAIM = "person.pin"
    settings.OIDC_METHOD_CLAIM = "auth.type"
    settings.OIDC_METHOD_MAP = {"SIMA-TOKEN": "sima_token"}
    oidc_standin.drop = {"fin", "amr"}
    oidc_standin.overrides = {"person": {"pin": "5abcd12"}, "auth": {"type": "SIMA-TOKEN"}}
    assert callback(client, oidc_standin).status_code == 302
    assert User.objects.filter(fin="5ABCD12").exists()
    assert client.session["login_method"] == "sima_token"


@pytest.mark.django_db
def test_missing_method_is_recorded_as_id_number_with_a_log_line(client, oidc_standin, caplog):
    oidc_standin.drop = {"amr"}
    with caplog.at_level(logging.INFO, logger="identity.sso"):
        assert callback(client, oidc_standin).status_code == 302
    assert client.session["login_method"] == "id_number"
    assert "no login method" in caplog.text


@pytest.mark.django_db
def test_unmapped_method_is_recorded_as_id_number_with_a_warning(client, oidc_standin, caplog):
    oidc_standin.overrides = {"amr": ["face-id"]}
    with caplog.at_level(logging.WARNING, logger="identity.sso"):
        assert callback(client, oidc_standin).status_code == 302
    assert client.session["login_method"] == "id_number"
    assert "'face-id'" in caplog.text and "not mapped" in caplog.text


@pytest.mark.django_db
def test_code_the_provider_refuses_is_refused(client, oidc_standin, settings):
    settings.OIDC_CLIENT_SECRET = "wrong"
    assert_refused(callback(client, oidc_standin), client, 401, "girişi təsdiq etmədi")


@pytest.mark.django_db
def test_provider_failing_at_the_token_endpoint_says_try_later(client, oidc_standin):
    oidc_standin.token_status = 502
    assert_refused(callback(client, oidc_standin), client, 503, "hazırda cavab vermir")


@pytest.mark.django_db
def test_unreachable_provider_says_try_later(client, settings):
    with serve(JsonHandler) as server:  # a free port, closed again at once
        port = server.server_port
    settings.IDENTITY_PROVIDER = "identity.providers.oidc.OidcProvider"
    settings.OIDC_ISSUER = f"http://127.0.0.1:{port}"
    settings.OIDC_CLIENT_ID = "borc-portal"
    r = client.get(reverse("identity:login"))
    assert_refused(r, client, 503, "hazırda cavab vermir")


@pytest.mark.django_db
def test_discovery_and_keys_are_cached_and_a_rotated_key_is_fetched(client, oidc_standin):
    assert callback(client, oidc_standin).status_code == 302
    client.post(reverse("identity:logout"))
    assert callback(client, oidc_standin).status_code == 302
    assert oidc_standin.requests["/.well-known/openid-configuration"] == 1
    assert oidc_standin.requests["/jwks"] == 1

    client.post(reverse("identity:logout"))
    oidc_standin.rotate_key()
    assert callback(client, oidc_standin).status_code == 302
    assert oidc_standin.requests["/jwks"] == 2


@pytest.mark.django_db
def test_rotated_key_without_key_id_is_found_too(client, oidc_standin):
    oidc_standin.with_kid = False
    assert callback(client, oidc_standin).status_code == 302
    client.post(reverse("identity:logout"))
    oidc_standin.rotate_key()
    assert callback(client, oidc_standin).status_code == 302
    assert oidc_standin.requests["/jwks"] == 2


@pytest.mark.django_db
def test_made_up_key_ids_do_not_flood_the_provider(client, oidc_standin):
    for _ in range(3):
        oidc_standin.sign_with = SigningKey()
        r = callback(client, oidc_standin)
        assert r.status_code == 401
    assert oidc_standin.requests["/jwks"] == 2  # first fetch + one forced refetch per interval


@pytest.mark.django_db
def test_logout_without_end_session_endpoint_goes_home(client, oidc_standin):
    oidc_standin.end_session = False
    callback(client, oidc_standin)
    r = client.post(reverse("identity:logout"))
    assert r["Location"] == reverse("portal:home") and "_auth_user_id" not in client.session
