"""Logging in through a real OpenID Connect provider (oidc-provider-mock on loopback)."""

import base64
import hashlib
import urllib.parse

import pytest
from django.test import Client
from django.urls import reverse

from audit.models import AuditEntry
from identity.models import User
from identity.providers.pending import SESSION_PENDING
from identity.tests.helpers import begin_login, local_path, query_of
from identity.tests.servers import http
from identity.views import SESSION_ID_TOKEN

# authlib, inside the provider, warns about its own deprecated API on every token it issues.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:authlib.*")

CLAIMS = {"fin": "5ABCD12", "given_name": "Rəşad", "family_name": "Əliyev", "middle_name": "Elşən",
          "amr": ["sima_token"]}


def login_through(client, oidc_provider, *, sub="sub-5abcd12", claims=CLAIMS, nxt=""):
    oidc_provider.set_user(sub, claims)
    authorize = begin_login(client, nxt)
    back = oidc_provider.authorize(authorize, sub=sub)
    return authorize, back, client.get(local_path(back))


@pytest.mark.django_db
def test_citizen_logs_in_through_the_national_sso(client, oidc_settings, oidc_provider):
    authorize, back, r = login_through(client, oidc_provider, nxt="/claims/")

    params = query_of(authorize)
    assert authorize.startswith(f"{oidc_provider.url}/oauth2/authorize?")
    assert params["response_type"] == "code" and params["client_id"] == "borc-portal"
    assert params["scope"] == "openid profile"
    assert params["redirect_uri"] == "http://testserver/auth/callback/"
    assert params["code_challenge_method"] == "S256" and len(params["code_challenge"]) == 43
    assert len(params["state"]) >= 32 and len(params["nonce"]) >= 32
    assert query_of(back)["state"] == params["state"]

    assert r.status_code == 302 and r["Location"] == "/claims/"
    user = User.objects.get(fin="5ABCD12")
    assert (user.first_name, user.last_name, user.patronymic) == ("Rəşad", "Əliyev", "Elşən")
    assert not user.has_usable_password()
    assert int(client.session["_auth_user_id"]) == user.pk
    assert client.session["login_method"] == "sima_token"
    assert client.session[SESSION_ID_TOKEN].count(".") == 2
    assert not client.session[SESSION_PENDING]  # the login in progress is used up
    assert AuditEntry.objects.filter(action="citizen_login", actor=user, after={"method": "sima_token"}).exists()
    assert client.get(reverse("portal:claim_list")).status_code == 200


@pytest.mark.django_db
def test_pkce_verifier_sent_to_the_token_endpoint_matches_the_challenge(client, oidc_settings, oidc_provider):
    oidc_provider.set_user("sub-1", CLAIMS)
    authorize = begin_login(client)
    state = query_of(authorize)["state"]
    verifier = client.session[SESSION_PENDING][state]["verifier"]
    digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    assert query_of(authorize)["code_challenge"] == digest and 43 <= len(verifier) <= 128

    # Someone who holds the code but not the verifier (here: a spoilt verifier) gets nothing.
    session = client.session
    session[SESSION_PENDING][state]["verifier"] = "x" * 60
    session.save()
    refused_before = oidc_provider.pkce.refused
    r = client.get(local_path(oidc_provider.authorize(authorize, sub="sub-1")))
    assert r.status_code == 401 and "Giriş alınmadı" in r.content.decode()
    assert oidc_provider.pkce.refused == refused_before + 1
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_a_returning_citizen_gets_the_name_the_sso_gives(client, oidc_settings, oidc_provider, citizen):
    login_through(client, oidc_provider, claims={**CLAIMS, "given_name": "Rəşid", "amr": ["asan_signature"]})
    citizen.refresh_from_db()
    assert citizen.first_name == "Rəşid" and citizen.patronymic == "Elşən"
    assert int(client.session["_auth_user_id"]) == citizen.pk
    assert client.session["login_method"] == "asan_signature"


