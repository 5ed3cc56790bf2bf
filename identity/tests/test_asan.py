"""Logging in through "Asan Login" (the stand-in in identity/tests/asan_standin.py)."""

import time
import urllib.parse

import pytest
from django.urls import reverse

from identity.models import User
from identity.tests.helpers import begin_login, local_path, query_of
from identity.tests.servers import SigningKey, http, with_query

PERSON = {"pin": "5ABCD12", "name": "Rəşad", "surname": "Əliyev", "fatherName": "Elşən", "method": "asan_signature"}


def at_the_sso(client, asan, person=PERSON, nxt=""):
    """/auth/login/ -> the SSO's /auth?origin=... -> the citizen logs in there -> the URL the
    SSO sends the browser back to."""
    auth = begin_login(client, nxt)
    status, headers, _ = http("GET", with_query(auth, person))
    assert status == 302
    return headers["Location"]


def back_with(back: str, token: str) -> str:
    """The return URL with its token swapped for ``token``."""
    parts = urllib.parse.urlsplit(back)
    q = dict(urllib.parse.parse_qsl(parts.query))
    q["token"] = token
    return f"{parts.path}?{urllib.parse.urlencode(q)}"


def assert_refused(r, client, status, words):
    body = r.content.decode()
    assert r.status_code == status, body[:800]
    assert "Giriş alınmadı" in body and words in body
    assert "_auth_user_id" not in client.session
    assert not User.objects.filter(fin__isnull=False).exists()


@pytest.mark.django_db
def test_citizen_logs_in_through_asan_login(client, asan):
    auth = begin_login(client, "/claims/")
    assert auth.startswith(f"{asan.url}/auth?origin=")
    origin = query_of(auth)["origin"]
    assert origin.startswith("http://testserver/auth/callback/?state=")

    status, headers, _ = http("GET", with_query(auth, PERSON))
    back = headers["Location"]
    assert back.startswith(origin + "&token=")
    r = client.get(local_path(back))

    assert r.status_code == 302 and r["Location"] == "/claims/"
    user = User.objects.get(fin="5ABCD12")
    assert (user.first_name, user.last_name, user.patronymic) == ("Rəşad", "Əliyev", "Elşən")
    assert int(client.session["_auth_user_id"]) == user.pk
    assert client.session["login_method"] == "asan_signature"
    assert asan.check_requests == 1 and asan.certs_requests == 1


@pytest.mark.django_db
def test_the_login_page_of_the_standin_sends_the_form_back(client, asan):
    auth = begin_login(client)
    status, _, body = http("GET", auth)
    assert status == 200 and b'name="pin"' in body


@pytest.mark.django_db
def test_forged_token_is_refused(client, asan):
    back = at_the_sso(client, asan)
    forged = asan.issue(asan.claims(pin="7XYZ9K1", name="Nigar"), key=SigningKey(kid=asan.key.kid))
    assert_refused(client.get(back_with(back, forged)), client, 401, "imzası yoxlanılmadı")
    assert asan.check_requests == 0  # refused before asking the SSO


@pytest.mark.django_db
def test_token_signed_with_an_unknown_key_is_refused(client, asan):
    back = at_the_sso(client, asan)
    forged = asan.issue(asan.claims(pin="7XYZ9K1"), key=SigningKey())
    assert_refused(client.get(back_with(back, forged)), client, 401, "imzası yoxlanılmadı")
    assert asan.certs_requests == 2


@pytest.mark.django_db
def test_expired_token_is_refused(client, asan):
    back = at_the_sso(client, asan)
    claims = asan.claims(pin="5ABCD12")
    claims.update(iat=int(time.time()) - 7200, exp=int(time.time()) - 3600)
    assert_refused(client.get(back_with(back, asan.issue(claims))), client, 401, "vaxtı keçib")


@pytest.mark.django_db
def test_token_for_another_service_is_refused(client, asan):
    back = at_the_sso(client, asan)
    claims = {**asan.claims(pin="5ABCD12"), "aud": "another-e-service"}
    assert_refused(client.get(back_with(back, asan.issue(claims))), client, 401, "bu xidmət üçün verilməyib")


