"""Session end: logout, idle timeout; and the development page beside a real provider."""

import time

import pytest
from django.core.checks import run_checks
from django.urls import reverse

from identity.middleware import SESSION_LAST_ACTIVITY
from identity.models import User


def dev_login(client, citizen, url=None):
    return client.post(url or reverse("identity:login"), {"method": "asan_signature", "demo_fin": citizen.fin})


def idle_for(client, seconds):
    session = client.session
    session[SESSION_LAST_ACTIVITY] = int(time.time()) - seconds
    session.save()


@pytest.mark.django_db
def test_logout_ends_the_session(client, citizen):
    dev_login(client, citizen)
    assert "_auth_user_id" in client.session
    r = client.post(reverse("identity:logout"))
    assert r.status_code == 302 and r["Location"] == reverse("portal:home")
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("portal:claim_list")).status_code == 302


@pytest.mark.django_db
def test_logout_needs_post(client, citizen):
    dev_login(client, citizen)
    assert client.get(reverse("identity:logout")).status_code == 405
    assert "_auth_user_id" in client.session


@pytest.mark.django_db
def test_idle_session_is_logged_out(client, citizen, settings):
    settings.SESSION_IDLE_TIMEOUT = 900
    dev_login(client, citizen)
    assert client.get(reverse("portal:claim_list")).status_code == 200
    idle_for(client, 901)
    r = client.get(reverse("portal:claim_list"))
    assert r.status_code == 302 and r["Location"].startswith(reverse("identity:login"))
    assert "_auth_user_id" not in client.session
    r = client.get(reverse("portal:home"))
    assert "sessiyanız başa çatdı" in r.content.decode()


@pytest.mark.django_db
def test_activity_keeps_the_session_alive(client, citizen, settings):
    settings.SESSION_IDLE_TIMEOUT = 900
    dev_login(client, citizen)
    idle_for(client, 600)
    assert client.get(reverse("portal:claim_list")).status_code == 200
    assert time.time() - client.session[SESSION_LAST_ACTIVITY] < 5  # the clock was reset
    idle_for(client, 600)
    assert client.get(reverse("portal:claim_list")).status_code == 200
    assert "_auth_user_id" in client.session


@pytest.mark.django_db
def test_idle_timeout_zero_switches_it_off(client, citizen, settings):
    settings.SESSION_IDLE_TIMEOUT = 0
    dev_login(client, citizen)
    idle_for(client, 10 * 24 * 3600)
    assert client.get(reverse("portal:claim_list")).status_code == 200


@pytest.mark.django_db
def test_idle_timeout_applies_to_staff_too(client, operator, settings):
    settings.SESSION_IDLE_TIMEOUT = 900
    client.force_login(operator)
    assert SESSION_LAST_ACTIVITY in client.session  # the clock starts at login
    idle_for(client, 1000)
    client.get(reverse("portal:home"))
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_dev_page_stays_at_auth_dev_when_another_provider_is_configured(client, citizen, settings):
    settings.IDENTITY_PROVIDER = "identity.providers.asan.AsanLoginProvider"
    settings.ASAN_LOGIN_URL = "http://127.0.0.1:9"
    body = client.get(reverse("identity:dev_login")).content.decode()
    assert "SİMA Token(Elektron imza) ilə" in body and "BSXM Elektron İmza ilə" in body
    r = dev_login(client, citizen, reverse("identity:dev_login") + "?next=/claims/")
    assert r.status_code == 302 and r["Location"] == "/claims/"
    assert int(client.session["_auth_user_id"]) == citizen.pk
    # ... while /auth/login/ goes to the configured provider.
    client.post(reverse("identity:logout"))
    assert client.get(reverse("identity:login"))["Location"].startswith("http://127.0.0.1:9/auth?origin=")


@pytest.mark.django_db
def test_dev_page_is_refused_everywhere_when_switched_off(client, citizen, settings):
    settings.DEV_LOGIN_ENABLED = False
    settings.IDENTITY_PROVIDER = "identity.providers.asan.AsanLoginProvider"
    assert client.get(reverse("identity:dev_login")).status_code == 404
    assert dev_login(client, citizen, reverse("identity:dev_login")).status_code == 404
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_callback_of_the_dev_provider_logs_nobody_in(client):
    r = client.get(reverse("identity:callback"), {"code": "x", "state": "y"})
    assert r.status_code == 400 and "_auth_user_id" not in client.session
    assert not User.objects.exists()


def test_system_checks_name_a_login_nobody_can_use(settings):
    def ids():
        return {m.id for m in run_checks(tags=["identity"])}

    settings.IDENTITY_PROVIDER = "identity.providers.dev.DevProvider"
    settings.DEV_LOGIN_ENABLED = False
    assert "identity.W001" in ids()
    settings.IDENTITY_PROVIDER = "identity.providers.oidc.OidcProvider"
    settings.OIDC_ISSUER = ""
    assert "identity.E002" in ids()
    settings.OIDC_ISSUER, settings.OIDC_CLIENT_ID = "https://sso.example", "portal"
    settings.OIDC_TOKEN_AUTH_METHOD = "private_key_jwt"
    assert "identity.E003" in ids()
    settings.IDENTITY_PROVIDER = "identity.providers.asan.AsanLoginProvider"
    settings.ASAN_LOGIN_URL = ""
    assert "identity.E004" in ids()
    settings.IDENTITY_PROVIDER = "identity.providers.nowhere.Provider"
    assert "identity.E001" in ids()
    settings.IDENTITY_PROVIDER = "identity.providers.oidc.OidcProvider"
    settings.OIDC_TOKEN_AUTH_METHOD = "client_secret_basic"
    assert ids() == set()
