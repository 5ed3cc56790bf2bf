"""Filing, answering and withdrawing through the API: what is accepted, what is refused, and that
a refusal writes nothing."""

from __future__ import annotations

import importlib
from decimal import Decimal

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from api.models import ApiIdempotencyKey
from claims.models import Claim, ClaimMeterEvidence
from claims.services import claim_propose_correction, claim_request_info, claim_take

from .conftest import Api, claim_form, drive_webhooks

pytestmark = pytest.mark.usefixtures("default_templates")


def _photos(account, jpeg_upload):
    return {m.serial_number: jpeg_upload() for m in account.meters.all()}


def _errors(response) -> dict:
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["type"].endswith("/validation-error")
    assert body["status"] == 400
    return {e["field"]: e["message"] for e in body["errors"]}


def _nothing_written() -> None:
    assert not Claim.objects.exists()
    assert not ClaimMeterEvidence.objects.exists()
    assert not ApiIdempotencyKey.objects.exists()


def test_the_idempotency_key_is_required(egov, citizen, account, jpeg_upload):
    response = Api(egov, citizen.fin).post("/claims/", claim_form(account, photos=_photos(account, jpeg_upload)),
                                           headers={"Accept-Language": "en"})
    assert _errors(response) == {"Idempotency-Key": "Required: 1 to 64 characters of A-Z a-z 0-9 . _ : - (a UUID "
                                                    "is best)."}
    _nothing_written()


def test_field_errors_are_listed_by_field(egov, citizen, account_two_meters, jpeg_upload):
    account = account_two_meters
    serials = sorted(m.serial_number for m in account.meters.all())
    form = claim_form(account, photos=_photos(account, jpeg_upload), phone="12345", email="not-an-email",
                      consent="false", reason="no-such-reason")
    form[f"reading[{serials[0]}]"] = "fourteen"
    del form[f"photo[{serials[1]}]"]
    form["reading[SM-UNKNOWN]"] = "10"
    errors = _errors(Api(egov, citizen.fin).post("/claims/", form, headers={"Idempotency-Key": "k"}))
    assert set(errors) == {"phone", "email", "consent", "reason", f"reading[{serials[0]}]"}
    assert errors["phone"].startswith("Mobil nömrəni düzgün yazın")
    assert errors["consent"] == "Müraciəti göndərmək üçün şəxsi məlumatların emalına razılıq verin."
    assert errors[f"reading[{serials[0]}]"] == "Göstəricini tam ədədlə yazın, məsələn 1490."
    _nothing_written()

    # Well-formed but not matching the invoice: each meter needs its reading and photo, no others.
    form = claim_form(account, photos=_photos(account, jpeg_upload))
    del form[f"photo[{serials[1]}]"]
    form["reading[SM-UNKNOWN]"] = "10"
    errors = _errors(Api(egov, citizen.fin).post("/claims/", form, headers={"Idempotency-Key": "k"}))
    assert errors == {f"photo[{serials[1]}]": "Göstəricinin göründüyü sayğacın şəklini yükləyin.",
                      "reading[SM-UNKNOWN]": "Bu sayğac fakturada yoxdur."}
    _nothing_written()


def test_an_unknown_account_an_old_invoice_and_a_missing_reason_text_are_refused(egov, citizen, account, jpeg_upload):
    api = Api(egov, citizen.fin)
    errors = _errors(api.post("/claims/", claim_form(account, photos=_photos(account, jpeg_upload),
                                                     subscriber_code="9999999999"), headers={"Idempotency-Key": "a"}))
    assert set(errors) == {"subscriber_code"}
    old = account.invoices.order_by("period").first()
    errors = _errors(api.post("/claims/", claim_form(account, old.number, photos=_photos(account, jpeg_upload)),
                              headers={"Idempotency-Key": "b"}))
    assert set(errors) == {"invoice_number"}
    errors = _errors(api.post("/claims/", claim_form(account, photos=_photos(account, jpeg_upload), reason="other"),
                              headers={"Idempotency-Key": "c"}))
    assert errors == {"reason_text": "“Digər” səbəbini qısa yazın."}
    _nothing_written()


