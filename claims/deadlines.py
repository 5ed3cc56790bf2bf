"""Deadlines on the Azerbaijani working-day calendar.

Law "On citizens' appeals" (No. 1308-IVQ, 2015), art. 10.1: an appeal is answered within 15
working days, or 30 where extra checking is needed; the clock stops while the applicant is
asked for more information. Working days are Monday to Friday less the public holidays of the
`holidays` package (country AZ, with the moves of holidays falling on weekends) and the
Cabinet's yearly transfers entered by staff (WorkingDayTransfer).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

import holidays


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
                   today: date | None = None, calendar: WorkingCalendar | None = None) -> date:
    """The due date of a claim from its history: ``working_days`` after registration, pushed
    back by every working day spent in a pause (waiting for the citizen). An open pause
    (end None) counts up to ``today``."""
    cal = calendar or WorkingCalendar()
    paused = 0
    for start, end in pauses:
        if end is None and today is None:
            raise ValueError("an open pause needs today")
        paused += cal.working_days_between(start, end or today)  # type: ignore[arg-type]
    return cal.add_working_days(registered_on, working_days + paused)


def effective_due_on(*, due_on: date, paused_on: date | None, today: date,
                     calendar: WorkingCalendar | None = None) -> date:
    """The due date as of ``today``: ``due_on`` (which counts the pauses that have ended)
    pushed back by the working days of the pause still open since ``paused_on`` (None: the
    clock runs). A claim waiting for the citizen is therefore never overdue."""
    if paused_on is None:
        return due_on
    cal = calendar or WorkingCalendar()
    return cal.add_working_days(due_on, cal.working_days_between(paused_on, today))
