"""claims.filing: which invoices a claim may dispute, who sees an account and how often, and the
one filing path: refused by field with nothing written, or registered with the photos cleaned
and the drafts gone."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from billing.gateway import get_gateway
from claims import filing
from claims.evidence import PhotoDrafts
from claims.models import Channel, Claim, ClaimMeterEvidence, ReasonTemplate
from conftest import make_account
from core.errors import ServiceError

BAKU = ZoneInfo("Asia/Baku")


def _files(folder: str) -> list:
    root = settings.MEDIA_ROOT / folder
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def _subject(account):
    gw = get_gateway()
    acc = gw.account_by_code(account.subscriber_code)
    return acc, filing.invoices_recent(subscriber_code=account.subscriber_code)[0]


def _file(citizen, account, *, readings=None, photos=None, key="k1", channel=Channel.PORTAL, **over):
    acc, invoice = _subject(account)
    serials = [ln.meter_serial for ln in invoice.lines]
    kwargs = dict(
        citizen=citizen, account=acc, invoice=invoice, reason=ReasonTemplate.objects.get(code="misread"),
        reason_text="", readings={s: 1000 for s in serials} if readings is None else readings,
        photos=photos, phone="+994501234567", email="resad@example.az", comment="", language="az",
        login_method="asan_signature", channel=channel, submission_key=key, consent=True,
    )
    return filing.claim_file(**(kwargs | over))


# --- The window of 12 months ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_window_is_the_last_twelve_months_across_the_new_year(branch, citizen):
    with time_machine.travel(datetime(2027, 1, 3, 10, 0, tzinfo=BAKU), tick=False):
        account = make_account(code="1020304050", branch=branch, holder_fin=citizen.fin,
                               holder_name="Əliyev Rəşad Elşən oğlu")  # invoices Nov 2025 .. Dec 2026
        assert filing.window_start() == date(2026, 1, 1)
        invoices = filing.invoices_recent(subscriber_code=account.subscriber_code)
        periods = [i.period for i in invoices]
        assert periods == [date(2026, m, 1) for m in range(12, 0, -1)]  # newest first, 2025's are out
        oldest = account.invoices.order_by("period").first()
        assert oldest.period == date(2025, 11, 1)
        with pytest.raises(filing.FilingRefused) as refused:
            filing.invoice_of_account(subscriber_code=account.subscriber_code, number=oldest.number)
        assert refused.value.errors == {
            "invoice_number": "Bu nömrəli faktura abonentin son 12 ayın fakturaları arasında yoxdur."}
        assert filing.invoice_of_account(subscriber_code=account.subscriber_code,
                                         number=invoices[-1].number).period == date(2026, 1, 1)


def test_the_window_follows_the_local_day_not_utc():
    # 1 January 2027 at 01:00 in Baku is still 31 December 2026 in UTC.
    with time_machine.travel(datetime(2027, 1, 1, 1, 0, tzinfo=BAKU), tick=False):
        assert filing.window_start() == date(2026, 1, 1)
    assert filing.window_start(today=date(2026, 12, 31)) == date(2025, 12, 1)


# --- Who sees an account, and how often --------------------------------------------------------------


@pytest.mark.django_db
def test_the_holder_sees_his_account_others_see_it_masked(citizen, other_citizen, account):
    acc = get_gateway().account_by_code(account.subscriber_code)
    assert filing.citizen_holds(citizen=citizen, account=acc)
    assert not filing.citizen_holds(citizen=other_citizen, account=acc)
    assert not filing.citizen_holds(citizen=citizen, account=None)


@pytest.mark.django_db
def test_an_account_without_a_fin_is_held_by_nobody(branch, citizen):
    organisation = make_account(code="1020307777", branch=branch, holder_fin="", holder_name="Su MMC")
    nobody = type(citizen)(fin="")
    acc = get_gateway().account_by_code(organisation.subscriber_code)
    assert not filing.citizen_holds(citizen=nobody, account=acc)


@pytest.mark.django_db
def test_foreign_look_ups_share_one_budget_per_citizen_and_hour(citizen, other_citizen, account, foreign_account,
                                                                settings):
    settings.FOREIGN_ACCOUNT_LOOKUPS_PER_HOUR = 2
    code = foreign_account.subscriber_code
    with time_machine.travel(datetime(2027, 1, 4, 9, 30, tzinfo=BAKU), tick=False):
        found = filing.account_look_up(citizen=citizen, subscriber_code=code)
        assert found.account.subscriber_code == code and not found.holds
        filing.account_look_up(citizen=citizen, subscriber_code=code)  # read again (the API): not counted
        with pytest.raises(filing.AccountNotFound) as unknown:
            filing.account_look_up(citizen=citizen, subscriber_code="9999999999")  # a guess counts too
        assert unknown.value.field == "subscriber_code"
        with pytest.raises(filing.LookupLimited) as limited:
            filing.account_look_up(citizen=citizen, subscriber_code=code, recount=True)  # the portal's check
        assert limited.value.field == "subscriber_code"
        assert "limit keçilib" in limited.value.message
        assert limited.value.wait == 30 * 60  # until the next clock hour
        # His own account is never limited; another citizen has his own budget.
        assert filing.account_look_up(citizen=citizen, subscriber_code=account.subscriber_code).holds
        assert filing.account_look_up(citizen=other_citizen, subscriber_code=account.subscriber_code)
    with time_machine.travel(datetime(2027, 1, 4, 10, 0, tzinfo=BAKU), tick=False):
        assert filing.account_look_up(citizen=citizen, subscriber_code=code)  # a new hour, a new budget


# --- Filing -------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_every_meter_and_only_those_needs_a_reading_and_a_photo(citizen, account_two_meters, operator, jpeg_upload):
    acc, invoice = _subject(account_two_meters)
    first, second = (ln.meter_serial for ln in invoice.lines)
    with pytest.raises(filing.FilingRefused) as refused:
        _file(citizen, account_two_meters, readings={first: 1000, "SM-UNKNOWN": 5},
              photos={first: jpeg_upload(), second: jpeg_upload()})
    assert refused.value.errors == {
        f"reading[{second}]": "Sayğacın bu günə göstəricisini daxil edin.",
        "reading[SM-UNKNOWN]": "Bu sayğac fakturada yoxdur.",
    }
    # The message stands next to the first field it names.
    assert refused.value.field == f"reading[{second}]"
    assert refused.value.message == "Sayğacın bu günə göstəricisini daxil edin."
    assert not Claim.objects.exists() and not ClaimMeterEvidence.objects.exists()
    assert _files("drafts") == [] and _files("claims") == []  # not even a photo was stored


@pytest.mark.django_db
def test_a_rejected_photo_is_refused_next_to_its_meter_and_nothing_is_kept(citizen, account_two_meters, operator,
                                                                           jpeg_upload):
    acc, invoice = _subject(account_two_meters)
    first, second = (ln.meter_serial for ln in invoice.lines)
    not_a_photo = SimpleUploadedFile("sayğac.jpg", b"this is not an image", content_type="image/jpeg")
    with pytest.raises(filing.FilingRefused) as refused:
        _file(citizen, account_two_meters, photos={first: jpeg_upload(), second: not_a_photo})
    assert list(refused.value.errors) == [f"photo[{second}]"]
    assert refused.value.errors[f"photo[{second}]"].startswith("Fayl oxunmadı.")
    assert not Claim.objects.exists()
    assert _files("drafts") == []  # the good photo's draft went too


@pytest.mark.django_db
def test_uploads_are_filed_and_their_drafts_removed(citizen, account_two_meters, operator, jpeg_upload):
    acc, invoice = _subject(account_two_meters)
    serials = [ln.meter_serial for ln in invoice.lines]
    claim = _file(citizen, account_two_meters, channel="egov", readings={s: 1500 + i for i, s in enumerate(serials)},
                  photos={s: jpeg_upload() for s in serials}, photo_folder="drafts/api")
    assert claim.channel == "egov" and claim.invoice_number == invoice.number
    lines = {ln.meter_serial: ln for ln in invoice.lines}
    evidence = {e.meter_serial: e for e in claim.evidence.all()}
    assert {s: (e.declared_reading, e.billed_reading) for s, e in evidence.items()} == {
        s: (1500 + i, lines[s].current_reading) for i, s in enumerate(serials)}
    assert all(default_storage.exists(e.photo.name) for e in evidence.values())
    assert _files("drafts") == []


@pytest.mark.django_db
def test_stored_drafts_stay_the_callers_until_the_claim_is_registered(citizen, account, operator, jpeg_upload,
                                                                      django_capture_on_commit_callbacks):
    acc, invoice = _subject(account)
    serial = invoice.lines[0].meter_serial
    photo = PhotoDrafts().put(jpeg_upload())  # as the portal's details step keeps it in the session
    # Refused (no consent): the citizen's photo stays for his next try, nothing is written.
    with pytest.raises(ServiceError) as refused:
        _file(citizen, account, photos={serial: photo}, consent=False)
    assert refused.value.field == "consent"
    assert default_storage.exists(photo.path) and not Claim.objects.exists()
    # Registered: the claim keeps its own copy and the draft goes once it is committed.
    with django_capture_on_commit_callbacks(execute=True):
        claim = _file(citizen, account, photos={serial: photo})
    evidence = claim.evidence.get()
    assert evidence.declared_reading == 1000 and default_storage.exists(evidence.photo.name)
    assert not default_storage.exists(photo.path)
