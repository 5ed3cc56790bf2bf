from datetime import UTC, date, datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from PIL import Image

from audit.models import AuditEntry
from claims.models import Claim, ClaimEvent, WorkingDayTransfer
from claims.services import claim_take
from claims.transitions import ClaimStatus
from conftest import baku, image_bytes, make_account
from inspections.models import Inspection, InspectionReading, InspectionStatus
from notifications.models import Delivery
from testkit.factories import register

from .conftest import next_working_day

pytestmark = pytest.mark.django_db

VISITS = reverse("inspections:visits")


def visit_url(inspection, name="visit"):
    return reverse(f"inspections:{name}", args=[inspection.pk])


def _post_result(client, inspection, *, readings=None, seal="intact", photo=True, note="", token=None):
    evidence = list(inspection.claim.evidence.all())
    data = {"result-seal_state": seal, "result-note": note}
    for i, ev in enumerate(evidence):
        value = (readings or {}).get(ev.meter_serial, ev.declared_reading)
        data[f"result-reading_{i}"] = "" if value is None else str(value)
    if photo:
        data["result-photo"] = SimpleUploadedFile("sayğac.jpg", image_bytes("JPEG", exif=True), "image/jpeg")
    if token:
        data["result-photo_token"] = token
    return client.post(visit_url(inspection, "visit_result"), data)


# --- the list of visits --------------------------------------------------------------------

def test_the_list_shows_the_inspectors_visits_of_the_day_with_what_he_needs_at_the_door(
        client, inspection, inspector, visit_day):
    client.force_login(inspector)
    response = client.get(VISITS, {"day": visit_day.isoformat()})
    assert response.status_code == 200
    html = response.content.decode()
    claim, ev = inspection.claim, inspection.claim.evidence.get()
    assert claim.number in html
    assert claim.address in html
    assert 'href="tel:+994501234567"' in html and "+994 50 123 45 67" in html
    assert "09:00–13:00" in html
    assert ev.meter_serial in html and ev.seal_number in html
    assert f"{ev.declared_reading} m³" in html and f"{ev.billed_reading} m³" in html
    assert visit_url(inspection) in html
    # Links to the neighbouring working days.
    assert f"?day={next_working_day(1, visit_day).isoformat()}" in html


# --- the day the list opens on ---------------------------------------------------------------
# Without a date the list shows today in Baku. Visits are made on working days only, so on a day
# off it says so and its arrows lead to the working days either side. Each test sets the clock.

DAY_OFF = "Bu tarix iş günü deyil."
NO_VISITS = "Bu tarixə sizə təyin edilmiş səfər yoxdur."


def _day_page(client, **params):
    """The list's HTML, and the day it shows with its previous and next working days."""
    response = client.get(VISITS, params)
    assert response.status_code == 200
    ctx = response.context
    return response.content.decode(), (ctx["day"], ctx["previous_day"], ctx["next_day"])


@pytest.mark.time_machine(baku(2026, 12, 2), tick=False)  # a Wednesday
def test_on_a_working_day_the_list_opens_on_today_with_its_visits(client, inspector, claim_in_review, order):
    order(claim_in_review, day=date(2026, 12, 2))
    client.force_login(inspector)
    html, days = _day_page(client)
    assert days == (date(2026, 12, 2), date(2026, 12, 1), date(2026, 12, 3))
    assert "02.12.2026</strong>" in html and "· bu gün" in html
    assert claim_in_review.number in html and DAY_OFF not in html


@pytest.mark.time_machine(baku(2026, 12, 6), tick=False)  # a Sunday
def test_on_a_sunday_the_list_opens_on_today_says_it_is_a_day_off_and_leads_to_the_working_days(
        client, inspector, inspection):
    assert inspection.visit_on == date(2026, 12, 7)  # ordered for the next working day, Monday
    client.force_login(inspector)
    html, days = _day_page(client)
    assert days == (date(2026, 12, 6), date(2026, 12, 4), date(2026, 12, 7))
    assert "06.12.2026</strong>" in html and "· bu gün" in html
    assert DAY_OFF in html and NO_VISITS in html and inspection.claim.number not in html
    html, _days = _day_page(client, day="2026-12-07")
    assert inspection.claim.number in html and DAY_OFF not in html


