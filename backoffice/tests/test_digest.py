from datetime import date, timedelta

import pytest

from backoffice.services import deadline_digest_queue
from claims.models import Claim, WorkingDayTransfer
from conftest import baku
from notifications.models import Delivery

from .conftest import staff


@pytest.mark.django_db
@pytest.mark.time_machine(baku(2026, 12, 7, 8), tick=False)  # a Monday morning
def test_daily_digest_tells_operator_and_manager_once_a_day(claim, operator, branch, other_branch, time_machine):
    operator.email = "op@example.az"
    operator.save()
    mgr = staff("mgr-yas", "branch_manager", branch)
    mgr.email = "mgr@example.az"
    mgr.save()
    far = staff("mgr-gnc", "branch_manager", other_branch)
    far.email = "gnc@example.az"
    far.save()
    Claim.objects.filter(pk=claim.pk).update(due_on=date(2026, 12, 4))  # last Friday
    assert deadline_digest_queue() == 2
    mails = {d.recipient: d for d in Delivery.objects.filter(event="deadline_digest")}
    assert set(mails) == {"op@example.az", "mgr@example.az"}
    assert claim.number in mails["op@example.az"].body and "1 gecikmiş" in mails["op@example.az"].subject
    assert deadline_digest_queue() == 0  # idempotent within the day
    time_machine.move_to(baku(2026, 12, 7, 23, 59), tick=False)
    assert deadline_digest_queue() == 0
    time_machine.move_to(baku(2026, 12, 8, 0, 1), tick=False)
    assert deadline_digest_queue() == 2  # a new day in Baku: a new digest


@pytest.mark.django_db
@pytest.mark.time_machine(baku(2026, 12, 2), tick=False)  # a Wednesday
def test_no_digest_when_nothing_is_due(claim, operator):
    operator.email = "op@example.az"
    operator.save()
    Claim.objects.filter(pk=claim.pk).update(due_on=date(2027, 1, 4))
    assert deadline_digest_queue() == 0


# "Nearly due" is three working days ahead: weekends, public holidays and the Cabinet's
# transfers count as the calendar says. The clock is set before the claim is filed.
@pytest.mark.django_db
@pytest.mark.parametrize(("last_near", "saturday_worked"), [
    pytest.param(date(2026, 12, 9), False, id="friday-the-weekend-does-not-count",
                 marks=pytest.mark.time_machine(baku(2026, 12, 4), tick=False)),
    pytest.param(date(2026, 12, 8), True, id="friday-a-saturday-worked-by-decree-counts",
                 marks=pytest.mark.time_machine(baku(2026, 12, 4), tick=False)),
    # Thursday 31 Dec and Friday 1 Jan are public holidays, Monday 4 Jan the New Year's moved day.
    pytest.param(date(2027, 1, 6), False, id="tuesday-the-new-year-holidays-do-not-count",
                 marks=pytest.mark.time_machine(baku(2026, 12, 29), tick=False)),
])
def test_nearly_due_counts_three_working_days(last_near, saturday_worked, claim, operator):
    if saturday_worked:
        WorkingDayTransfer.objects.create(day=date(2026, 12, 5), is_working_day=True, decree="test")
    operator.email = "op@example.az"
    operator.save()
    Claim.objects.filter(pk=claim.pk).update(due_on=last_near)
    assert deadline_digest_queue() == 1
    mail = Delivery.objects.get(event="deadline_digest")
    assert "0 gecikmiş, 1 yaxınlaşan" in mail.subject and f"{last_near:%d.%m.%Y}" in mail.body
    mail.delete()
    Claim.objects.filter(pk=claim.pk).update(due_on=last_near + timedelta(days=1))
    assert deadline_digest_queue() == 0
