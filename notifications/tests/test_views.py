import pytest
from django.urls import reverse

from notifications.models import Delivery, DeliveryStatus, Event, Medium

from .helpers import drive, make_delivery

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(client, operator):
    """The outbox is for staff only: the tests below look at it as the branch's operator."""
    client.force_login(operator)
    return client


def test_outbox_is_refused_to_anonymous_visitors_and_citizens(claim, citizen, django_user_model):
    from django.test import Client

    make_delivery(claim)
    anonymous = Client().get(reverse("notifications:outbox"))
    assert anonymous.status_code == 302 and "/office/login/" in anonymous["Location"]
    as_citizen = Client()
    as_citizen.force_login(citizen)
    response = as_citizen.get(reverse("notifications:outbox"))
    assert response.status_code == 302 and "/office/login/" in response["Location"]
    assert claim.phone not in response.content.decode()


def test_outbox_lists_every_delivery_newest_first(client, claim):
    older = make_delivery(claim, medium=Medium.EMAIL, recipient=claim.email, subject="Mövzu — ə", body="Mətn ş ğ")
    newer = make_delivery(claim, body="SMS mətni", segments=2)

    response = client.get(reverse("notifications:outbox"))

    assert response.status_code == 200
    html = response.content.decode()
    assert html.index(f'id="delivery-{newer.pk}"') < html.index(f'id="delivery-{older.pk}"')
    for text in (claim.number, claim.email, claim.phone, "Mövzu — ə", "Mətn ş ğ", "SMS mətni"):
        assert text in html


def test_outbox_shows_a_delivery_that_failed(client, claim, sms_gateway, settings):
    settings.DELIVERY_MAX_ATTEMPTS = 2
    sms_gateway.always = 503
    row = drive(make_delivery(claim).pk)
    assert row.status == DeliveryStatus.FAILED

    html = client.get(reverse("notifications:outbox")).content.decode()

    assert f'id="delivery-{row.pk}" data-status="failed"' in html
    assert "SMS gateway answered HTTP 503" in html
    assert str(DeliveryStatus.FAILED.label) in html


def test_outbox_is_paginated_by_50(client, claim, django_assert_max_num_queries):
    Delivery.objects.bulk_create([
        Delivery(claim=claim, event=Event.REGISTERED, medium=Medium.SMS, language="az", recipient=claim.phone,
                 body=f"message {i:03d}") for i in range(51)
    ])
    with django_assert_max_num_queries(8):
        first = client.get(reverse("notifications:outbox")).content.decode()
    assert first.count('<tr id="delivery-') == 50
    second = client.get(reverse("notifications:outbox"), {"page": 2}).content.decode()
    assert second.count('<tr id="delivery-') == 1


def test_outbox_is_not_found_without_the_development_login(client, claim, settings):
    make_delivery(claim)
    settings.DEV_LOGIN_ENABLED = False
    response = client.get(reverse("notifications:outbox"))
    assert response.status_code == 404
    assert claim.phone not in response.content.decode()