def test_a_file_that_is_not_a_photo_is_refused_and_nothing_is_kept(egov, citizen, account, settings):
    serial = account.meters.get().serial_number
    fake = SimpleUploadedFile("sayğac.jpg", b"MZ\x90\x00 this is not an image", content_type="image/jpeg")
    form = claim_form(account, photos={serial: fake})
    errors = _errors(Api(egov, citizen.fin).post("/claims/", form, headers={"Idempotency-Key": "k"}))
    assert set(errors) == {f"photo[{serial}]"}
    _nothing_written()
    drafts = settings.MEDIA_ROOT / "drafts"
    assert not drafts.exists() or not any(p.is_file() for p in drafts.rglob("*"))


def test_the_claim_records_the_login_method_and_the_photos_lose_their_metadata(egov, citizen, account, jpeg_upload,
                                                                               settings):
    api = Api(egov, None)
    api.fin = citizen.fin
    headers = egov.headers(citizen.fin, login_method="asan_signature") | {"Idempotency-Key": "k"}
    response = api.client.post("/api/v1/claims/", claim_form(account, photos=_photos(account, jpeg_upload)),
                               headers=headers)
    assert response.status_code == 201, response.content
    claim = Claim.objects.get()
    assert claim.login_method == "asan_signature" and response.json()["login_method"] == "asan_signature"
    evidence = claim.evidence.get()
    assert b"PhoneMaker" not in evidence.photo.read()
    drafts = settings.MEDIA_ROOT / "drafts"
    assert not drafts.exists() or not any(p.is_file() for p in drafts.rglob("*"))


def test_an_invoice_with_an_open_claim_is_a_409_with_its_number(egov, citizen, account, jpeg_upload):
    api = Api(egov, citizen.fin)
    first = api.post("/claims/", claim_form(account, photos=_photos(account, jpeg_upload)),
                     headers={"Idempotency-Key": "first"})
    second = api.post("/claims/", claim_form(account, photos=_photos(account, jpeg_upload)),
                      headers={"Idempotency-Key": "second"})
    assert second.status_code == 409
    assert second["Content-Type"] == "application/problem+json"
    body = second.json()
    assert body["type"].endswith("/open-claim-exists")
    assert body["claim_number"] == first.json()["number"]
    assert first.json()["number"] in body["detail"]
    assert Claim.objects.count() == 1


def test_a_key_reused_for_a_different_request_is_refused(egov, citizen, account, jpeg_upload):
    api = Api(egov, citizen.fin)
    first = api.post("/claims/", claim_form(account, photos=_photos(account, jpeg_upload)),
                     headers={"Idempotency-Key": "same"})
    other = api.post("/claims/", claim_form(account, photos=_photos(account, jpeg_upload), comment="başqa"),
                     headers={"Idempotency-Key": "same"})
    assert other.status_code == 422
    assert other.json()["type"].endswith("/idempotency-key-reused")
    assert other.json()["claim_number"] == first.json()["number"]


def test_two_citizens_may_use_the_same_key(egov, citizen, other_citizen, account, foreign_account, jpeg_upload):
    mine = Api(egov, citizen.fin).post("/claims/", claim_form(account, photos=_photos(account, jpeg_upload)),
                                       headers={"Idempotency-Key": "shared"})
    theirs = Api(egov, other_citizen.fin).post(
        "/claims/", claim_form(foreign_account, photos=_photos(foreign_account, jpeg_upload)),
        headers={"Idempotency-Key": "shared"})
    assert mine.status_code == theirs.status_code == 201
    assert mine.json()["number"] != theirs.json()["number"]


def test_json_cannot_file_a_claim(egov, citizen, account):
    response = Api(egov, citizen.fin).post("/claims/", {"subscriber_code": account.subscriber_code},
                                           content_type="application/json", headers={"Idempotency-Key": "k"})
    assert response.status_code == 415
    assert response.json()["type"].endswith("/unsupported-media-type")


def test_the_citizen_answers_an_information_request_through_the_channel(egov, citizen, account, operator,
                                                                        jpeg_upload):
    api = Api(egov, citizen.fin)
    number = api.post("/claims/", claim_form(account, photos=_photos(account, jpeg_upload)),
                      headers={"Idempotency-Key": "k"}).json()["number"]
    claim = Claim.objects.get(number=number)
    claim = claim_take(claim=claim, actor=operator)
    claim_request_info(claim=claim, actor=operator, question="Sayğacın plombunun şəklini göndərin.")

    body = api.get(f"/claims/{number}/").json()
    assert body["status"] == "awaiting_citizen"
    assert body["pending_request"]["question"] == "Sayğacın plombunun şəklini göndərin."

    empty = api.post(f"/claims/{number}/answer/", {"text": ""})
    assert _errors(empty) == {"text": "Cavabı yazın və ya şəkil yükləyin."}
    answered = api.post(f"/claims/{number}/answer/", {"text": "Şəkil əlavə olunub.", "photo": jpeg_upload("plomb.jpg")})
    assert answered.status_code == 200, answered.content
    assert answered.json()["status"] == "in_review" and answered.json()["pending_request"] is None
    request = claim.info_requests.get()
    assert request.answer_text == "Şəkil əlavə olunub." and request.answer_photo_content_type == "image/jpeg"

    again = api.post(f"/claims/{number}/answer/", {"text": "Bir daha"})
    assert again.status_code == 409 and again.json()["type"].endswith("/invalid-state")