@pytest.mark.django_db
def test_token_from_another_issuer_is_refused(client, asan):
    back = at_the_sso(client, asan)
    claims = {**asan.claims(pin="5ABCD12"), "iss": "https://elsewhere.example"}
    assert_refused(client.get(back_with(back, asan.issue(claims))), client, 401, "tanınmayan mənbədən")


@pytest.mark.django_db
def test_token_the_check_endpoint_rejects_is_refused(client, asan):
    back = at_the_sso(client, asan)
    token = query_of(back)["token"]
    asan.revoke(token)  # e.g. the citizen logged out of the SSO meanwhile
    assert_refused(client.get(local_path(back)), client, 401, "“Asan Login” bu girişi təsdiq etmədi")
    assert asan.check_requests == 1


@pytest.mark.django_db
def test_validly_signed_token_the_sso_never_issued_is_refused(client, asan):
    back = at_the_sso(client, asan)
    stray = asan.issue(asan.claims(pin="5ABCD12"), register=False)
    assert_refused(client.get(back_with(back, stray)), client, 401, "təsdiq etmədi")


@pytest.mark.django_db
def test_token_without_state_of_this_browser_is_refused(client, asan):
    back = at_the_sso(client, asan)
    parts = urllib.parse.urlsplit(back)
    token = query_of(back)["token"]
    r = client.get(parts.path, {"token": token})  # no state: not a login this browser started
    assert_refused(r, client, 400, "Girişi yenidən başladın")


@pytest.mark.django_db
def test_callback_without_token_is_refused(client, asan):
    back = at_the_sso(client, asan)
    parts = urllib.parse.urlsplit(back)
    r = client.get(parts.path, {"state": query_of(back)["state"]})
    assert_refused(r, client, 400, "cavabı oxunmadı")


@pytest.mark.django_db
def test_token_without_pin_is_refused(client, asan):
    back = at_the_sso(client, asan)
    claims = asan.claims(pin="5ABCD12")
    del claims["main"]["person"]["pin"]
    assert_refused(client.get(back_with(back, asan.issue(claims))), client, 401, "FİN-i ötürmədi")


@pytest.mark.django_db
def test_key_rotation_at_the_sso_does_not_stop_logins(client, asan):
    client.get(local_path(at_the_sso(client, asan)))
    assert "_auth_user_id" in client.session
    client.post(reverse("identity:logout"))
    client.get(local_path(at_the_sso(client, asan)))
    assert asan.certs_requests == 1  # the keys are cached

    client.post(reverse("identity:logout"))
    asan.rotate_key()
    r = client.get(local_path(at_the_sso(client, asan, {**PERSON, "method": "sima_token"})))
    assert r.status_code == 302
    assert "_auth_user_id" in client.session and client.session["login_method"] == "sima_token"
    assert asan.certs_requests == 2  # the unknown key id made one fresh fetch


@pytest.mark.django_db
def test_bare_token_in_the_authorization_header(client, asan, settings):
    settings.ASAN_CHECK_AUTH_SCHEME = ""  # as integrators' code sends it
    assert client.get(local_path(at_the_sso(client, asan))).status_code == 302
    assert "_auth_user_id" in client.session


@pytest.mark.django_db
def test_separate_api_host(client, asan, settings):
    settings.ASAN_LOGIN_URL = "http://127.0.0.1:9"  # only the browser goes there
    settings.ASAN_API_URL = asan.url
    auth = begin_login(client)
    assert auth.startswith("http://127.0.0.1:9/auth?origin=")
    status, headers, _ = http("GET", with_query(asan.url + "/auth?" + urllib.parse.urlsplit(auth).query, PERSON))
    assert client.get(local_path(headers["Location"])).status_code == 302
    assert "_auth_user_id" in client.session


@pytest.mark.django_db
def test_unreachable_sso_says_try_later(client, asan, settings):
    back = at_the_sso(client, asan)
    settings.ASAN_API_URL = "http://127.0.0.1:9"
    assert_refused(client.get(local_path(back)), client, 503, "hazırda cavab vermir")


@pytest.mark.django_db
def test_missing_method_is_recorded_as_id_number(client, asan):
    r = client.get(local_path(at_the_sso(client, asan, {**PERSON, "method": ""})))
    assert r.status_code == 302 and client.session["login_method"] == "id_number"
