"""Fixtures of the inspections tests: inspectors of the branch and of another branch, claims
in review (registered through the real services) and working days to visit on."""

from __future__ import annotations

import importlib
from datetime import date, timedelta

import pytest
from django.apps import apps
from django.utils import timezone

from claims.deadlines import WorkingCalendar
from claims.models import WorkingDayTransfer
from identity.models import Role, StaffAssignment, User
from inspections.models import VisitWindow
from inspections.services import inspection_order
from notifications.models import NotificationTemplate


def staff(username: str, role: str, branch=None, first: str = "", last: str = "") -> User:
    user = User.objects.create_user(username=username, password="demo-pass-2026", first_name=first or username.title(),
                                    last_name=last)
    StaffAssignment.objects.create(user=user, role=role, branch=branch)
    return user


def next_working_day(n: int = 1, start: date | None = None) -> date:
    return WorkingCalendar().add_working_days(start or timezone.localdate(), n)


def next_sunday() -> date:
    today = timezone.localdate()
    return today + timedelta(days=(6 - today.weekday()) or 7)


@pytest.fixture(autouse=True)
def _notification_templates(db):
    """The default templates of notifications' migration 0002 (a transactional test elsewhere
    may have flushed them)."""
    if not NotificationTemplate.objects.exists():
        importlib.import_module("notifications.migrations.0002_default_templates").load(apps, None)


@pytest.fixture
def inspector(branch):
    return staff("insp-yas-1", Role.INSPECTOR, branch, first="Elçin", last="Quliyev")


@pytest.fixture
def second_inspector(branch):
    """Another inspector of the same branch: sees none of the first one's visits."""
    return staff("insp-yas-2", Role.INSPECTOR, branch, first="Tural", last="Həsənov")


@pytest.fixture
def foreign_inspector(other_branch):
    return staff("insp-gnc-1", Role.INSPECTOR, other_branch, first="Samir", last="Kazımov")


@pytest.fixture
def admin_user(db):
    return User.objects.create_superuser(username="admin", password="demo-pass-2026", email="a@example.az")


@pytest.fixture
def visit_day():
    return next_working_day(1)


@pytest.fixture
def cabinet_transfers(db):
    """A Cabinet decree of the yearly kind (the days are made up): Saturday 5 December 2026
    becomes a working day and Monday 7 December a day off. Ask for it before the fixtures that
    pick a visit day."""
    WorkingDayTransfer.objects.create(day=date(2026, 12, 5), is_working_day=True, decree="test: Saturday worked")
    WorkingDayTransfer.objects.create(day=date(2026, 12, 7), is_working_day=False, decree="test: Monday off")


@pytest.fixture
def claim_in_review(claim_factory, account, operator):
    return claim_factory(in_review=True, account=account, operator=operator)


@pytest.fixture
def two_meter_claim(claim_factory, account_two_meters, operator):
    return claim_factory(in_review=True, account=account_two_meters, operator=operator)


@pytest.fixture
def order(operator, inspector, visit_day):
    """Order an inspection of ``claim`` for the inspector on the next working day, morning."""
    def make(claim, *, who=None, day=None, window=VisitWindow.MORNING):
        return inspection_order(claim=claim, actor=operator, inspector=who or inspector, visit_on=day or visit_day,
                                window=window)
    return make


@pytest.fixture
def inspection(claim_in_review, order):
    return order(claim_in_review)