def test_the_citizen_withdraws_a_claim_once(egov, citizen, account, jpeg_upload):
    api = Api(egov, citizen.fin)
    number = api.post("/claims/", claim_form(account, photos=_photos(account, jpeg_upload)),
                      headers={"Idempotency-Key": "k"}).json()["number"]
    withdrawn = api.post(f"/claims/{number}/withdraw/")
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"
    assert withdrawn.json()["closed_at"] is not None
    again = api.post(f"/claims/{number}/withdraw/")
    assert again.status_code == 409 and again.json()["type"].endswith("/invalid-state")
    # The invoice is free again: a new claim may be filed on it.
    refiled = api.post("/claims/", claim_form(account, photos=_photos(account, jpeg_upload)),
                       headers={"Idempotency-Key": "k2"})
    assert refiled.status_code == 201


def test_a_correction_decided_by_the_commission_shows_its_amount_and_letter(
    egov, citizen, account, operator, jpeg_upload, django_capture_on_commit_callbacks, webhook_endpoint,
):
    from billing.models import Tariff
    from commission.services import agenda_add, decision_approve, meeting_open
    from identity.models import Role, StaffAssignment, User
    from testkit.factories import deliver_posting

    if not Tariff.objects.exists():
        importlib.import_module("billing.migrations.0002_tariffs").seed_tariffs(apps, None)
    secretary = User.objects.create_user(username="katib", password="x-pass-2026")
    StaffAssignment.objects.create(user=secretary, role=Role.COMMISSION_SECRETARY)
    member = User.objects.create_user(username="uzv", password="x-pass-2026")
    StaffAssignment.objects.create(user=member, role=Role.COMMISSION_MEMBER)

    egov.channel.webhook_url = webhook_endpoint.url
    egov.channel.save()
    api = Api(egov, citizen.fin)
    filed = api.post("/claims/", claim_form(account, photos=_photos(account, jpeg_upload)),
                     headers={"Idempotency-Key": "k"}).json()
    claim = claim_take(claim=Claim.objects.get(number=filed["number"]), actor=operator)
    line = claim.invoice_snapshot["lines"][0]
    claim_propose_correction(claim=claim, actor=operator,
                             readings={line["meter_serial"]: line["current_reading"] - 200},
                             note="Göstərici səhv oxunub.")
    meeting = meeting_open(actor=secretary, held_on=timezone.localdate(), protocol_number="P-1", members=[member])
    item = agenda_add(meeting=meeting, actor=secretary, claim=claim)
    with django_capture_on_commit_callbacks(execute=True):
        decision_approve(item=item, actor=member)
    # Approved: the claim waits for billing to confirm the correction, then closes.
    assert api.get(f"/claims/{filed['number']}/").json()["status"] == "posting"
    with django_capture_on_commit_callbacks(execute=True):
        deliver_posting(item)

    body = api.get(f"/claims/{filed['number']}/").json()
    assert body["status"] == "closed" and body["outcome"] == "corrected"
    item.refresh_from_db()
    assert Decimal(body["corrected_amount"]) == item.amount
    assert body["corrected_amount"] == f"{item.amount:.2f}"
    assert body["letter_url"] == f"http://testserver/api/v1/claims/{filed['number']}/letter/"
    letter = api.get(f"/claims/{filed['number']}/letter/", headers={"Accept": "application/pdf"})
    assert letter.status_code == 200 and letter["Content-Type"] == "application/pdf"
    assert b"".join(letter.streaming_content).startswith(b"%PDF")

    drive_webhooks()
    events = [r["json"] for r in webhook_endpoint.accepted]
    assert [e["status"] for e in events] == ["registered", "forwarded", "in_review", "at_commission", "posting",
                                             "closed"]
    assert events[-1]["outcome"] == "corrected" and events[-1]["corrected_amount"] == body["corrected_amount"]
