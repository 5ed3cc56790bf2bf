"""Second factor of staff logins (TOTP): required for commission members, managers and
administrators, offered to every staff member; codes are checked, throttled and accepted once."""

from __future__ import annotations

import base64
import re

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.models import AuditEntry
from identity.demo import demo_totp_key, demo_totp_token, ensure_demo_second_factor

pytestmark = pytest.mark.django_db
REQUIRED = ["commission_member", "branch_manager", "administrator"]


@pytest.fixture(autouse=True)
def _policy(settings):
    settings.STAFF_OTP_REQUIRED_ROLES = REQUIRED


def password_login(client: Client, username: str):
    return client.post(reverse("backoffice:login"), {"username": username, "password": "demo-pass-2026"},
                       follow=True)


def test_a_manager_without_an_authenticator_must_set_one_up_before_any_staff_page(client, manager):
    page = password_login(client, manager.username)
    assert page.redirect_chain[-1][0].startswith(reverse("backoffice:otp_setup"))
    html = page.content.decode()
    secret = re.search(r"data-otp-secret>([A-Z2-7 ]+)<", html)[1].replace(" ", "")
    assert "<svg" in html  # the QR code
    assert client.get(reverse("backoffice:queue")).status_code == 302  # still gated

    wrong = client.post(reverse("backoffice:otp_setup"), {"otp_token": "000000", "next": "/office/"})
    assert wrong.status_code == 400 and "Kod düzgün deyil" in wrong.content.decode()
    assert not TOTPDevice.objects.filter(user=manager, confirmed=True).exists()

    code = f"{totp(base64.b32decode(secret)):06d}"
    done = client.post(reverse("backoffice:otp_setup"), {"otp_token": code, "next": "/office/"})
    assert done.status_code == 302 and done["Location"] == "/office/"
    assert client.get(reverse("backoffice:queue")).status_code == 200
    assert TOTPDevice.objects.filter(user=manager, confirmed=True).count() == 1
    assert AuditEntry.objects.filter(actor=manager, action="second_factor_enrolled").exists()


def test_an_enrolled_member_enters_the_code_after_the_password(client, member):
    ensure_demo_second_factor([member])
    page = password_login(client, member.username)
    assert page.redirect_chain[-1][0].startswith(reverse("backoffice:otp_verify"))
    assert client.get(reverse("commission:agenda")).status_code == 302

    wrong = client.post(reverse("backoffice:otp_verify"), {"otp_token": "123456", "next": "/office/commission/"})
    assert wrong.status_code == 400
    assert AuditEntry.objects.filter(actor=member, action="second_factor_failed").count() == 1

    right = client.post(reverse("backoffice:otp_verify"),
                        {"otp_token": demo_totp_token(), "next": "/office/commission/"})
    # The throttle after a failure may hold the right code back for a second.
    if right.status_code == 400:
        TOTPDevice.objects.filter(user=member).update(throttling_failure_count=0, throttling_failure_timestamp=None)
        right = client.post(reverse("backoffice:otp_verify"),
                            {"otp_token": demo_totp_token(), "next": "/office/commission/"})
    assert right.status_code == 302 and right["Location"] == "/office/commission/"
    assert client.get(reverse("commission:agenda")).status_code == 200


def test_a_code_is_accepted_once(member):
    ensure_demo_second_factor([member])
    first, second = Client(), Client()
    password_login(first, member.username)
    password_login(second, member.username)
    code = demo_totp_token()
    assert first.post(reverse("backoffice:otp_verify"), {"otp_token": code}).status_code == 302
    assert second.post(reverse("backoffice:otp_verify"), {"otp_token": code}).status_code == 400


def test_another_users_code_does_not_verify(client, member, manager):
    ensure_demo_second_factor([member])
    TOTPDevice.objects.create(user=manager, name="other", key="00" * 20, confirmed=True)
    password_login(client, manager.username)
    response = client.post(reverse("backoffice:otp_verify"), {"otp_token": demo_totp_token()})
    assert response.status_code == 400
    assert client.get(reverse("backoffice:queue")).status_code == 302


def test_an_operator_is_not_asked_but_may_enrol(client, operator):
    page = password_login(client, operator.username)
    assert page.redirect_chain[-1][0] == reverse("backoffice:queue") and page.status_code == 200
    assert "İki mərhələli giriş" in page.content.decode()  # offered in the staff menu
    assert client.get(reverse("backoffice:otp_setup")).status_code == 200
    TOTPDevice.objects.filter(user=operator).update(key=demo_totp_key())
    assert client.post(reverse("backoffice:otp_setup"), {"otp_token": demo_totp_token()}).status_code == 302
    # From now on the operator is asked too.
    again = Client()
    assert password_login(again, operator.username).redirect_chain[-1][0].startswith(reverse("backoffice:otp_verify"))


def test_citizens_cannot_enrol(client, citizen):
    client.force_login(citizen)
    response = client.get(reverse("backoffice:otp_setup"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("backoffice:login"))
    assert not TOTPDevice.objects.exists()


def test_the_admin_site_needs_the_second_factor(client, admin_user):
    client.force_login(admin_user)
    response = client.get("/admin/", follow=True)
    assert response.redirect_chain[-1][0].startswith(reverse("backoffice:otp_setup"))  # enrol first
    ensure_demo_second_factor([admin_user])
    client.post(reverse("backoffice:otp_verify"), {"otp_token": demo_totp_token()})
    assert client.get("/admin/").status_code == 200

