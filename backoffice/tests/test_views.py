from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEntry
from billing.gateway import get_gateway
from claims.models import Claim, CorrectionProposal
from claims.transitions import ClaimStatus
from notifications.models import Delivery

from .conftest import staff


def act(client, claim, action, **data):
    return client.post(reverse("backoffice:claim_action", args=[claim.number, action]), data)


@pytest.mark.django_db
def test_citizen_and_anonymous_are_sent_to_the_staff_login(client, citizen, claim):
    url = reverse("backoffice:claim", args=[claim.number])
    assert reverse("backoffice:login") in client.get(url).url
    client.force_login(citizen)
    assert reverse("backoffice:login") in client.get(url).url
    assert reverse("backoffice:login") in client.get(reverse("backoffice:queue")).url


@pytest.mark.django_db
def test_staff_login_with_password_and_lockout_after_failures(client, operator, settings):
    url = reverse("backoffice:login")
    r = client.post(url, {"username": "op-yas-1", "password": "demo-pass-2026"})
    assert r.status_code == 302 and r.url == reverse("backoffice:queue")
    client.logout()
    for _ in range(settings.AXES_USERNAME_FAILURE_LIMIT):
        client.post(url, {"username": "op-yas-1", "password": "wrong"})
    r = client.post(url, {"username": "op-yas-1", "password": "demo-pass-2026"})
    assert "_auth_user_id" not in client.session
    assert "müvəqqəti bloklanıb" in r.content.decode()


@pytest.mark.django_db
def test_operator_of_another_branch_is_refused(client, claim, stranger):
    client.force_login(stranger)
    assert client.get(reverse("backoffice:claim", args=[claim.number])).status_code == 404
    assert act(client, claim, "take").status_code == 404
    ev = claim.evidence.get()
    assert client.get(reverse("backoffice:evidence_photo", args=[claim.number, ev.pk])).status_code == 404
    assert claim.number not in client.get(reverse("backoffice:queue")).content.decode()
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.FORWARDED


@pytest.mark.django_db
def test_queue_shows_own_and_unassigned_claims_most_urgent_first(client, claim, operator, branch,
                                                                account_two_meters, claim_factory):
    other_op = staff("op-yas-2", "operator", branch)
    second = claim_factory(account=account_two_meters)
    # second went to the least-loaded operator (op-yas-2); make the first overdue.
    Claim.objects.filter(pk=claim.pk).update(due_on=timezone.localdate() - timedelta(days=2))
    client.force_login(operator)
    body = client.get(reverse("backoffice:queue")).content.decode()
    assert claim.number in body and second.number not in body
    assert 'class="overdue"' in body
    client.force_login(other_op)
    body = client.get(reverse("backoffice:queue")).content.decode()
    assert second.number in body and claim.number not in body


@pytest.mark.django_db
def test_queue_filters(client, claim, operator):
    client.force_login(operator)
    assert claim.number in client.get(reverse("backoffice:queue"), {"status": "forwarded"}).content.decode()
    assert claim.number not in client.get(reverse("backoffice:queue"), {"status": "in_review"}).content.decode()
    assert claim.number not in client.get(reverse("backoffice:queue"), {"due": "overdue"}).content.decode()
    assert claim.number in client.get(reverse("backoffice:queue"), {"reason": "misread"}).content.decode()
    assert claim.number not in client.get(reverse("backoffice:queue"), {"reason": "other"}).content.decode()


@pytest.mark.django_db
def test_queue_query_count_does_not_grow_with_the_page(client, operator, branch, django_assert_max_num_queries):
    from claims.models import ReasonTemplate
    from conftest import make_citizen

    reason = ReasonTemplate.objects.first()
    citizen = make_citizen("9QWERT1")
    now = timezone.now()
    Claim.objects.bulk_create([
        Claim(number=f"BA-2026-9{i:05d}", citizen=citizen, status=ClaimStatus.IN_REVIEW, login_method="id_number",
              subscriber_code="1000000000", invoice_number=f"X{i}", branch=branch, reason=reason,
              phone="+994501234567", email="a@example.az", consent_at=now, registered_at=now,
              due_on=timezone.localdate() + timedelta(days=i % 20), operator=operator if i % 2 else None,
              submission_key=f"q{i}")
        for i in range(120)
    ])
    client.force_login(operator)
    with django_assert_max_num_queries(10):
        r = client.get(reverse("backoffice:queue"))
    assert r.status_code == 200 and r.content.decode().count("/office/claims/BA-2026-9") == 50


