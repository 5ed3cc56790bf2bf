"""“Mənim məlumatlarım”: the citizen sees and downloads what is held about them, and withdraws a
consent; nobody sees or withdraws anybody else's."""

from __future__ import annotations

import json

import pytest
import time_machine
from django.urls import reverse

from claims.models import Claim, ConsentRecord
from testkit.factories import account_for, register

pytestmark = pytest.mark.django_db


@pytest.fixture
def filed(citizen, branch):
    with time_machine.travel("2026-11-16T10:00:00+04:00", tick=False):
        return [register(citizen, account_for(citizen, branch), key=f"md-{i}") for i in range(3)]


def test_the_page_lists_claims_contacts_consents_and_notifications_in_a_few_queries(
        client, citizen, filed, django_assert_max_num_queries):
    client.force_login(citizen)
    with django_assert_max_num_queries(16):
        page = client.get(reverse("portal:my_data")).content.decode()
    for claim in filed:
        assert claim.number in page
    assert "+994501234567" in page and "resad@example.az" in page
    assert "versiya 1 (az)" in page and "portalın səhifəsində" in page
    assert page.count("üzrə razılığı geri götür<") == 3  # one button per claim
    assert "Müraciət qeydiyyata alındı" in page  # a notification's event


def test_the_downloads_hold_the_citizens_data_and_nobody_elses(client, citizen, other_citizen, branch, filed):
    with time_machine.travel("2026-11-16T10:00:00+04:00", tick=False):
        foreign = register(other_citizen, account_for(other_citizen, branch), key="foreign")
    client.force_login(citizen)
    response = client.get(reverse("portal:my_data_json"))
    assert response["Content-Disposition"].startswith("attachment")
    data = json.loads(response.content)
    assert data["person"]["fin"] == citizen.fin
    assert sorted(c["number"] for c in data["claims"]) == sorted(c.number for c in filed)
    assert foreign.number not in response.content.decode()
    assert {c["method"] for c in data["consents"]} == {"page"} and data["consents"][0]["version"] == 1
    assert all(n["claim"] in {c.number for c in filed} for n in data["notifications"])
    pdf = client.get(reverse("portal:my_data_pdf"))
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")


def test_withdrawing_a_consent_withdraws_the_open_claim_and_a_stranger_is_refused(
        client, citizen, other_citizen, filed):
    record = ConsentRecord.objects.get(claim=filed[0])
    client.force_login(other_citizen)
    assert client.post(reverse("portal:consent_withdraw", args=[record.pk])).status_code == 404
    record.refresh_from_db()
    assert record.withdrawn_at is None
    client.force_login(citizen)
    response = client.post(reverse("portal:consent_withdraw", args=[record.pk]), follow=True)
    assert "razılığınız geri götürüldü" in response.content.decode()
    record.refresh_from_db()
    assert record.withdrawn_at is not None
    assert Claim.objects.get(pk=filed[0].pk).status == "withdrawn"
    assert Claim.objects.get(pk=filed[1].pk).status == "forwarded"


def test_only_a_logged_in_citizen_sees_the_page(client):
    response = client.get(reverse("portal:my_data"))
    assert response.status_code == 302
