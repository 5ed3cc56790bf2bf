"""The appeals law's remaining rules: outside competence (art. 7.10), repeat appeals (art. 8.1.4),
the wait for requested information (art. 10.2), and the consent recorded with each claim."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine
from django.core import mail
from hypothesis import given, settings
from hypothesis import strategies as st

from claims import services
from claims.deadlines import (
    FORWARD_OUT_WORKING_DAYS,
    UNCONSIDERED_WORKING_DAYS,
    WorkingCalendar,
    compute_due_on,
    effective_due_on,
    latest_reply_by,
    period_due_on,
)
from claims.models import Claim, CompetentBody, ConsentRecord, ConsentText, InfoRequest, Referral
from claims.pseudonyms import fin_key
from claims.transitions import ClaimOutcome, ClaimStatus
from core.errors import ServiceError
from notifications.models import Delivery
from testkit.factories import register
from testkit.net import free_port

BAKU = "+04:00"
CAL = WorkingCalendar(transfers={})
pytestmark = pytest.mark.django_db


# --- Deadlines on the working-day calendar -------------------------------------------------------

def test_three_and_five_working_days_step_over_the_november_holidays():
    friday = date(2026, 11, 6)  # 8 (Sunday), 9 and 10 November are days off
    assert period_due_on(start=friday, working_days=FORWARD_OUT_WORKING_DAYS, calendar=CAL) == date(2026, 11, 13)
    assert period_due_on(start=friday, working_days=UNCONSIDERED_WORKING_DAYS, calendar=CAL) == date(2026, 11, 17)


def test_a_cabinet_transfer_moves_the_three_days():
    friday = date(2026, 11, 6)
    cal = WorkingCalendar(transfers={date(2026, 11, 11): False, date(2026, 11, 14): True})  # decree
    assert period_due_on(start=friday, working_days=3, calendar=cal) == date(2026, 11, 14)


def test_the_waits_for_information_extend_the_period_by_30_working_days_at_most():
    registered = date(2026, 11, 2)
    long_pause = [(date(2026, 11, 3), date(2027, 2, 1))]  # far more than 30 working days
    assert compute_due_on(registered_on=registered, working_days=15, pauses=long_pause, calendar=CAL) == \
        CAL.add_working_days(registered, 45)
    assert latest_reply_by(asked_on=date(2026, 11, 6), used=28, calendar=CAL) == date(2026, 11, 12)
    assert latest_reply_by(asked_on=date(2026, 11, 6), used=30, calendar=CAL) is None


DAYS = st.dates(min_value=date(2026, 1, 1), max_value=date(2027, 12, 31))


@settings(max_examples=200, deadline=None)
@given(start=DAYS, n=st.integers(0, 60))
def test_adding_working_days_uses_up_exactly_that_many(start, n):
    due = CAL.add_working_days(start, n)
    assert CAL.working_days_between(start, due) == n
    assert n == 0 or CAL.is_working_day(due)


@settings(max_examples=200, deadline=None)
@given(registered=DAYS, days=st.sampled_from([15, 30]),
       pauses=st.lists(st.tuples(st.integers(0, 40), st.integers(0, 25)), max_size=4))
def test_a_due_date_is_the_period_plus_the_capped_waits(registered, days, pauses):
    spans, start = [], registered
    for gap, length in pauses:
        begin = CAL.add_working_days(start, gap)
        end = CAL.add_working_days(begin, length)
        spans.append((begin, end))
        start = end
    due = compute_due_on(registered_on=registered, working_days=days, pauses=spans, calendar=CAL)
    waited = sum(CAL.working_days_between(a, b) for a, b in spans)
    assert CAL.working_days_between(registered, due) == days + min(waited, 30)
    assert due <= CAL.add_working_days(registered, days + 30)


@settings(max_examples=200, deadline=None)
@given(due=DAYS, paused=DAYS, today=DAYS, until=st.one_of(st.none(), DAYS))
def test_an_open_wait_moves_the_date_until_the_date_asked_for_and_no_further(due, paused, today, until):
    shown = effective_due_on(due_on=due, paused_on=paused, today=today, until=until, calendar=CAL)
    assert shown >= due
    later = effective_due_on(due_on=due, paused_on=paused, today=today + timedelta(days=30), until=until,
                             calendar=CAL)
    assert later >= shown
    if until is not None and today >= until:
        assert later == shown  # past the date asked for, the clock runs again


# --- Outside competence (art. 7.10) -----------------------------------------------------------------

@pytest.fixture
def body(db):
    return CompetentBody.objects.create(name="“Azəristiliktəchizat” ASC", address="Bakı, Bül-bül pr. 60",
                                        email="info@istilik.az")


def test_an_appeal_outside_competence_goes_to_the_body_with_its_evidence_and_the_citizen_is_told(
        claim_factory, operator, body):
    with time_machine.travel(f"2026-11-06T10:00:00{BAKU}", tick=False):  # Friday before the holidays
        claim = claim_factory()
        assert services.forward_out_due_on(claim) == date(2026, 11, 13)
    with time_machine.travel(f"2026-11-11T10:00:00{BAKU}", tick=False):
        claim = services.claim_forward_out(claim=claim, actor=operator, body=body,
                                           note="İstilik haqqının hesablanması ilə bağlıdır.")
    claim.refresh_from_db()
    assert (claim.status, claim.outcome, claim.competent_body) == (ClaimStatus.CLOSED, ClaimOutcome.REDIRECTED, body)
    referral = Referral.objects.get(claim=claim)
    services.referral_send(referral_id=referral.pk)
    referral.refresh_from_db()
    assert referral.status == "delivered"
    letter = mail.outbox[-1]
    assert letter.to == ["info@istilik.az"] and claim.number in letter.subject
    assert "7.10" in letter.body and claim.holder_name in letter.body
    assert [name for name, _content, _type in letter.attachments] == [
        f"{ev.meter_serial}.jpg" for ev in claim.evidence.all()]
    told = Delivery.objects.get(claim=claim, event="closed_redirected", medium="email")
    assert "info@istilik.az" in told.body and "Azəristiliktəchizat" in told.body
    entry = claim.events.last()
    assert entry.kind == "closed_redirected" and entry.public


def test_an_operator_of_another_branch_cannot_forward_it_and_nothing_is_sent(claim_factory, staff_factory,
                                                                              other_branch, body):
    with time_machine.travel(f"2026-11-06T10:00:00{BAKU}", tick=False):
        claim = claim_factory()
    stranger = staff_factory(operator=True, branch=other_branch)
    with pytest.raises(ServiceError):
        services.claim_forward_out(claim=claim, actor=stranger, body=body, note="Aid deyil.")
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.FORWARDED and not Referral.objects.exists()


def test_a_body_staff_retired_cannot_be_picked(claim_factory, operator, body):
    body.active = False
    body.save()
    with time_machine.travel(f"2026-11-06T10:00:00{BAKU}", tick=False):
        claim = claim_factory()
        with pytest.raises(ServiceError) as refused:
            services.claim_forward_out(claim=claim, actor=operator, body=body, note="Aid deyil.")
    assert refused.value.field == "body"
    assert Claim.objects.get(pk=claim.pk).status == ClaimStatus.FORWARDED


# --- Repeat appeals (art. 8.1.4) ---------------------------------------------------------------------

def _answered(citizen, account, operator, *, on: str, key: str) -> Claim:
    with time_machine.travel(f"{on}T10:00:00{BAKU}", tick=False):
        claim = register(citizen, account, key=key)
        services.claim_take(claim=claim, actor=operator)
        return services.claim_close_no_correction(claim=claim, actor=operator, explanation="Göstərici düzgündür.")


def test_a_fourth_appeal_on_the_same_invoice_within_a_year_may_be_left_unconsidered(citizen, account, operator):
    for i, day in enumerate(("2026-02-02", "2026-05-04", "2026-09-01")):
        _answered(citizen, account, operator, on=day, key=f"rep-{i}")
    with time_machine.travel(f"2026-11-06T10:00:00{BAKU}", tick=False):
        claim = register(citizen, account, key="rep-4")
        assert len(services.repeat_answers(claim)) == 3
        with pytest.raises(ServiceError) as refused:
            services.claim_leave_unconsidered(claim=claim, actor=operator, reason="Təkrar.", nothing_new=False)
        assert refused.value.field == "nothing_new"
        services.claim_leave_unconsidered(claim=claim, actor=operator, nothing_new=True,
                                          reason="Eyni faktura üzrə üç dəfə əsaslandırılmış cavab verilib.")
    claim.refresh_from_db()
    assert (claim.status, claim.outcome) == (ClaimStatus.CLOSED, ClaimOutcome.UNCONSIDERED)
    sms = Delivery.objects.get(claim=claim, event="closed_unconsidered", medium="sms")
    assert claim.number in sms.body
    email = Delivery.objects.get(claim=claim, event="closed_unconsidered", medium="email")
    assert "Eyni faktura üzrə üç dəfə" in email.body


def test_answers_older_than_a_year_do_not_make_an_appeal_a_repeat(citizen, account, operator):
    for i, day in enumerate(("2025-10-01", "2026-05-04", "2026-09-01")):
        _answered(citizen, account, operator, on=day, key=f"old-{i}")
    with time_machine.travel(f"2026-11-06T10:00:00{BAKU}", tick=False):
        claim = register(citizen, account, key="old-4")
        with pytest.raises(ServiceError) as refused:
            services.claim_leave_unconsidered(claim=claim, actor=operator, reason="Təkrar.", nothing_new=True)
    assert refused.value.code == "not_repeat"
    assert Claim.objects.get(pk=claim.pk).status == ClaimStatus.FORWARDED


def test_a_repeat_is_recognised_by_the_keyed_hash_once_the_fin_is_gone(citizen):
    assert fin_key(citizen.fin) == fin_key(citizen.fin.lower()) != fin_key("AAAAAAA")
    assert len(fin_key(citizen.fin)) == 64 and citizen.fin not in fin_key(citizen.fin)


# --- Information requests (art. 10.2) ------------------------------------------------------------------

def test_a_date_beyond_the_cap_is_refused_next_to_the_field(claim_factory, operator):
    with time_machine.travel(f"2026-11-06T10:00:00{BAKU}", tick=False):
        claim = claim_factory(in_review=True)
        with pytest.raises(ServiceError) as refused:
            services.claim_request_info(claim=claim, actor=operator, question="Şəkil göndərin.",
                                        reply_by=date(2027, 3, 1))
    assert refused.value.field == "reply_by"
    assert not InfoRequest.objects.filter(claim=claim).exists()


def test_the_citizen_is_reminded_then_the_claim_returns_to_the_operator_on_an_exact_date(
        claim_factory, operator):
    with time_machine.travel(f"2026-11-06T10:00:00{BAKU}", tick=False):  # Friday
        claim = claim_factory(in_review=True)
        due_before = Claim.objects.get(pk=claim.pk).due_on
        services.claim_request_info(claim=claim, actor=operator, question="Sayğacın şəklini göndərin.",
                                    reply_by=date(2026, 11, 16))
        assert services.info_requests_sweep() == {"reminded": 0, "expired": 0}
    with time_machine.travel(f"2026-11-12T09:00:00{BAKU}", tick=False):  # two working days before
        assert services.info_requests_sweep() == {"reminded": 1, "expired": 0}
        assert services.info_requests_sweep() == {"reminded": 0, "expired": 0}  # once
    reminder = Delivery.objects.get(claim=claim, event="info_reminder", medium="sms")
    assert "16.11.2026" in reminder.body
    with time_machine.travel(f"2026-11-16T20:00:00{BAKU}", tick=False):  # the day itself: still waiting
        assert services.info_requests_sweep()["expired"] == 0
    with time_machine.travel(f"2026-11-17T09:00:00{BAKU}", tick=False):
        assert services.info_requests_sweep() == {"reminded": 0, "expired": 1}
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.IN_REVIEW and claim.paused_on is None
    # The wait ran from Friday 6th to Monday 16th: 11 and 12, 13, 16 November (9-10 are holidays).
    assert claim.due_on == CAL.add_working_days(due_before, 4) == services.claim_due_on(claim, settled=True)
    assert Delivery.objects.filter(claim=claim, event="info_expired").count() == 2
    assert claim.events.last().kind == "info_expired"


def test_a_claim_waiting_past_the_date_asked_for_counts_down_again(claim_factory, operator):
    with time_machine.travel(f"2026-11-06T10:00:00{BAKU}", tick=False):
        claim = claim_factory(in_review=True)
        services.claim_request_info(claim=claim, actor=operator, question="Şəkil.", reply_by=date(2026, 11, 16))
    claim.refresh_from_db()
    with time_machine.travel(f"2026-11-16T10:00:00{BAKU}", tick=False):
        on_the_day = claim.effective_due_on
    with time_machine.travel(f"2026-11-25T10:00:00{BAKU}", tick=False):
        assert claim.effective_due_on == on_the_day  # the job has not run, the date stays put


# --- Consent as a record ---------------------------------------------------------------------------------

def test_the_consent_is_recorded_with_the_version_language_purposes_channel_and_method(citizen, account):
    ConsentText.objects.create(version=2, language="en", text="Version two.", purposes=["examine_claim"],
                               published_at="2026-10-01T00:00:00Z")
    with time_machine.travel(f"2026-11-06T10:00:00{BAKU}", tick=False):
        by_channel = register(citizen, account, key="c-1", channel="egov", language="en")
    record = ConsentRecord.objects.get(claim=by_channel)
    assert (record.text.version, record.text.language, record.purposes) == (2, "en", ["examine_claim"])
    assert (record.channel, record.method, record.citizen) == ("egov", "assertion", citizen)
    # A newer version later does not change what the claim was filed under.
    ConsentText.objects.create(version=3, language="en", text="Version three.", purposes=["examine_claim"],
                               published_at="2026-11-10T00:00:00Z")
    record.refresh_from_db()
    assert record.text.version == 2


def test_a_letter_the_mail_relay_cannot_take_is_retried_not_lost(claim_factory, operator, body, settings):
    port = free_port()  # nobody listens: the relay is down
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 2
    with time_machine.travel(f"2026-11-06T10:00:00{BAKU}", tick=False):
        claim = claim_factory()
        services.claim_forward_out(claim=claim, actor=operator, body=body, note="Aid deyil.")
        referral = Referral.objects.get(claim=claim)
        services.referral_send(referral_id=referral.pk)
    referral.refresh_from_db()
    assert referral.status != "delivered" and referral.attempts == 1 and referral.next_attempt_at is not None
    assert referral.last_error
    assert Claim.objects.get(pk=claim.pk).status == ClaimStatus.CLOSED  # the claim's move stands


def test_a_letter_to_a_body_is_retried_for_72_hours_then_failed(claim_factory, operator, body, settings):
    """By default no cap on attempts: a relay down for a day is outlasted; at 72 hours the
    letter is failed, for staff to send again."""
    port = free_port()  # nobody listens: the relay is down
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 2
    with time_machine.travel(f"2026-11-06T10:00:00{BAKU}", tick=False) as clock:
        claim = claim_factory()
        services.claim_forward_out(claim=claim, actor=operator, body=body, note="Aid deyil.")
        referral = Referral.objects.get(claim=claim)
        horizon = referral.created_at + timedelta(hours=72)
        while True:
            services.referral_send(referral_id=referral.pk)
            referral.refresh_from_db()
            if referral.status != "created":
                break
            clock.move_to(referral.next_attempt_at)
        assert referral.status == "failed"
        assert referral.attempts > 8  # the old limit
        assert Referral.objects.get(pk=referral.pk).updated_at >= horizon
