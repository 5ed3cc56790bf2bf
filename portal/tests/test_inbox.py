import pytest
from django.urls import reverse

from testkit.factories import register


@pytest.mark.django_db
def test_inbox_shows_every_message_and_claim_of_the_citizen_only(client, citizen, other_citizen, account,
                                                                 foreign_account, operator, jpeg_upload):
    mine = register(citizen, account, key="mine")
    theirs = register(other_citizen, foreign_account, key="theirs")
    client.force_login(citizen)
    body = client.get(reverse("portal:inbox")).content.decode()
    assert mine.number in body and theirs.number not in body
    assert "Müraciətiniz qeydiyyata alındı. Xidmətimizdən istifadə etdiyiniz üçün sizə təşəkkür edirik." in body
    assert mine.phone in body and mine.email in body
    assert body.count('class="card"') == 4  # registered and forwarded, by e-mail and SMS


@pytest.mark.django_db
def test_inbox_needs_login(client):
    assert reverse("identity:login") in client.get(reverse("portal:inbox")).url
