"""Deadlines on the Azerbaijani working-day calendar.

Law "On citizens' appeals" (No. 1308-IVQ, 2015), art. 10.1: an appeal is answered within 15
working days, or 30 where extra checking is needed; the clock stops while the applicant is
asked for more information. Working days are Monday to Friday less the public holidays of the
`holidays` package (country AZ, with the moves of holidays falling on weekends) and the
Cabinet's yearly transfers entered by staff (WorkingDayTransfer).

The other periods of the law on this calendar: an appeal outside the body's competence is
forwarded within 3 working days of registration (art. 7.10, ``FORWARD_OUT_WORKING_DAYS``); a
repeat appeal left unconsidered is answered with reasons within 5 working days (art. 8.1.4,
``UNCONSIDERED_WORKING_DAYS``); the waits for requested information extend the period by 30
working days at most (art. 10.2, ``INFO_PAUSE_CAP_WORKING_DAYS``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

import holidays

FORWARD_OUT_WORKING_DAYS = 3  # art. 7.10
UNCONSIDERED_WORKING_DAYS = 5  # art. 8.1.4
INFO_PAUSE_CAP_WORKING_DAYS = 30  # art. 10.2


class WorkingCalendar:
    def __init__(self, transfers: dict[date, bool] | None = None):
        self._transfers = transfers if transfers is not None else _load_transfers()
        self._holidays = holidays.country_holidays("AZ")

    def is_working_day(self, day: date) -> bool:
        if day in self._transfers:
            return self._transfers[day]
        return day.weekday() < 5 and day not in self._holidays

    def add_working_days(self, start: date, n: int) -> date:
        """The n-th working day after ``start`` (``start`` itself does not count)."""
        day = start
        while n > 0:
            day += timedelta(days=1)
            if self.is_working_day(day):
                n -= 1
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in (start, end]: the days a clock running from ``start`` used up by ``end``."""
        count, day = 0, start
        while day < end:
            day += timedelta(days=1)
            if self.is_working_day(day):
                count += 1
        return count


def _load_transfers() -> dict[date, bool]:
    from .models import WorkingDayTransfer

    return dict(WorkingDayTransfer.objects.values_list("day", "is_working_day"))


def compute_due_on(*, registered_on: date, working_days: int, pauses: Iterable[tuple[date, date | None]] = (),
                   today: date | None = None, calendar: WorkingCalendar | None = None,
                   pause_cap: int = INFO_PAUSE_CAP_WORKING_DAYS) -> date:
    """The due date of a claim from its history: ``working_days`` after registration, pushed
    back by every working day spent in a pause (waiting for the citizen), ``pause_cap`` working
    days at most in all (art. 10.2). An open pause (end None) counts up to ``today``."""
    cal = calendar or WorkingCalendar()
    paused = 0
    for start, end in pauses:
        if end is None and today is None:
            raise ValueError("an open pause needs today")
        paused += cal.working_days_between(start, end or today)  # type: ignore[arg-type]
    return cal.add_working_days(registered_on, working_days + min(paused, pause_cap))


def paused_days(*, pauses: Iterable[tuple[date, date]], calendar: WorkingCalendar | None = None) -> int:
    """The working days the ended ``pauses`` used up."""
    cal = calendar or WorkingCalendar()
    return sum(cal.working_days_between(start, end) for start, end in pauses)


def latest_reply_by(*, asked_on: date, used: int, calendar: WorkingCalendar | None = None,
                    cap: int = INFO_PAUSE_CAP_WORKING_DAYS) -> date | None:
    """The latest date a citizen asked on ``asked_on`` may be given to answer, when the claim's
    earlier waits used ``used`` working days of the ``cap`` (None: the cap is used up)."""
    left = cap - used
    if left <= 0:
        return None
    return (calendar or WorkingCalendar()).add_working_days(asked_on, left)


def effective_due_on(*, due_on: date, paused_on: date | None, today: date,
                     calendar: WorkingCalendar | None = None, until: date | None = None) -> date:
    """The due date as of ``today``: ``due_on`` (which counts the pauses that have ended)
    pushed back by the working days of the pause still open since ``paused_on`` (None: the
    clock runs), up to ``until`` at most (the date the citizen was asked to answer by: the
    clock runs again after it, answered or not). A claim waiting for the citizen is therefore
    never overdue before that date."""
    if paused_on is None:
        return due_on
    cal = calendar or WorkingCalendar()
    end = min(today, until) if until is not None else today
    return cal.add_working_days(due_on, cal.working_days_between(paused_on, max(end, paused_on)))


def period_due_on(*, start: date, working_days: int, calendar: WorkingCalendar | None = None) -> date:
    """The last day of a period of ``working_days`` from ``start`` (e.g. the 3 working days to
    forward an appeal outside the utility's competence, from its registration)."""
    return (calendar or WorkingCalendar()).add_working_days(start, working_days)