@pytest.mark.django_db
def test_claim_page_shows_hints_history_and_records_the_view(client, claim, operator):
    client.force_login(operator)
    body = client.get(reverse("backoffice:claim", args=[claim.number])).content.decode()
    ev = claim.evidence.get()
    assert f"fakturadakı göstərici {ev.billed_reading} müraciət günündəki göstəricidən {ev.declared_reading}" in body
    assert "Göstəricilərin tarixçəsi" in body and "<svg" in body
    assert claim.citizen.fin in body and claim.phone in body
    assert AuditEntry.objects.filter(claim=claim, action="claim_viewed", actor=operator).exists()
    assert "claim_registered" in body  # the audit entries are shown


@pytest.mark.django_db
def test_take_moves_to_review(client, claim, operator):
    client.force_login(operator)
    act(client, claim, "take")
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.IN_REVIEW and claim.operator == operator


@pytest.mark.django_db
def test_request_info_pauses_and_the_citizen_answers(client, claim_in_review, operator, citizen):
    claim = claim_in_review
    client.force_login(operator)
    r = act(client, claim, "info", text="Sayğacın yaxından çəkilmiş şəklini göndərin.")
    assert r.status_code == 302
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.AWAITING_CITIZEN
    sms = Delivery.objects.get(claim=claim, event="info_requested", medium="sms")
    assert claim.number in sms.body
    client.force_login(citizen)
    page = client.get(reverse("portal:claim_detail", args=[claim.number])).content.decode()
    assert "Sayğacın yaxından çəkilmiş şəklini göndərin." in page
    r = client.post(reverse("portal:claim_answer", args=[claim.number]), {"text": ""})
    assert r.status_code == 400 and "Cavabı yazın və ya şəkil yükləyin" in r.content.decode()
    from django.core.files.uploadedfile import SimpleUploadedFile

    from conftest import image_bytes
    r = client.post(reverse("portal:claim_answer", args=[claim.number]),
                    {"text": "Əlavə etdim", "photo": SimpleUploadedFile("yeni.jpg", image_bytes(), "image/jpeg")})
    assert r.status_code == 302
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.IN_REVIEW
    assert claim.info_requests.get().answer_photo


@pytest.mark.django_db
def test_another_citizen_cannot_answer(client, claim_in_review, operator, other_citizen):
    client.force_login(operator)
    act(client, claim_in_review, "info", text="?")
    client.force_login(other_citizen)
    r = client.post(reverse("portal:claim_answer", args=[claim_in_review.number]), {"text": "x"})
    assert r.status_code == 404
    claim_in_review.refresh_from_db()
    assert claim_in_review.status == ClaimStatus.AWAITING_CITIZEN


@pytest.mark.django_db
def test_empty_texts_are_refused_next_to_the_field(client, claim_in_review, operator):
    client.force_login(operator)
    for action in ("info", "close", "extend"):
        r = act(client, claim_in_review, action, text="")
        assert r.status_code == 400 and "Mətni yazın." in r.content.decode()
    claim_in_review.refresh_from_db()
    assert claim_in_review.status == ClaimStatus.IN_REVIEW and claim_in_review.working_days == 15


