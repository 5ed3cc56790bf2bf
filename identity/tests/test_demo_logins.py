"""`make run`'s closing summary (manage.py demo_logins): every role's login and the staff login
address, and the address e-mail links point at when it is not the one served."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.utils import translation

from identity.models import Role
from testkit.factories import StaffFactory, default_branch


def _summary(port: str = "8123") -> str:
    out = io.StringIO()
    call_command("demo_logins", "--port", port, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_every_role_is_listed_with_a_login_and_staff_are_sent_to_the_office_login(settings):
    settings.ORGANISATION = settings.ORGANISATION | {"portal_url": "http://127.0.0.1:8123"}
    branch = default_branch()
    users = {role: StaffFactory(role=role, branch=branch, username=f"demo-{role.value}") for role in Role}
    text = _summary()
    assert "http://127.0.0.1:8123/office/login/" in text
    for role, user in users.items():
        line = next(ln for ln in text.splitlines() if user.username in ln)
        with translation.override("en"):  # the summary is in English, the role names too
            assert str(role.label) in line
        assert ("authenticator code" in line) == (role.value in settings.STAFF_OTP_REQUIRED_ROLES)
    assert "PORTAL_URL" not in text  # links and the server agree


@pytest.mark.django_db
def test_a_role_without_anybody_is_said_and_a_different_portal_url_is_named(settings):
    settings.ORGANISATION = settings.ORGANISATION | {"portal_url": "http://127.0.0.1:8000"}
    StaffFactory(role=Role.OPERATOR, branch=default_branch(), username="demo-op")
    text = _summary("8123")
    assert "Field inspector" in text and "(none in the demo data)" in text
    assert "Links in e-mails and SMS point at PORTAL_URL=http://127.0.0.1:8000." in text
