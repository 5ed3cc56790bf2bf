from datetime import timedelta

import pytest
from django.utils import timezone

from backoffice.services import deadline_digest_queue
from claims.models import Claim
from notifications.models import Delivery

from .conftest import staff


@pytest.mark.django_db
def test_daily_digest_tells_operator_and_manager_once_a_day(claim, operator, branch, other_branch):
    operator.email = "op@example.az"
    operator.save()
    mgr = staff("mgr-yas", "branch_manager", branch)
    mgr.email = "mgr@example.az"
    mgr.save()
    far = staff("mgr-gnc", "branch_manager", other_branch)
    far.email = "gnc@example.az"
    far.save()
    Claim.objects.filter(pk=claim.pk).update(due_on=timezone.localdate() - timedelta(days=1))
    assert deadline_digest_queue() == 2
    mails = {d.recipient: d for d in Delivery.objects.filter(event="deadline_digest")}
    assert set(mails) == {"op@example.az", "mgr@example.az"}
    assert claim.number in mails["op@example.az"].body and "1 gecikmiş" in mails["op@example.az"].subject
    assert deadline_digest_queue() == 0  # idempotent within the day


@pytest.mark.django_db
def test_no_digest_when_nothing_is_due(claim, operator):
    operator.email = "op@example.az"
    operator.save()
    Claim.objects.filter(pk=claim.pk).update(due_on=timezone.localdate() + timedelta(days=30))
    assert deadline_digest_queue() == 0
