"""Fixtures shared by every app's tests: a small billing world, citizens and photos; and the
test clock (see "The clock" below)."""

import io
import os
import shutil
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from billing import models as b
from identity.models import Role, StaffAssignment, User

# --- The clock -----------------------------------------------------------------------------------
# A test never depends on the day it runs (CONVENTIONS.md, "Time in tests"). A test whose result
# depends on the date sets it on purpose, before its fixtures are built:
#     @pytest.mark.time_machine(baku(2026, 12, 6), tick=False)      # a Sunday
# or moves the clock itself with the ``time_machine`` fixture.
#
# TEST_CLOCK=2026-12-05T10:00:00+04:00 runs the whole suite as if it were started at that moment
# (a value without an offset is read on the Baku clock); the clock ticks on from there. A test
# that sets its own time travels on top of it and comes back to it afterwards.

BAKU = ZoneInfo("Asia/Baku")


def baku(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    """A moment on the Baku wall clock (Asia/Baku, the service's TIME_ZONE: UTC+4 all year)."""
    return datetime(year, month, day, hour, minute, tzinfo=BAKU)


def _test_clock() -> datetime | None:
    value = os.environ.get("TEST_CLOCK", "").strip()
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise pytest.UsageError(
            f"TEST_CLOCK={value!r} is not an ISO date-time, e.g. 2026-12-05T10:00:00+04:00") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(settings.TIME_ZONE))


_suite_clock: time_machine.travel | None = None


def pytest_configure(config):
    # Started here rather than in a fixture so that collection and the session fixtures (the test
    # database's migrations) see the same clock as the tests; each xdist worker starts its own.
    global _suite_clock
    moment = _test_clock()
    if moment is not None:
        _suite_clock = time_machine.travel(moment, tick=True)
        _suite_clock.start()


def pytest_unconfigure(config):
    global _suite_clock
    if _suite_clock is not None:
        _suite_clock.stop()
        _suite_clock = None


def pytest_report_header(config):
    moment = _test_clock()
    if moment is not None:
        local = moment.astimezone(ZoneInfo(settings.TIME_ZONE))
        return f"TEST_CLOCK: the suite starts at {local:%Y-%m-%d %H:%M %Z} ({local:%A} in {settings.TIME_ZONE})"
    return None


@pytest.fixture(autouse=True)
def _clear_cache_and_outboxes():
    from django.core.cache import cache

    from notifications import sms

    cache.clear()
    sms.outbox.clear()
    yield
    cache.clear()
    sms.outbox.clear()


