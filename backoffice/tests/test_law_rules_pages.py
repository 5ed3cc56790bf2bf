"""The back office's pages for the law's remaining rules: forwarding outside competence, leaving a
repeat appeal unconsidered, the date asked for in an information request, the 3-day deadline
in the queue."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.urls import reverse

from claims.models import Claim, CompetentBody, InfoRequest, Referral
from claims.services import claim_close_no_correction, claim_take
from claims.transitions import ClaimStatus
from testkit.factories import register

pytestmark = pytest.mark.django_db
FRIDAY = "2026-11-06T10:00:00+04:00"  # before the November holidays


@pytest.fixture
def body(db):
    return CompetentBody.objects.create(name="“Azəristiliktəchizat” ASC", address="Bakı", email="info@istilik.az")


def act(client, claim, action, **data):
    return client.post(reverse("backoffice:claim_action", args=[claim.number, action]), data)


def test_the_queue_shows_the_three_day_deadline_across_the_holidays(client, claim_factory, operator):
    with time_machine.travel(FRIDAY, tick=False):
        claim = claim_factory()
        client.force_login(operator)
        page = client.get(reverse("backoffice:queue")).content.decode()
    assert claim.number in page and "aidiyyət üzrə göndərmə: 13.11.2026" in page


def test_an_operator_forwards_a_claim_to_the_body_picked_from_the_list(client, claim_factory, operator, body):
    with time_machine.travel(FRIDAY, tick=False):
        claim = claim_factory()
        client.force_login(operator)
        page = client.get(reverse("backoffice:claim", args=[claim.number])).content.decode()
        assert "Azəristiliktəchizat" in page and "13.11.2026" in page
        r = act(client, claim, "forward_out", body="", note="")
        assert r.status_code == 400 and "Səlahiyyətli qurumu siyahıdan seçin." in r.content.decode()
        r = act(client, claim, "forward_out", body=str(body.pk), note="İstilik haqqı ilə bağlıdır.")
    assert r.status_code == 302
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.CLOSED and claim.competent_body == body
    assert Referral.objects.filter(claim=claim, recipient="info@istilik.az").exists()


def test_an_operator_of_another_branch_is_refused(client, claim_factory, staff_factory, other_branch, body):
    with time_machine.travel(FRIDAY, tick=False):
        claim = claim_factory()
        client.force_login(staff_factory(operator=True, branch=other_branch))
        r = act(client, claim, "forward_out", body=str(body.pk), note="Aid deyil.")
    assert r.status_code == 404
    assert Claim.objects.get(pk=claim.pk).status == ClaimStatus.FORWARDED


def test_the_repeat_appeal_form_is_offered_only_after_three_answers(client, citizen, account, operator):
    for i, day in enumerate(("2026-02-02", "2026-05-04", "2026-09-01")):
        with time_machine.travel(f"{day}T10:00:00+04:00", tick=False):
            c = register(citizen, account, key=f"p-{i}")
            if i < 2:
                claim_take(claim=c, actor=operator)
                claim_close_no_correction(claim=c, actor=operator, explanation="Göstərici düzgündür.")
            else:
                third = c
    client.force_login(operator)
    with time_machine.travel("2026-09-01T12:00:00+04:00", tick=False):
        page = client.get(reverse("backoffice:claim", args=[third.number])).content.decode()
        assert "Təkrar müraciəti baxılmadan saxla" not in page and "2 əsaslandırılmış cavab" in page
        claim_take(claim=third, actor=operator)
        claim_close_no_correction(claim=third, actor=operator, explanation="Göstərici düzgündür.")
    with time_machine.travel(FRIDAY, tick=False):
        fourth = register(citizen, account, key="p-4")
        page = client.get(reverse("backoffice:claim", args=[fourth.number])).content.decode()
        assert "Təkrar müraciəti baxılmadan saxla" in page and "13.11.2026" in page  # 5 working days
        r = act(client, fourth, "unconsidered", reason="Üç dəfə cavab verilib.")
        assert r.status_code == 400 and "yeni hal göstərilmədiyini təsdiq edin" in r.content.decode()
        r = act(client, fourth, "unconsidered", reason="Üç dəfə cavab verilib.", nothing_new="on")
    assert r.status_code == 302
    assert Claim.objects.get(pk=fourth.pk).outcome == "unconsidered"


def test_the_operator_sets_the_date_to_answer_by_within_the_cap(client, claim_factory, operator):
    with time_machine.travel(FRIDAY, tick=False):
        claim = claim_factory(in_review=True)
        client.force_login(operator)
        r = act(client, claim, "info", text="Şəkil göndərin.", reply_by="2027-06-01")
        assert r.status_code == 400
        page = r.content.decode()
        assert 'id="id_info_reply_by_error"' in page
        assert "tarixindən gec ola bilməz" in page and "Şəkil göndərin." in page  # next to the field, text kept
        assert not InfoRequest.objects.filter(claim=claim).exists()
        act(client, claim, "info", text="Şəkil göndərin.", reply_by="2026-11-20")
    assert InfoRequest.objects.get(claim=claim).reply_by == date(2026, 11, 20)
