from datetime import date

import pytest

from claims.deadlines import WorkingCalendar, compute_due_on
from claims.models import WorkingDayTransfer
from conftest import baku


@pytest.fixture
def cal():
    return WorkingCalendar(transfers={})


def test_fifteen_working_days_skip_weekends(cal):
    # Monday 2 Nov 2026: 15 working days later would be Monday 23 Nov, but 9 and 10 Nov are
    # holidays (National Flag Day, Victory Day moved from Sunday 8 Nov), so Wednesday 25 Nov.
    assert compute_due_on(registered_on=date(2026, 11, 2), working_days=15, calendar=cal) == date(2026, 11, 25)


def test_holiday_falling_on_weekend_moves_to_next_working_day(cal):
    # Women's Day, Sunday 8 Mar 2026, is observed on Monday 9 Mar.
    assert not cal.is_working_day(date(2026, 3, 9))
    assert cal.add_working_days(date(2026, 3, 6), 1) == date(2026, 3, 10)


def test_novruz_and_ramadan_block(cal):
    # 20-30 Mar 2026 are all days off; filed Thursday 19 Mar, the first working day after is 31 Mar.
    assert cal.add_working_days(date(2026, 3, 19), 1) == date(2026, 3, 31)


def test_registration_day_itself_does_not_count(cal):
    assert cal.add_working_days(date(2026, 11, 25), 1) == date(2026, 11, 26)
    assert cal.add_working_days(date(2026, 11, 27), 1) == date(2026, 11, 30)  # Friday -> Monday


def test_pause_pushes_the_due_date_by_the_working_days_paused(cal):
    base = compute_due_on(registered_on=date(2026, 11, 2), working_days=15, calendar=cal)
    # Paused from Friday 27 Nov to Friday 4 Dec: 30 Nov .. 4 Dec are 5 working days.
    paused = compute_due_on(registered_on=date(2026, 11, 2), working_days=15, calendar=cal,
                            pauses=[(date(2026, 11, 27), date(2026, 12, 4))])
    assert base == date(2026, 11, 25)
    assert paused == date(2026, 12, 2)  # 26, 27, 30 Nov, 1, 2 Dec


def test_open_pause_counts_up_to_today(cal):
    due = compute_due_on(registered_on=date(2026, 11, 2), working_days=15, calendar=cal,
                         pauses=[(date(2026, 11, 20), None)], today=date(2026, 11, 24))
    # Waiting since Friday 20 Nov; by Tuesday 24 Nov two working days (23, 24) are paused.
    assert due == date(2026, 11, 27)


@pytest.mark.parametrize("clock", [baku(2026, 11, 24), baku(2026, 12, 6), baku(2027, 1, 1, 23, 59)],
                         ids=["that-tuesday", "a-sunday-later", "new-years-night"])
def test_the_due_date_depends_on_the_day_given_not_on_the_clock(clock, cal, time_machine):
    time_machine.move_to(clock, tick=False)
    due = compute_due_on(registered_on=date(2026, 11, 2), working_days=15, calendar=cal,
                         pauses=[(date(2026, 11, 20), None)], today=date(2026, 11, 24))
    assert due == date(2026, 11, 27)


@pytest.mark.django_db
def test_cabinet_transfers_entered_by_staff_are_used():
    # A Saturday made a working day and a Monday made a day off by decree.
    WorkingDayTransfer.objects.create(day=date(2026, 12, 5), is_working_day=True, decree="test")
    WorkingDayTransfer.objects.create(day=date(2026, 12, 7), is_working_day=False, decree="test")
    cal = WorkingCalendar()
    assert cal.is_working_day(date(2026, 12, 5))
    assert not cal.is_working_day(date(2026, 12, 7))
    assert cal.add_working_days(date(2026, 12, 4), 2) == date(2026, 12, 8)