@pytest.fixture(autouse=True)
def _default_language():
    """Every test starts in the default language: a request through the locale middleware leaves
    its language active in the thread, and the next test on that worker would read Russian."""
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _media_root(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    yield
    shutil.rmtree(tmp_path / "media", ignore_errors=True)


def make_citizen(fin: str, first: str = "Rəşad", last: str = "Əliyev") -> User:
    user = User.objects.create(username=f"citizen-{fin}", fin=fin, first_name=first, last_name=last)
    user.set_unusable_password()
    user.save()
    return user


def make_account(*, code: str, branch: b.Branch, holder_fin: str, holder_name: str, meters: int = 1,
                 months: int = 14, misread_last: bool = True) -> b.Account:
    """An account with ``meters`` meters and ``months`` monthly invoices up to last month.
    With misread_last the latest invoice bills 200 m³ above the meter's real register."""
    acc = b.Account.objects.create(
        subscriber_code=code, holder_fin=holder_fin, holder_name=holder_name, branch=branch,
        address=f"{branch.region}, Şərifzadə küç., ev 12, mənzil {code[-2:]}", zone=branch.zone,
        category=b.Category.HOUSEHOLD, opened_on=date(2015, 1, 1),
    )
    today = timezone.localdate()
    first_month = date(today.year, today.month, 1)
    ms = [b.Meter.objects.create(account=acc, serial_number=f"SM{code[-6:]}{i}", seal_number=f"PL{code[-5:]}{i}",
                                 installed_on=date(2018, 1, 1)) for i in range(meters)]
    values = [1000 + 300 * i for i in range(meters)]
    prev_day = None
    for k in range(months, 0, -1):
        m = first_month.month - k
        period = date(first_month.year + (m - 1) // 12, (m - 1) % 12 + 1, 1)
        day = period + timedelta(days=14)
        lines, total_cons = [], 0
        for i, meter in enumerate(ms):
            prev = values[i]
            values[i] += 10
            billed = values[i] + (200 if misread_last and k == 1 else 0)
            b.Reading.objects.create(meter=meter, taken_on=day, value=billed)
            lines.append((meter, prev, billed))
            total_cons += billed - prev
        water = Decimal("0.70") * total_cons
        sewer = Decimal("0.30") * total_cons
        inv = b.Invoice.objects.create(
            account=acc, number=f"F{period:%y%m}{code[-6:]}", period=period,
            period_start=(prev_day or day - timedelta(days=30)) + timedelta(days=1), period_end=day,
            issued_on=day + timedelta(days=1), due_on=day + timedelta(days=21), consumption=total_cons,
            water_amount=water.quantize(Decimal("0.01")), sewerage_amount=sewer.quantize(Decimal("0.01")),
            total=(water + sewer).quantize(Decimal("0.01")),
        )
        for meter, prev, billed in lines:
            b.InvoiceLine.objects.create(invoice=inv, meter=meter, previous_reading=prev, current_reading=billed,
                                         consumption=billed - prev)
        prev_day = day
    return acc


@pytest.fixture
def branch(db):
    return b.Branch.objects.create(code="BAK-YAS", name="Yasamal rayon idarəsi", region="Bakı, Yasamal r.",
                                   zone=b.TariffZone.BAKU_AREA)


@pytest.fixture
def other_branch(db):
    return b.Branch.objects.create(code="GNC", name="Gəncə filialı", region="Gəncə", zone=b.TariffZone.OTHER)


@pytest.fixture
def operator(branch):
    user = User.objects.create_user(username="op-yas-1", password="demo-pass-2026", first_name="Leyla",
                                    last_name="Məmmədova")
    StaffAssignment.objects.create(user=user, role=Role.OPERATOR, branch=branch)
    return user


@pytest.fixture
def citizen(db):
    return make_citizen("5ABCD12")


@pytest.fixture
def other_citizen(db):
    return make_citizen("7XYZ9K1", first="Nigar", last="Hüseynova")


@pytest.fixture
def account(branch, citizen):
    return make_account(code="1020304050", branch=branch, holder_fin=citizen.fin, holder_name="Əliyev Rəşad Elşən oğlu")


@pytest.fixture
def account_two_meters(branch, citizen):
    return make_account(code="1020304061", branch=branch, holder_fin=citizen.fin,
                        holder_name="Əliyev Rəşad Elşən oğlu", meters=2)


@pytest.fixture
def foreign_account(branch, other_citizen):
    return make_account(code="1020309999", branch=branch, holder_fin=other_citizen.fin,
                        holder_name="Hüseynova Nigar Vüqar qızı")


def image_bytes(fmt: str = "JPEG", exif: bool = False, size=(64, 48)) -> bytes:
    img = Image.new("RGB", size, (40, 90, 160))
    out = io.BytesIO()
    kwargs = {}
    if exif:
        ex = Image.Exif()
        ex[0x010F] = "PhoneMaker"  # Make
        ex[0x8825] = {2: (40.0, 24.0, 0.0)}  # GPS latitude
        kwargs["exif"] = ex.tobytes()
    img.save(out, format=fmt, **kwargs)
    return out.getvalue()


@pytest.fixture
def jpeg_upload():
    def make(name="sayğac.jpg", exif=True):
        return SimpleUploadedFile(name, image_bytes("JPEG", exif=exif), content_type="image/jpeg")
    return make


def _one_page_pdf() -> bytes:
    import pikepdf

    pdf = pikepdf.new()
    pdf.add_blank_page()
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


PDF_BYTES = _one_page_pdf()  # a real one-page PDF: uploads are rebuilt by qpdf


@pytest.fixture
def photo_limit():
    return settings.PHOTO_MAX_BYTES


# --- Staff and claims (testkit): every state reached through the real services ------------------

@pytest.fixture
def staff_factory(db):
    """``staff_factory(operator=True, branch=branch)``, ``staff_factory(secretary=True)``, ...
    (testkit.factories.StaffFactory)."""
    from testkit.factories import StaffFactory

    return StaffFactory


@pytest.fixture
def manager(branch):
    from testkit.factories import StaffFactory

    return StaffFactory(manager=True, branch=branch, username="mgr-yas", first_name="Mgr-Yas", last_name="")


@pytest.fixture
def inspector(branch):
    from testkit.factories import StaffFactory

    return StaffFactory(inspector=True, branch=branch, username="insp-yas-1", first_name="Elçin", last_name="Quliyev")


@pytest.fixture
def secretary(db):
    from testkit.factories import StaffFactory

    return StaffFactory(secretary=True, username="kom-katib", first_name="Səbinə", last_name="Qasımova")


@pytest.fixture
def member(db):
    from testkit.factories import StaffFactory

    return StaffFactory(member=True, username="kom-uzv-1", first_name="Elçin", last_name="Quliyev")


@pytest.fixture
def claim_factory(branch, citizen, operator):
    """``claim_factory(in_review=True, ...)``: a claim of ``citizen`` (or of ``account``'s
    holder) at ``branch``, routed to ``operator``, brought to its state through the real
    services (testkit.factories.ClaimFactory: its traits and parameters)."""
    from testkit.factories import ClaimFactory

    def make(**kwargs):
        if "account" not in kwargs:
            kwargs.setdefault("citizen", citizen)
        kwargs.setdefault("branch", branch)
        return ClaimFactory(**kwargs)

    return make
