"""The citizen's status pages: the lookup that answers next to the field, the outcome in plain
words, the “answer needed” banner, confirmations, and the branded error pages."""

import re

import pytest
from django.test import override_settings
from django.urls import reverse

from claims.outcome import outcome_sentences
from testkit.factories import CitizenFactory, ClaimFactory, StaffFactory

NOT_FOUND = "Bu nömrə ilə sizin müraciətiniz tapılmadı."


@pytest.mark.django_db
def test_the_lookup_answers_not_found_next_to_the_field_the_same_for_a_wrong_and_a_strangers_number(client):
    theirs = ClaimFactory()
    mine = ClaimFactory()
    client.force_login(mine.citizen)
    wrong = client.post(reverse("portal:claim_find"), {"number": "2026-9999999"})
    strangers = client.post(reverse("portal:claim_find"), {"number": theirs.number})
    for r in (wrong, strangers):
        body = r.content.decode()
        assert r.status_code == 404
        assert NOT_FOUND in body and 'aria-invalid="true"' in body and 'id="id_number-error"' in body
        assert theirs.number not in body.replace(f'value="{theirs.number}"', "")
    found = client.post(reverse("portal:claim_find"), {"number": mine.number.lower()})
    assert found.status_code == 302 and found.url == reverse("portal:claim_detail", args=[mine.number])


@pytest.mark.django_db
def test_the_list_is_cards_with_an_answer_needed_flag(client, django_assert_max_num_queries):
    waiting = ClaimFactory(awaiting_citizen=True)
    ClaimFactory(citizen=waiting.citizen)
    client.force_login(waiting.citizen)
    with django_assert_max_num_queries(8):
        body = client.get(reverse("portal:claim_list")).content.decode()
    assert body.count('<li class="claim-card') == 2
    assert "Sizdən cavab gözlənilir" in body


@pytest.mark.django_db
def test_an_information_request_shows_a_banner_and_answering_is_confirmed(client):
    claim = ClaimFactory(awaiting_citizen=True)
    client.force_login(claim.citizen)
    page = client.get(reverse("portal:claim_detail", args=[claim.number])).content.decode()
    assert 'class="notice notice-action"' in page and "Sizdən cavab gözlənilir" in page
    r = client.post(reverse("portal:claim_answer", args=[claim.number]), {"text": "Şəkil əlavə edildi."},
                    follow=True)
    body = r.content.decode()
    assert "Cavabınız göndərildi." in body and "notice-action" not in body


@pytest.mark.django_db
def test_the_outcome_of_a_refusal_is_in_plain_words_without_a_negative_amount(client):
    claim = ClaimFactory(closed_refused=True, language="en")
    client.force_login(claim.citizen)
    body = client.get(reverse("portal:claim_detail", args=[claim.number]), HTTP_ACCEPT_LANGUAGE="az").content.decode()
    assert "Borcunuza düzəliş edilmədi; faktura" in body and "olaraq qalır" in body
    panel = body.split('<h2 id="outcome-h">')[1].split("<a ")[0]
    assert "AZN" in panel and not re.search(r"-\s*\d", panel)


@pytest.mark.django_db
def test_a_lowered_debt_is_said_in_words():
    claim = ClaimFactory(closed_refused=True)
    claim.outcome, claim.corrected_amount = "corrected", -29
    claim.invoice_snapshot = {**claim.invoice_snapshot, "total": "38.00"}
    sentences = outcome_sentences(claim, balance=-20)
    assert sentences[0] == "Borcunuz 29,00 AZN azaldıldı; faktura 9,00 AZN oldu."
    assert sentences[1] == "Artıq ödənilən 20,00 AZN növbəti fakturada nəzərə alınacaq."
    assert not any("-" in s for s in sentences)


@pytest.mark.django_db
@override_settings(DEBUG=False)
def test_a_missing_page_is_branded_and_translated(client):
    client.force_login(CitizenFactory())
    r = client.get("/claims/NO-SUCH/", HTTP_ACCEPT_LANGUAGE="az")
    assert r.status_code == 404
    body = r.content.decode()
    assert "Səhifə tapılmadı" in body and 'class="site-header"' in body


@pytest.mark.django_db
@pytest.mark.parametrize(("handler", "status", "heading"), [
    ("permission_denied", 403, "Giriş qadağandır"),
    ("bad_request", 400, "Sorğu qəbul edilmədi"),
])
def test_refusals_are_branded_for_staff_too(rf, handler, status, heading):
    from django.core.exceptions import PermissionDenied
    from django.views import defaults

    request = rf.get("/office/")
    request.user = StaffFactory(operator=True)
    response = getattr(defaults, handler)(request, PermissionDenied())
    body = response.content.decode()
    assert response.status_code == status and heading in body and 'class="site-header"' in body
    assert "403 Forbidden" not in body


def test_the_server_error_page_needs_no_context(rf):
    from django.utils import translation
    from django.views import defaults

    with translation.override("en"):
        response = defaults.server_error(rf.get("/"))
    assert response.status_code == 500 and b"site-header" in response.content


@pytest.mark.django_db
@override_settings(DEBUG=False, DEV_LOGIN_ENABLED=False)
def test_without_sso_new_claim_explains_instead_of_not_found(client):
    r = client.get(reverse("portal:claim_new"), follow=True)
    body = r.content.decode()
    assert r.status_code == 503
    assert "Giriş hazırda mümkün deyil" in body and "Not Found" not in body