@pytest.mark.time_machine(baku(2026, 12, 31), tick=False)  # World Azerbaijanis Solidarity Day, a Thursday
def test_on_a_public_holiday_the_list_says_it_is_a_day_off_and_leads_past_the_new_year(
        client, inspector, inspection):
    # Friday 1 January is New Year's Day; its second day, Saturday 2 January, moves to Monday 4.
    assert inspection.visit_on == date(2027, 1, 5)
    client.force_login(inspector)
    html, days = _day_page(client)
    assert days == (date(2026, 12, 31), date(2026, 12, 30), date(2027, 1, 5))
    assert DAY_OFF in html and NO_VISITS in html
    assert inspection.claim.number in _day_page(client, day="2027-01-05")[0]


@pytest.mark.time_machine(baku(2026, 12, 5), tick=False)  # a Saturday the Cabinet made a working day
def test_a_day_the_cabinet_moved_is_a_working_day_or_a_day_off_as_the_decree_says(
        cabinet_transfers, client, inspector, claim_in_review, order):
    order(claim_in_review, day=date(2026, 12, 5))
    client.force_login(inspector)
    html, days = _day_page(client)
    # Sunday 6 December is off as always, Monday 7 December by the decree.
    assert days == (date(2026, 12, 5), date(2026, 12, 4), date(2026, 12, 8))
    assert claim_in_review.number in html and DAY_OFF not in html
    html, days = _day_page(client, day="2026-12-07")
    assert DAY_OFF in html and days == (date(2026, 12, 7), date(2026, 12, 5), date(2026, 12, 8))
    WorkingDayTransfer.objects.all().delete()  # without the decree the week is an ordinary one
    assert _day_page(client)[1] == (date(2026, 12, 5), date(2026, 12, 4), date(2026, 12, 7))


@pytest.mark.parametrize(("moment", "today", "day_off"), [
    (datetime(2026, 12, 4, 21, 30, tzinfo=UTC), date(2026, 12, 5), True),  # Friday evening in UTC
    (datetime(2026, 12, 6, 20, 30, tzinfo=UTC), date(2026, 12, 7), False),  # Sunday evening in UTC
], ids=["friday-evening-utc", "sunday-evening-utc"])
def test_today_is_the_date_in_baku_not_in_utc(moment, today, day_off, client, inspector, time_machine):
    time_machine.move_to(moment, tick=False)  # also sets the process's own zone to UTC, as on a server
    client.force_login(inspector)
    html, days = _day_page(client)
    assert days[0] == today
    assert (DAY_OFF in html) is day_off


def test_a_second_inspector_sees_none_of_them_and_cannot_open_one(client, inspection, second_inspector, visit_day):
    client.force_login(second_inspector)
    html = client.get(VISITS, {"day": visit_day.isoformat()}).content.decode()
    assert inspection.claim.number not in html
    assert "Bu tarixə sizə təyin edilmiş səfər yoxdur." in html
    assert client.get(visit_url(inspection)).status_code == 404
    assert client.get(reverse("inspections:meter_photo", args=[inspection.pk,
                                                               inspection.claim.evidence.get().pk])).status_code == 404
    response = _post_result(client, inspection)
    assert response.status_code == 404
    assert Inspection.objects.get(pk=inspection.pk).status == InspectionStatus.SCHEDULED


def test_an_operator_is_refused_the_inspectors_pages(client, inspection, operator):
    client.force_login(operator)
    assert client.get(VISITS).status_code == 403
    assert client.get(visit_url(inspection)).status_code == 403
    assert _post_result(client, inspection).status_code == 403


@pytest.mark.parametrize("who", ["citizen", "anonymous"])
def test_citizens_and_strangers_go_to_the_staff_login(who, client, inspection, citizen):
    if who == "citizen":
        client.force_login(citizen)
    for url in (VISITS, visit_url(inspection)):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("backoffice:login"))