@pytest.mark.django_db
def test_correction_preview_and_proposal(client, claim_in_review, operator):
    claim = claim_in_review
    ev = claim.evidence.get()
    client.force_login(operator)
    r = act(client, claim, "preview", reading_0=str(ev.declared_reading), note="")
    body = r.content.decode()
    assert r.status_code == 200 and "Yenidən hesablanmış məbləğ" in body
    old = Decimal(claim.invoice_snapshot["total"])
    # 200 m³ less at 0.70 + 0.30 AZN: 200.00 AZN less.
    new = f"{old - Decimal('200.00'):.2f}".replace(".", ",")  # Azerbaijani decimal comma
    assert f"{new} AZN" in body and "-200,00 AZN" in body
    assert not CorrectionProposal.objects.exists()
    r = act(client, claim, "propose", reading_0=str(ev.declared_reading), note="Sayğac artıq oxunub")
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.AT_COMMISSION
    p = CorrectionProposal.objects.get()
    assert p.old_amount - p.new_amount == Decimal("200.00") and p.proposed_by == operator


@pytest.mark.django_db
def test_reading_below_previous_is_refused(client, claim_in_review, operator):
    client.force_login(operator)
    act(client, claim_in_review, "propose", reading_0="0", note="x")
    claim_in_review.refresh_from_db()
    assert claim_in_review.status == ClaimStatus.IN_REVIEW
    assert not CorrectionProposal.objects.exists()


@pytest.mark.django_db
def test_close_without_correction_tells_the_citizen(client, claim_in_review, operator, citizen):
    client.force_login(operator)
    act(client, claim_in_review, "close", text="Göstərici düzgün oxunub; şəkildəki rəqəm fakturaya uyğundur.")
    claim = Claim.objects.get(pk=claim_in_review.pk)
    assert claim.status == ClaimStatus.CLOSED and claim.outcome == "refused"
    email = Delivery.objects.get(claim=claim, event="closed_refused", medium="email")
    assert "şəkildəki rəqəm fakturaya uyğundur" in email.body
    client.force_login(citizen)
    page = client.get(reverse("portal:claim_detail", args=[claim.number])).content.decode()
    assert "şəkildəki rəqəm fakturaya uyğundur" in page and "Başa çatıb" in page


@pytest.mark.django_db
def test_extension_to_thirty_working_days(client, claim_in_review, operator):
    before = claim_in_review.due_on
    client.force_login(operator)
    act(client, claim_in_review, "extend", text="Yerində yoxlama tələb olunur")
    claim = Claim.objects.get(pk=claim_in_review.pk)
    assert claim.working_days == 30 and claim.due_on > before
    assert Delivery.objects.filter(claim=claim, event="deadline_extended").count() == 2


@pytest.mark.django_db
def test_only_a_manager_reassigns(client, claim, operator, manager, branch):
    other = staff("op-yas-2", "operator", branch)
    client.force_login(operator)
    assert act(client, claim, "reassign", operator=other.pk).status_code == 403
    client.force_login(manager)
    act(client, claim, "reassign", operator=other.pk)
    claim.refresh_from_db()
    assert claim.operator == other


@pytest.mark.django_db
def test_manager_of_another_branch_is_refused(client, claim, other_branch):
    mgr = staff("mgr-gnc", "branch_manager", other_branch)
    client.force_login(mgr)
    assert act(client, claim, "reassign", operator=1).status_code == 404


@pytest.mark.django_db
def test_withdraw_by_the_citizen(client, claim, citizen, other_citizen):
    client.force_login(other_citizen)
    assert client.post(reverse("portal:claim_withdraw", args=[claim.number])).status_code == 404
    client.force_login(citizen)
    client.post(reverse("portal:claim_withdraw", args=[claim.number]))
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.WITHDRAWN
    assert Delivery.objects.filter(claim=claim, event="withdrawn").count() == 2


@pytest.mark.django_db
def test_administrator_sees_every_branch(client, claim, admin_user):
    client.force_login(admin_user)
    assert client.get(reverse("backoffice:claim", args=[claim.number])).status_code == 200


@pytest.mark.django_db
def test_balance_unchanged_by_a_refusal(client, claim_in_review, operator):
    gw = get_gateway()
    before = gw.balance(claim_in_review.subscriber_code)
    client.force_login(operator)
    act(client, claim_in_review, "close", text="Əsas yoxdur")
    assert gw.balance(claim_in_review.subscriber_code) == before
