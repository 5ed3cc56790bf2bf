"""The citizen's filing flow through the pages, as a browser without JavaScript sees it."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from claims.models import Claim, ReasonTemplate
from conftest import PDF_BYTES, image_bytes
from identity.services import SESSION_LOGIN_METHOD
from notifications.models import Delivery

SEED_MESSAGE = ("Müraciətiniz qeydiyyata alındı. Xidmətimizdən istifadə etdiyiniz üçün sizə təşəkkür edirik. "
                "Müraciət nömrəniz: ")


def login(client, user, method="sima_signature"):
    client.force_login(user)
    session = client.session
    session[SESSION_LOGIN_METHOD] = method
    session.save()


def details_post(**over):
    data = {"reason": ReasonTemplate.objects.get(code="misread").pk, "reason_text": "", "phone": "050 123 45 67",
            "email": "resad@example.az", "comment": "", "reading_0": "1490",
            "photo_0": SimpleUploadedFile("sayğac.jpg", image_bytes("JPEG", exif=True), content_type="image/jpeg")}
    data.update(over)
    return {k: v for k, v in data.items() if v is not None}


def start(client, account):
    r = client.post(reverse("portal:claim_new"), {"action": "pick", "account": account.subscriber_code})
    assert r.status_code == 302 and r.url == reverse("portal:claim_invoice")
    inv = account.invoices.order_by("-period").first()
    r = client.post(reverse("portal:claim_invoice"), {"invoice": inv.number})
    assert r.status_code == 302 and r.url == reverse("portal:claim_details")
    return inv


@pytest.mark.django_db
def test_anonymous_is_sent_to_login(client):
    r = client.get(reverse("portal:claim_new"))
    assert r.status_code == 302 and reverse("identity:login") in r.url


@pytest.mark.django_db
def test_home_offers_the_two_sections(client):
    body = client.get("/").content.decode()
    assert "Yeni müraciət yarat" in body and "Müraciətin statusunu yoxla" in body


@pytest.mark.django_db
def test_whole_flow_registers_a_claim_and_shows_the_seed_message(client, citizen, account, operator):
    login(client, citizen)
    r = client.get(reverse("portal:claim_new"))
    assert account.subscriber_code in r.content.decode()
    inv = start(client, account)
    page = client.get(reverse("portal:claim_details")).content.decode()
    meter = account.meters.get()
    assert meter.serial_number in page and meter.seal_number in page
    r = client.post(reverse("portal:claim_details"), details_post())
    assert r.status_code == 302 and r.url == reverse("portal:claim_review")
    review = client.get(reverse("portal:claim_review")).content.decode()
    assert "+994501234567" in review and "1\xa0490 m³" in review and "Təsdiq et" in review and "İmtina" in review
    r = client.post(reverse("portal:claim_review"), {"action": "confirm", "consent": "on"})
    claim = Claim.objects.get()
    assert r.status_code == 302 and r.url == reverse("portal:claim_registered", args=[claim.number])
    done = client.get(r.url).content.decode()
    assert SEED_MESSAGE + claim.number in done
    assert claim.due_on.strftime("%d.%m.%Y") in done
    assert claim.invoice_number == inv.number and claim.login_method == "sima_signature"
    assert claim.phone == "+994501234567"
    assert Delivery.objects.filter(claim=claim).count() == 4
    listing = client.get(reverse("portal:claim_list")).content.decode()
    assert claim.number in listing
    detail = client.get(reverse("portal:claim_detail", args=[claim.number])).content.decode()
    assert "İcraya yönləndirilib" in detail and "Yasamal rayon idarəsi" in detail


@pytest.mark.django_db
def test_refresh_or_double_confirm_never_makes_a_second_claim(client, citizen, account, operator):
    login(client, citizen)
    start(client, account)
    client.post(reverse("portal:claim_details"), details_post())
    # Two confirms of the same draft (double click) in the same session.
    session_draft = dict(client.session["claim_draft"])
    client.post(reverse("portal:claim_review"), {"action": "confirm", "consent": "on"})
    session = client.session
    session["claim_draft"] = session_draft
    session.save()
    r = client.post(reverse("portal:claim_review"), {"action": "confirm", "consent": "on"})
    assert Claim.objects.count() == 1
    assert r.url == reverse("portal:claim_registered", args=[Claim.objects.get().number])


@pytest.mark.django_db
def test_cancel_on_review_goes_back_with_all_answers_kept(client, citizen, account, operator):
    login(client, citizen)
    start(client, account)
    client.post(reverse("portal:claim_details"), details_post(comment="Sayğac mətbəxdədir"))
    r = client.post(reverse("portal:claim_review"), {"action": "cancel"})
    assert r.url == reverse("portal:claim_details")
    page = client.get(r.url).content.decode()
    assert 'value="050 123 45 67"' in page and "resad@example.az" in page and "Sayğac mətbəxdədir" in page
    assert 'value="1490"' in page and "sayğac.jpg" in page
    assert not Claim.objects.exists()


@pytest.mark.django_db
def test_review_without_consent_is_refused_next_to_the_field(client, citizen, account, operator):
    login(client, citizen)
    start(client, account)
    client.post(reverse("portal:claim_details"), details_post())
    r = client.post(reverse("portal:claim_review"), {"action": "confirm"})
    assert r.status_code == 200
    assert "şəxsi məlumatların emalına razılıq verin" in r.content.decode()
    assert not Claim.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(("field", "value", "message"), [
    ("phone", "12345", "Mobil nömrəni düzgün yazın"),
    ("phone", "+994 12 123 45 67", "Mobil nömrəni düzgün yazın"),  # Baku landline, not mobile
    ("phone", "", "Telefon nömrəsini daxil edin"),
    ("email", "not-an-email", "Elektron poçt ünvanını düzgün yazın"),
    ("email", "", "Elektron poçt ünvanını daxil edin"),
    ("reading_0", "abc", "göstəricini tam ədədlə yazın"),
    ("reading_0", "-5", "göstərici mənfi ola bilməz"),
    ("reading_0", "", "bu günə göstəricini daxil edin"),
    ("reason", "", "Müraciətin səbəbini seçin"),
    ("reason", "999999", "Müraciətin səbəbini siyahıdan seçin"),
])
def test_bad_input_on_details_shows_the_message_and_keeps_the_rest(client, citizen, account, operator, field,
                                                                   value, message):
    login(client, citizen)
    start(client, account)
    r = client.post(reverse("portal:claim_details"), details_post(**{field: value}))
    assert r.status_code == 200
    body = r.content.decode()
    assert message in body
    assert 'class="error-summary"' in body and "<title>Xəta:" in body
    # The photo was good: it is kept and need not be uploaded again.
    assert "Yüklənmiş fayl:" in body and "sayğac.jpg" in body
    fixed = details_post(photo_0=None)
    r = client.post(reverse("portal:claim_details"), fixed)
    assert r.status_code == 302, r.content.decode()[:3000]


@pytest.mark.django_db
def test_other_reason_requires_text(client, citizen, account, operator):
    login(client, citizen)
    start(client, account)
    other = ReasonTemplate.objects.get(code="other").pk
    r = client.post(reverse("portal:claim_details"), details_post(reason=other))
    assert "“Digər” səbəbini qısa yazın" in r.content.decode()
    r = client.post(reverse("portal:claim_details"), details_post(reason=other, reason_text="Sayğac dəyişdirilib",
                                                                  photo_0=None))
    assert r.status_code == 302


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "content", "message"), [
    ("sayğac.exe", b"MZ\x90\x00", "Yalnız jpg, jpeg, png və ya pdf"),
    ("sayğac.jpg", b"this is text, not a picture", "Fayl oxunmadı"),
    ("sayğac.pdf", b"GIF89a not a pdf", "Fayl oxunmadı"),
    ("sayğac.png", b"", "Fayl boşdur"),
])
def test_bad_photos_are_refused_by_content(client, citizen, account, operator, name, content, message):
    login(client, citizen)
    start(client, account)
    r = client.post(reverse("portal:claim_details"),
                    details_post(photo_0=SimpleUploadedFile(name, content, content_type="image/jpeg")))
    assert r.status_code == 200 and message in r.content.decode()


@pytest.mark.django_db
def test_missing_photo_is_refused(client, citizen, account, operator):
    login(client, citizen)
    start(client, account)
    r = client.post(reverse("portal:claim_details"), details_post(photo_0=None))
    assert "göstəricinin göründüyü şəkli yükləyin" in r.content.decode()


@pytest.mark.django_db
def test_too_large_photo_is_refused(client, citizen, account, operator, settings):
    settings.PHOTO_MAX_BYTES = 1024
    login(client, citizen)
    start(client, account)
    big = SimpleUploadedFile("sayğac.jpg", image_bytes("JPEG", size=(800, 800)), content_type="image/jpeg")
    r = client.post(reverse("portal:claim_details"), details_post(photo_0=big))
    assert "MB-dan çox olmamalıdır" in r.content.decode()


@pytest.mark.django_db
def test_pdf_photo_is_accepted(client, citizen, account, operator):
    login(client, citizen)
    start(client, account)
    r = client.post(reverse("portal:claim_details"),
                    details_post(photo_0=SimpleUploadedFile("akt.pdf", PDF_BYTES, content_type="application/pdf")))
    assert r.status_code == 302


@pytest.mark.django_db
def test_two_meters_need_two_readings_and_two_photos(client, citizen, account_two_meters, operator):
    login(client, citizen)
    start(client, account_two_meters)
    r = client.post(reverse("portal:claim_details"), details_post())
    body = r.content.decode()
    assert r.status_code == 200
    # Each message names its meter: with two meters the citizen knows which one is missing.
    first, second = (m.serial_number for m in account_two_meters.meters.order_by("serial_number"))
    assert f"Sayğac {second}: bu günə göstəricini daxil edin" in body
    assert f"Sayğac {second}: göstəricinin göründüyü şəkli yükləyin" in body
    assert f"Sayğac {first}: bu günə" not in body
    r = client.post(reverse("portal:claim_details"), details_post(
        photo_0=None, reading_1="1790",
        photo_1=SimpleUploadedFile("iki.png", image_bytes("PNG"), content_type="image/png")))
    assert r.status_code == 302


@pytest.mark.django_db
@pytest.mark.parametrize(("code", "message"), [
    ("12345", "Abonent kodu 10 rəqəmdən ibarət olmalıdır"),
    ("12345abcde", "Abonent kodu 10 rəqəmdən ibarət olmalıdır"),
    ("", "Abonent kodunu daxil edin"),
    ("9999999999", "Bu abonent kodu tapılmadı"),
])
def test_bad_subscriber_code_gets_a_message_next_to_the_field(client, citizen, account, code, message):
    login(client, citizen)
    r = client.post(reverse("portal:claim_new"), {"action": "check", "subscriber_code": code})
    body = r.content.decode()
    assert r.status_code == 200 and message in body
    assert 'id="id_subscriber_code_error"' in body


@pytest.mark.django_db
def test_typed_code_of_another_holder_shows_only_the_paper_invoice_with_masked_name(
        client, citizen, foreign_account, operator):
    login(client, citizen)
    r = client.post(reverse("portal:claim_new"),
                    {"action": "check", "subscriber_code": foreign_account.subscriber_code})
    assert r.status_code == 302
    page = client.get(reverse("portal:claim_invoice")).content.decode()
    assert "Hüseynova" not in page and "Nigar" not in page
    assert "H******** N**** V**** q***" in page
    assert foreign_account.invoices.order_by("-period").first().number in page
    assert foreign_account.holder_fin not in page


@pytest.mark.django_db
def test_lookups_of_other_accounts_are_rate_limited(client, citizen, foreign_account, settings):
    settings.FOREIGN_ACCOUNT_LOOKUPS_PER_HOUR = 3
    login(client, citizen)
    for _ in range(3):
        r = client.post(reverse("portal:claim_new"), {"action": "check", "subscriber_code": "9999999999"})
        assert "tapılmadı" in r.content.decode()
    r = client.post(reverse("portal:claim_new"),
                    {"action": "check", "subscriber_code": foreign_account.subscriber_code})
    assert r.status_code == 200 and "limit keçilib" in r.content.decode()


@pytest.mark.django_db
def test_own_accounts_are_not_rate_limited(client, citizen, account, settings):
    settings.FOREIGN_ACCOUNT_LOOKUPS_PER_HOUR = 0
    login(client, citizen)
    r = client.post(reverse("portal:claim_new"), {"action": "check", "subscriber_code": account.subscriber_code})
    assert r.status_code == 302


@pytest.mark.django_db
def test_invoice_list_shows_last_twelve_months(client, citizen, account):
    login(client, citizen)
    start_page = client.post(reverse("portal:claim_new"), {"action": "pick", "account": account.subscriber_code})
    assert start_page.status_code == 302
    page = client.get(reverse("portal:claim_invoice")).content.decode()
    numbers = re.findall(r'name="invoice" value="([^"]+)"', page)
    assert len(numbers) == 12  # the account has 14 months of invoices
    assert account.invoices.order_by("period").first().number not in numbers


@pytest.mark.django_db
def test_no_invoice_chosen_is_an_error(client, citizen, account):
    login(client, citizen)
    client.post(reverse("portal:claim_new"), {"action": "pick", "account": account.subscriber_code})
    r = client.post(reverse("portal:claim_invoice"), {})
    assert "Xətalı fakturanın nömrəsini seçin" in r.content.decode()


@pytest.mark.django_db
def test_invoice_with_an_open_claim_names_the_existing_claim(client, citizen, account, operator):
    login(client, citizen)
    start(client, account)
    client.post(reverse("portal:claim_details"), details_post())
    client.post(reverse("portal:claim_review"), {"action": "confirm", "consent": "on"})
    number = Claim.objects.get().number
    client.post(reverse("portal:claim_new"), {"action": "pick", "account": account.subscriber_code})
    inv = account.invoices.order_by("-period").first()
    r = client.post(reverse("portal:claim_invoice"), {"invoice": inv.number})
    assert r.status_code == 200 and number in r.content.decode()


@pytest.mark.django_db
def test_another_citizen_gets_404_for_a_claim_by_url_or_by_number(client, citizen, other_citizen, account, operator):
    login(client, citizen)
    start(client, account)
    client.post(reverse("portal:claim_details"), details_post())
    client.post(reverse("portal:claim_review"), {"action": "confirm", "consent": "on"})
    claim = Claim.objects.get()
    evidence = claim.evidence.get()
    client.logout()
    login(client, other_citizen)
    for name, args in [("portal:claim_detail", [claim.number]), ("portal:claim_registered", [claim.number]),
                       ("portal:claim_receipt", [claim.number]), ("portal:claim_photo", [claim.number, evidence.pk])]:
        assert client.get(reverse(name, args=args)).status_code == 404
    r = client.post(reverse("portal:claim_find"), {"number": claim.number}, follow=True)
    assert r.status_code == 404
    assert claim.number not in client.get(reverse("portal:claim_list")).content.decode()


@pytest.mark.django_db
def test_owner_sees_photo_without_metadata(client, citizen, account, operator):
    import io

    from PIL import Image
    login(client, citizen)
    start(client, account)
    client.post(reverse("portal:claim_details"), details_post())
    client.post(reverse("portal:claim_review"), {"action": "confirm", "consent": "on"})
    claim = Claim.objects.get()
    r = client.get(reverse("portal:claim_photo", args=[claim.number, claim.evidence.get().pk]))
    assert r.status_code == 200
    img = Image.open(io.BytesIO(b"".join(r.streaming_content)))
    assert img.format == "JPEG" and not img.getexif()


@pytest.mark.django_db
def test_steps_out_of_order_go_back_to_the_start(client, citizen):
    login(client, citizen)
    assert client.get(reverse("portal:claim_details")).url == reverse("portal:claim_new")
    assert client.get(reverse("portal:claim_review")).url == reverse("portal:claim_new")


@pytest.mark.django_db
def test_azerbaijani_is_the_default_whatever_the_browser_asks(client):
    body = client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9,ru;q=0.8").content.decode()
    assert '<html lang="az">' in body and "Yeni müraciət yarat" in body
    client.post("/i18n/setlang/", {"language": "ru", "next": "/"})
    assert '<html lang="ru">' in client.get("/").content.decode()