@pytest.mark.django_db
def test_callback_with_a_state_the_session_does_not_know_is_refused(client, oidc_settings, oidc_provider):
    oidc_provider.set_user("sub-1", CLAIMS)
    back = oidc_provider.authorize(begin_login(client), sub="sub-1")
    code = query_of(back)["code"]
    r = client.get(reverse("identity:callback"), {"code": code, "state": "forged-state"})
    assert r.status_code == 400
    body = r.content.decode()
    assert "Giriş alınmadı" in body and "Girişi yenidən başladın" in body
    assert reverse("identity:login") in body
    assert "_auth_user_id" not in client.session
    assert not User.objects.filter(fin="5ABCD12").exists()


@pytest.mark.django_db
def test_callback_in_another_browser_is_refused(client, oidc_settings, oidc_provider):
    """Login CSRF: the code and state of someone else's login do not log this browser in."""
    oidc_provider.set_user("sub-1", CLAIMS)
    back = oidc_provider.authorize(begin_login(client), sub="sub-1")
    other = Client()
    r = other.get(local_path(back))
    assert r.status_code == 400 and "_auth_user_id" not in other.session


@pytest.mark.django_db
def test_a_callback_cannot_be_replayed(client, oidc_settings, oidc_provider):
    _, back, r = login_through(client, oidc_provider)
    assert r.status_code == 302
    client.post(reverse("identity:logout"))
    r = client.get(local_path(back))
    assert r.status_code == 400 and "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_citizen_who_cancels_at_the_sso_is_not_logged_in(client, oidc_settings, oidc_provider):
    back = oidc_provider.authorize(begin_login(client), deny=True)
    assert query_of(back)["error"] == "access_denied"
    r = client.get(local_path(back))
    assert r.status_code == 401
    assert "Giriş ləğv edildi" in r.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_client_secret_post_works_with_the_provider(client, oidc_settings, oidc_provider):
    oidc_settings.OIDC_TOKEN_AUTH_METHOD = "client_secret_post"
    _, _, r = login_through(client, oidc_provider)
    assert r.status_code == 302 and "_auth_user_id" in client.session


@pytest.mark.django_db
def test_logout_ends_the_portal_and_the_sso_session(client, oidc_settings, oidc_provider):
    login_through(client, oidc_provider)
    id_token = client.session[SESSION_ID_TOKEN]
    r = client.post(reverse("identity:logout"))
    assert "_auth_user_id" not in client.session
    assert r.status_code == 302 and r["Location"].startswith(f"{oidc_provider.url}/oauth2/end_session?")
    params = query_of(r["Location"])
    assert params["id_token_hint"] == id_token
    assert params["post_logout_redirect_uri"] == "http://testserver/"
    # The provider's logout page confirms and sends the browser back to the portal.
    status, _, body = http("GET", r["Location"])
    assert status == 200
    status, headers, _ = http("POST", f"{oidc_provider.url}/oauth2/end_session/confirm",
                              form={"redirect_uri": params["post_logout_redirect_uri"]})
    assert status == 302 and headers["Location"] == "http://testserver/"


@pytest.mark.django_db
def test_login_page_redirects_unknown_next_to_home(client, oidc_settings, oidc_provider):
    _, _, r = login_through(client, oidc_provider, nxt="https://evil.example/")
    assert r.status_code == 302 and r["Location"] == reverse("portal:home")


@pytest.mark.django_db
def test_protected_page_sends_the_citizen_to_the_sso_and_back(client, oidc_settings, oidc_provider):
    r = client.get(reverse("portal:claim_list"))
    assert r.status_code == 302
    login = urllib.parse.urlsplit(r["Location"])
    assert login.path == reverse("identity:login")
    r = client.get(r["Location"])
    assert r["Location"].startswith(oidc_provider.url)
    oidc_provider.set_user("sub-1", CLAIMS)
    r = client.get(local_path(oidc_provider.authorize(r["Location"], sub="sub-1")))
    assert r["Location"] == reverse("portal:claim_list")
