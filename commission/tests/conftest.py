"""Fixtures of the commission's tests: commission staff, a claim brought to the commission
through the real services (register, take, propose a correction), a meeting and an item."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.utils import timezone

from billing.gateway import get_gateway
from billing.models import Tariff
from claims.evidence import photo_store
from claims.models import Claim, ReasonTemplate
from claims.services import MeterDeclaration, claim_propose_correction, claim_register, claim_take
from commission.services import agenda_add, meeting_open
from identity.models import Role, StaffAssignment, User
from notifications.models import NotificationTemplate


@pytest.fixture(autouse=True)
def _seed_data(db):
    """The rows of the data migrations this app relies on. A transactional test elsewhere in
    the suite may have flushed them, so load whichever are missing."""
    if not NotificationTemplate.objects.exists():
        importlib.import_module("notifications.migrations.0002_default_templates").load(apps, None)
    if not ReasonTemplate.objects.exists():
        importlib.import_module("claims.migrations.0003_reason_templates").load(apps, None)
    if not Tariff.objects.exists():
        importlib.import_module("billing.migrations.0002_tariffs").seed_tariffs(apps, None)


def make_staff(username: str, *roles: str, first: str = "", last: str = "", branch=None) -> User:
    user = User.objects.create_user(username=username, password="demo-pass-2026", first_name=first, last_name=last)
    for role in roles:
        StaffAssignment.objects.create(user=user, role=role, branch=branch)
    return user


@pytest.fixture
def secretary(db):
    return make_staff("kom-katib", Role.COMMISSION_SECRETARY, first="Səbinə", last="Qasımova")


@pytest.fixture
def member(db):
    return make_staff("kom-uzv-1", Role.COMMISSION_MEMBER, first="Elçin", last="Quliyev")


@pytest.fixture
def member_absent(db):
    return make_staff("kom-uzv-2", Role.COMMISSION_MEMBER, first="Günay", last="Şükürova")


def bring_to_commission(citizen, account, operator, jpeg, *, key="k1", language="az") -> Claim:
    """A claim registered by the citizen, taken by the operator and sent to the commission
    with the meter's real register (the invoice billed 200 m³ too many)."""
    gw = get_gateway()
    acc = gw.account_by_code(account.subscriber_code)
    inv = gw.invoices_of_account(account.subscriber_code)[0]
    meters = []
    for line in inv.lines:
        photo = photo_store(jpeg())
        meters.append(MeterDeclaration(meter_serial=line.meter_serial, seal_number=line.seal_number,
                                       billed_reading=line.current_reading,
                                       declared_reading=line.current_reading - 200, photo_path=photo.path,
                                       photo_content_type=photo.content_type))
    claim = claim_register(
        citizen=citizen, account=acc, invoice=inv, reason=ReasonTemplate.objects.get(code="misread"),
        reason_text="", meters=meters, phone="+994501234567", email="resad@example.az", comment="",
        language=language, login_method="asan_signature", submission_key=key, consent=True,
    )
    claim = claim_take(claim=claim, actor=operator)
    claim_propose_correction(claim=claim, actor=operator,
                             readings={line.meter_serial: line.current_reading - 200 for line in inv.lines},
                             note="Nəzarətçi göstəricini səhv oxuyub; sayğacın şəkli 200 m³ az göstərir.")
    claim.refresh_from_db()
    return claim


@pytest.fixture
def claim(citizen, account, operator, jpeg_upload):
    return bring_to_commission(citizen, account, operator, jpeg_upload)


@pytest.fixture
def meeting(secretary, member):
    return meeting_open(actor=secretary, held_on=timezone.localdate(), protocol_number="K-2026/07",
                        members=[secretary, member])


@pytest.fixture
def item(meeting, secretary, claim):
    return agenda_add(meeting=meeting, actor=secretary, claim=claim)