def test_the_list_makes_the_same_queries_for_one_visit_or_five(client, citizen, branch, operator, inspector, order,
                                                               visit_day, jpeg_upload, django_assert_max_num_queries):
    account = make_account(code="1020304070", branch=branch, holder_fin=citizen.fin, holder_name="Əliyev Rəşad",
                           meters=2)
    from billing.gateway import get_gateway

    invoices = get_gateway().invoices_of_account(account.subscriber_code)
    claims = [claim_take(claim=register(citizen, account, key=f"q{i}", invoice=invoices[i]),
                         actor=operator) for i in range(5)]
    order(claims[0])
    client.force_login(inspector)
    client.get(VISITS, {"day": visit_day.isoformat()})  # warm the session and caches
    with CaptureQueriesContext(connection) as one:
        assert client.get(VISITS, {"day": visit_day.isoformat()}).status_code == 200
    for claim in claims[1:]:
        order(claim)
    with django_assert_max_num_queries(len(one.captured_queries)):
        html = client.get(VISITS, {"day": visit_day.isoformat()}).content.decode()
    assert all(c.number in html for c in claims)


# --- one visit -----------------------------------------------------------------------------

def test_the_visit_page_shows_the_details_and_is_audited(client, inspection, inspector):
    client.force_login(inspector)
    response = client.get(visit_url(inspection))
    assert response.status_code == 200
    html = response.content.decode()
    ev = inspection.claim.evidence.get()
    assert inspection.claim.address in html and 'href="tel:+994501234567"' in html
    assert ev.meter_serial in html and ev.seal_number in html and f"{ev.declared_reading} m³" in html
    assert "Nəticəni qeyd et" in html and 'type="file"' in html
    entry = AuditEntry.objects.get(action="claim_viewed", claim=inspection.claim)
    assert (entry.actor, entry.object_type, entry.object_id) == (inspector, "inspection", str(inspection.pk))
    photo = client.get(reverse("inspections:meter_photo", args=[inspection.pk, ev.pk]))
    assert photo.status_code == 200 and photo["Content-Type"] == "image/jpeg"


def test_recording_the_result_returns_the_claim_to_review(client, inspection, inspector):
    client.force_login(inspector)
    ev = inspection.claim.evidence.get()
    response = _post_result(client, inspection, readings={ev.meter_serial: 1321}, seal="broken",
                            note="Plomb qırılıb, sayğac işləkdir.")
    assert response.status_code == 302
    assert response["Location"] == f"{VISITS}?day={inspection.visit_on.isoformat()}"

    done = Inspection.objects.get(pk=inspection.pk)
    assert done.status == InspectionStatus.DONE and done.seal_state == "broken"
    assert list(done.readings.values_list("verified_reading", flat=True)) == [1321]
    assert Claim.objects.get(pk=inspection.claim_id).status == ClaimStatus.IN_REVIEW
    with Image.open(done.photo.path) as img:
        assert not img.getexif()
    follow = client.get(response["Location"])
    assert "yoxlamanın nəticəsi qeyd edildi" in follow.content.decode()
    page = client.get(visit_url(inspection)).content.decode()
    assert "1321 m³" in page and "Plomb qırılıb" in page and "Nəticəni qeyd et" not in page
    assert client.get(visit_url(inspection, "visit_photo")).status_code == 200


def test_a_missing_reading_and_photo_are_shown_next_to_their_fields_and_nothing_is_written(
        client, two_meter_claim, order, inspector):
    inspection = order(two_meter_claim)
    first = two_meter_claim.evidence.first()
    client.force_login(inspector)
    events = ClaimEvent.objects.count()
    response = _post_result(client, inspection, readings={first.meter_serial: None}, seal="", photo=False)

    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="error-summary"' in html
    assert f"Sayğac {first.meter_serial} üçün yoxlanılmış göstəricini daxil edin." in html
    assert 'href="#id_result-seal_state_0"' in html  # the summary's link lands on the first radio
    assert "Sayğacın şəklini yükləyin." in html
    assert "Plombun vəziyyətini seçin." in html
    assert 'id="id_result-reading_0_error"' in html and 'id="id_result-photo_error"' in html
    assert InspectionReading.objects.count() == 0
    assert Inspection.objects.get(pk=inspection.pk).status == InspectionStatus.SCHEDULED
    assert Claim.objects.get(pk=two_meter_claim.pk).status == ClaimStatus.INSPECTION
    assert ClaimEvent.objects.count() == events


