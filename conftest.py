"""Fixtures shared by every app's tests: a small billing world, citizens and photos."""

import io
import shutil
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from billing import models as b
from identity.models import Role, StaffAssignment, User


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


PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def photo_limit():
    return settings.PHOTO_MAX_BYTES
