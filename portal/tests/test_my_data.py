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


def test_the_review_page_shows_the_consent_in_force_and_the_earlier_claims_and_records_the_version_shown(
        client, citizen, account, operator):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from claims.models import ConsentText, ReasonTemplate
    from claims.services import claim_close_no_correction, claim_take
    from conftest import image_bytes
    from identity.services import SESSION_LOGIN_METHOD

    with time_machine.travel("2026-11-02T10:00:00+04:00", tick=False):
        earlier = register(citizen, account, key="earlier")
        claim_take(claim=earlier, actor=operator)
        claim_close_no_correction(claim=earlier, actor=operator, explanation="Göstərici düzgündür.")
    ConsentText.objects.create(version=2, language="az", text="Yeni razılıq mətni, versiya 2.",
                               purposes=["examine_claim"], published_at="2026-11-10T00:00:00Z")
    client.force_login(citizen)
    session = client.session
    session[SESSION_LOGIN_METHOD] = "sima_signature"
    session.save()
    with time_machine.travel("2026-11-16T10:00:00+04:00", tick=False):
        client.post(reverse("portal:claim_new"), {"action": "pick", "account": account.subscriber_code})
        client.post(reverse("portal:claim_invoice"), {"invoice": earlier.invoice_number})
        client.post(reverse("portal:claim_details"), {
            "reason": ReasonTemplate.objects.get(code="misread").pk, "reason_text": "", "phone": "050 123 45 67",
            "email": "resad@example.az", "comment": "", "reading_0": "1490",
            "photo_0": SimpleUploadedFile("sayğac.jpg", image_bytes("JPEG"), content_type="image/jpeg")})
        review = client.get(reverse("portal:claim_review")).content.decode()
        assert "Yeni razılıq mətni, versiya 2." in review
        assert earlier.number in review and "İmtina edilib" in review  # how the earlier claim ended
        # A version 3 published while the citizen reads: the claim records the version shown.
        ConsentText.objects.create(version=3, language="az", text="Versiya 3.", purposes=["examine_claim"],
                                   published_at="2026-11-15T00:00:00Z")
        r = client.post(reverse("portal:claim_review"), {"action": "confirm", "consent": "on",
                                                          "consent_version": "2"})
    assert r.status_code == 302
    record = ConsentRecord.objects.exclude(claim=earlier).get()
    assert (record.text.version, record.method, record.channel) == (2, "page", "azersu_web")
