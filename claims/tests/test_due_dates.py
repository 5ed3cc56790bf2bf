"""Due dates across pauses, weekends, public holidays and Cabinet transfers: the date the
queue, the digest, the API and the citizen's pages read (Claim.effective_due_on) agrees with
the date settled when the citizen answers."""

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from claims.deadlines import WorkingCalendar, compute_due_on, effective_due_on

DAYS = st.dates(min_value=date(2026, 1, 1), max_value=date(2027, 12, 31))
# Cabinet transfers: some days off become working days and some working days days off.
TRANSFERS = st.dictionaries(DAYS, st.booleans(), max_size=6)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(registered=DAYS, transfers=TRANSFERS, working_days=st.sampled_from([15, 30]),
       pause_after=st.integers(0, 40), pause_length=st.integers(0, 40), look=st.integers(0, 40))
def test_the_due_date_during_a_pause_is_the_one_settled_when_the_citizen_answers(
        registered, transfers, working_days, pause_after, pause_length, look):
    cal = WorkingCalendar(transfers=transfers)
    due = compute_due_on(registered_on=registered, working_days=working_days, calendar=cal)
    paused_on = registered + timedelta(days=pause_after)
    answered_on = paused_on + timedelta(days=pause_length)

    shown_on_answer_day = effective_due_on(due_on=due, paused_on=paused_on, today=answered_on, calendar=cal)
    settled = compute_due_on(registered_on=registered, working_days=working_days,
                             pauses=[(paused_on, answered_on)], calendar=cal)
    assert shown_on_answer_day == settled
    assert cal.is_working_day(settled)

    # While the clock is stopped the date only moves later, and a claim that still had time
    # left when it paused is never overdue.
    today = paused_on + timedelta(days=look)
    shown = effective_due_on(due_on=due, paused_on=paused_on, today=today, calendar=cal)
    later = effective_due_on(due_on=due, paused_on=paused_on, today=today + timedelta(days=1), calendar=cal)
    assert due <= shown <= later
    if due > paused_on:
        assert shown > today


def test_a_holiday_inside_a_pause_does_not_count():
    cal = WorkingCalendar(transfers={})
    # Paused on Tuesday 30.12.2025, answered Friday 02.01.2026: 31.12 is a holiday, 1-2 January
    # are New Year: no working day passed, so the due date does not move.
    due = date(2026, 1, 15)
    assert effective_due_on(due_on=due, paused_on=date(2025, 12, 30), today=date(2026, 1, 2), calendar=cal) == due


def test_a_cabinet_transfer_inside_a_pause_counts():
    saturday = date(2026, 12, 5)
    cal = WorkingCalendar(transfers={saturday: True})  # the Saturday is made a working day
    due = date(2026, 12, 10)
    shown = effective_due_on(due_on=due, paused_on=date(2026, 12, 4), today=date(2026, 12, 6), calendar=cal)
    assert shown == date(2026, 12, 11)  # one working day (the Saturday) passed while waiting


# --- Through the services, with the clock set on purpose ----------------------------------------

import pytest  # noqa: E402
import time_machine  # noqa: E402

from backoffice.selectors import queue_for  # noqa: E402
from claims.services import (  # noqa: E402
    claim_answer_info,
    claim_extend_deadline,
    claim_request_info,
    claim_take,
)
from claims.transitions import ClaimStatus  # noqa: E402
from notifications.models import Delivery  # noqa: E402

from .test_services import _register  # noqa: E402

BAKU = "+04:00"


@pytest.mark.django_db
def test_a_claim_waiting_for_the_citizen_is_not_overdue_and_its_date_moves(citizen, account, operator,
                                                                         jpeg_upload):
    with time_machine.travel(f"2026-11-02T10:00:00{BAKU}", tick=False):  # a Monday
        claim = _register(citizen, account, jpeg=jpeg_upload)
        claim = claim_take(claim=claim, actor=operator)
    registered_due = claim.due_on
    with time_machine.travel(f"2026-11-20T10:00:00{BAKU}", tick=False):  # Friday, 3 working days left
        # The citizen is given until 18 December (art. 10.2: within the 30 working days' cap).
        claim_request_info(claim=claim, actor=operator, question="Sayğacın yeni şəklini göndərin.",
                           reply_by=date(2026, 12, 18))
    # Weeks later (past the original due date, a Saturday): still not overdue, the date moved.
    with time_machine.travel(f"2026-12-12T10:00:00{BAKU}", tick=False):
        claim.refresh_from_db()
        assert claim.status == ClaimStatus.AWAITING_CITIZEN
        assert claim.effective_due_on > registered_due
        assert claim.effective_due_on > date(2026, 12, 12)
        assert claim not in queue_for(operator, due="overdue")
        claim_extend_deadline(claim=claim, actor=operator, reason="Yerində yoxlama lazımdır.")
        claim.refresh_from_db()
        sms = Delivery.objects.get(claim=claim, event="deadline_extended", medium="sms")
        assert claim.effective_due_on.strftime("%d.%m.%Y") in sms.body
    with time_machine.travel(f"2026-12-14T10:00:00{BAKU}", tick=False):  # Monday: the citizen answers
        shown_before = claim.effective_due_on
        claim_answer_info(claim=claim, actor=citizen, text="Şəkil əlavə olundu.")
        claim.refresh_from_db()
        assert claim.status == ClaimStatus.IN_REVIEW and claim.paused_on is None
        assert claim.due_on == shown_before  # the date shown while waiting is the date kept