def test_a_good_photo_is_kept_when_another_field_is_wrong(client, inspection, inspector):
    client.force_login(inspector)
    ev = inspection.claim.evidence.get()
    response = _post_result(client, inspection, readings={ev.meter_serial: None})
    html = response.content.decode()
    assert "Yüklənmiş fayl:" in html and "sayğac.jpg" in html
    token = response.context["result_form"].photo_token
    assert token
    assert Inspection.objects.get(pk=inspection.pk).status == InspectionStatus.SCHEDULED

    response = _post_result(client, inspection, readings={ev.meter_serial: 1300}, photo=False, token=token)
    assert response.status_code == 302
    assert Inspection.objects.get(pk=inspection.pk).photo


def test_a_photo_token_of_another_visit_is_not_accepted(client, inspection, two_meter_claim, order, inspector):
    other = order(two_meter_claim)
    client.force_login(inspector)
    ev = inspection.claim.evidence.get()
    token = _post_result(client, inspection, readings={ev.meter_serial: None}).context["result_form"].photo_token
    response = _post_result(client, other, photo=False, token=token)
    assert "Sayğacın şəklini yükləyin." in response.content.decode()
    assert Inspection.objects.get(pk=other.pk).status == InspectionStatus.SCHEDULED


def test_a_file_that_is_not_a_photo_is_refused(client, inspection, inspector):
    client.force_login(inspector)
    ev = inspection.claim.evidence.get()
    data = {"result-seal_state": "intact", "result-reading_0": str(ev.declared_reading),
            "result-photo": SimpleUploadedFile("sayğac.jpg", b"not an image", "image/jpeg")}
    html = client.post(visit_url(inspection, "visit_result"), data).content.decode()
    assert "Fayl oxunmadı." in html
    assert Inspection.objects.get(pk=inspection.pk).status == InspectionStatus.SCHEDULED


def test_no_access_reschedules_and_notifies(client, inspection, inspector):
    client.force_login(inspector)
    new_day = next_working_day(4)
    response = client.post(visit_url(inspection, "visit_no_access"), {
        "noaccess-new_visit_on": new_day.isoformat(), "noaccess-new_window": "13-18",
        "noaccess-note": "Qapını açan olmadı."})
    assert response.status_code == 302
    assert Inspection.objects.get(pk=inspection.pk).status == InspectionStatus.NO_ACCESS
    new = Inspection.objects.get(claim=inspection.claim, status=InspectionStatus.SCHEDULED)
    assert (new.inspector, new.visit_on, new.window) == (inspector, new_day, "13-18")
    email = Delivery.objects.filter(claim=inspection.claim, event="inspection_scheduled", medium="email").first()
    assert f"{new_day:%d.%m.%Y}" in email.body and "13:00–18:00" in email.body
    html = client.get(VISITS, {"day": new_day.isoformat()}).content.decode()
    assert inspection.claim.number in html


@pytest.mark.time_machine(baku(2026, 12, 2), tick=False)  # a Wednesday; the visit is on Thursday 3 December
@pytest.mark.parametrize("new_day", [date(2026, 12, 6), date(2026, 12, 31)], ids=["sunday", "public-holiday"])
def test_no_access_on_a_day_off_is_refused_next_to_the_date(new_day, client, inspection, inspector):
    client.force_login(inspector)
    deliveries = Delivery.objects.count()
    response = client.post(visit_url(inspection, "visit_no_access"), {
        "noaccess-new_visit_on": new_day.isoformat(), "noaccess-new_window": "09-13"})
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="id_noaccess-new_visit_on_error"' in html and "iş günü olmalıdır" in html
    assert "<details class=\"action\" open>" in html
    assert Inspection.objects.get(pk=inspection.pk).status == InspectionStatus.SCHEDULED
    assert Inspection.objects.count() == 1 and Delivery.objects.count() == deliveries


def test_the_admin_shows_an_inspection_read_only(client, inspection, admin_user):
    client.force_login(admin_user)
    response = client.get(reverse("admin:inspections_inspection_change", args=[inspection.pk]))
    assert response.status_code == 200
    assert inspection.claim.number in response.content.decode()
    assert client.get(reverse("admin:inspections_inspection_add")).status_code == 403
