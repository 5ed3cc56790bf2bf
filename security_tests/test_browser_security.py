"""Browser security of every page: a Content-Security-Policy without inline code, HSTS, the
SSL redirect, Secure cookies, Permissions-Policy, no caching of personal data, a request body
limit; and the staff login's password rules, lockouts and idle timeout."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from identity.middleware import SESSION_LAST_ACTIVITY

pytestmark = pytest.mark.django_db

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
INLINE_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)
INLINE_STYLE = re.compile(r"<style\b|\sstyle\s*=", re.I)


def directives(response) -> dict[str, str]:
    return {part.strip().split(" ", 1)[0]: part.strip() for part in response["Content-Security-Policy"].split(";")}


def test_pages_carry_a_strict_policy_and_no_inline_code(client, citizen, operator, claim_factory):
    claim = claim_factory()
    pages = [("anonymous", reverse("portal:home")), ("anonymous", reverse("identity:dev_login")),
             ("anonymous", reverse("backoffice:login"))]
    staff = Client()
    staff.force_login(operator)
    me = Client()
    me.force_login(citizen)
    for who, url in [*pages, ("staff", reverse("backoffice:queue")), ("staff", f"/office/claims/{claim.number}/"),
                     ("staff", reverse("notifications:outbox")), ("citizen", reverse("portal:claim_list")),
                     ("citizen", f"/claims/{claim.number}/")]:
        response = {"anonymous": client, "staff": staff, "citizen": me}[who].get(url)
        assert response.status_code == 200, url
        csp = directives(response)
        assert csp["script-src"] == "script-src 'self'" and "unsafe" not in response["Content-Security-Policy"]
        assert csp["object-src"] == "object-src 'none'" and csp["frame-ancestors"] == "frame-ancestors 'none'"
        html = response.content.decode()
        assert not INLINE_SCRIPT.search(html), url
        assert not INLINE_HANDLER.search(html), url
        assert not INLINE_STYLE.search(html), url
        assert "camera=()" in response["Permissions-Policy"] and "geolocation=()" in response["Permissions-Policy"]
        assert "no-store" in response["Cache-Control"], url
        assert response["X-Content-Type-Options"] == "nosniff"


def test_the_brand_colour_is_a_style_sheet_and_cannot_inject_css(client, settings):
    settings.ORGANISATION = {**settings.ORGANISATION, "brand_colour": "red;} body{display:none"}
    response = client.get(reverse("brand_css"))
    assert response["Content-Type"].startswith("text/css")
    assert response.content.decode() == ":root { --brand: #0b5ea8; }\n"


def test_api_answers_are_not_cached(client):
    response = client.get("/api/v1/claims/")
    assert response.status_code == 401
    assert "no-store" in response["Cache-Control"]


def test_https_redirect_hsts_and_secure_cookies_when_configured(client, settings, operator):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    plain = client.get(reverse("portal:home"))
    assert plain.status_code == 301 and plain["Location"].startswith("https://")
    assert client.get(reverse("healthz")).status_code == 200  # the probes stay on plain HTTP
    secure = client.get(reverse("backoffice:login"), secure=True)
    assert secure["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert secure.cookies["csrftoken"]["secure"]
    login = client.post(reverse("backoffice:login"), {"username": operator.username, "password": "demo-pass-2026"},
                        secure=True)
    assert login.cookies["sessionid"]["secure"] and login.cookies["sessionid"]["httponly"]


def test_an_oversized_body_is_refused_before_it_is_read(client, settings):
    settings.REQUEST_MAX_BYTES = 1024
    response = client.generic("POST", reverse("backoffice:login"), b"x" * 2048,
                              content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413
    api = client.generic("POST", "/api/v1/claims/", b"{}" + b" " * 2048, content_type="application/json")
    assert api.status_code == 413 and api["Content-Type"] == "application/problem+json"


def test_an_oversized_body_is_refused_even_if_it_lies_about_its_length(client, settings):
    # A body larger than its Content-Length is cut at the length; a length larger than the
    # limit is refused; a negative or malformed length is refused too.
    settings.REQUEST_MAX_BYTES = 1024
    response = client.generic("POST", reverse("backoffice:login"), b"a=1", CONTENT_LENGTH="-5",
                              content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413


@pytest.mark.parametrize("password", ["12345678", "demo-pass", "password1234", "qwertyuiop12"])
def test_weak_staff_passwords_are_refused(password):
    with pytest.raises(ValidationError):
        validate_password(password)


def test_a_long_uncommon_password_is_accepted():
    validate_password("sayğac-Bakı-2026-su")


def test_password_spraying_from_one_address_is_locked_out(client, settings, staff_factory, branch):
    settings.AXES_USERNAME_FAILURE_LIMIT = 5
    settings.AXES_IP_FAILURE_LIMIT = 8
    users = [staff_factory(operator=True, branch=branch, username=f"op-{i}") for i in range(9)]
    for user in users[:8]:  # one wrong password per user: no username reaches its limit
        client.post(reverse("backoffice:login"), {"username": user.username, "password": "Winter2026!!"})
    response = client.post(reverse("backoffice:login"), {"username": users[8].username, "password": "demo-pass-2026"})
    assert "_auth_user_id" not in client.session
    assert "müvəqqəti bloklanıb" in response.content.decode()
    # Another address is not locked.
    other = Client(REMOTE_ADDR="10.1.2.3")
    other.post(reverse("backoffice:login"), {"username": users[8].username, "password": "demo-pass-2026"})
    assert "_auth_user_id" in other.session


def test_staff_sessions_end_sooner_when_quiet(client, operator, citizen, settings):
    settings.SESSION_IDLE_TIMEOUT = 1800
    settings.STAFF_SESSION_IDLE_TIMEOUT = 600
    client.post(reverse("backoffice:login"), {"username": operator.username, "password": "demo-pass-2026"})
    session = client.session
    session[SESSION_LAST_ACTIVITY] -= 700
    session.save()
    response = client.get(reverse("backoffice:queue"))
    assert response.status_code == 302 and "_auth_user_id" not in client.session
    # A citizen quiet for as long is still logged in.
    me = Client()
    me.post(reverse("identity:dev_login"), {"method": "asan_signature", "demo_fin": citizen.fin})
    session = me.session
    session[SESSION_LAST_ACTIVITY] -= 700
    session.save()
    assert me.get(reverse("portal:claim_list")).status_code == 200
