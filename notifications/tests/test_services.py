from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from audit.models import AuditEntry
from notifications import sms
from notifications.models import Delivery, DeliveryStatus, Event, Medium, NotificationTemplate
from notifications.services import (
    DeliveryNotRetryable,
    deliveries_sweep,
    delivery_retry,
    delivery_send,
    notification_queue,
)
from notifications.sms import sms_segments
from testkit.net import free_port

from .helpers import age, drive, enqueued_delivery_ids, make_delivery

REGISTERED_AZ = (
    "Müraciətiniz qeydiyyata alındı. Xidmətimizdən istifadə etdiyiniz üçün sizə təşəkkür edirik. "
    "Müraciət nömrəniz: {number}"
)

pytestmark = pytest.mark.django_db


def queue(claim, event=Event.REGISTERED, extra=None, *, capture):
    with capture(execute=True), transaction.atomic():
        return notification_queue(claim=claim, event=event, extra=extra)


def by_medium(deliveries):
    return {d.medium: d for d in deliveries}


class TestQueue:
    def test_registration_writes_one_email_and_one_sms_with_the_manuals_message(
        self, claim, dummy_tasks, django_capture_on_commit_callbacks
    ):
        deliveries = queue(claim, capture=django_capture_on_commit_callbacks)

        assert len(deliveries) == 2
        rows = by_medium(Delivery.objects.filter(claim=claim))
        message = REGISTERED_AZ.format(number=claim.number)
        assert rows[Medium.SMS].recipient == "+994501234567"
        assert rows[Medium.SMS].body == message
        assert rows[Medium.SMS].segments == sms_segments(message) == 2
        assert rows[Medium.EMAIL].recipient == claim.email
        assert claim.number in rows[Medium.EMAIL].subject
        assert message in rows[Medium.EMAIL].body
        assert "20.02.2026" in rows[Medium.EMAIL].body  # due date, d.m.Y
        assert f"/claims/{claim.number}/" in rows[Medium.EMAIL].body
        assert "Hörmətli Əli Məmmədov!" in rows[Medium.EMAIL].body
        for row in rows.values():
            assert (row.status, row.language, row.event, row.attempts) == ("created", "az", "registered", 0)
        assert rows[Medium.EMAIL].segments is None
        # Enqueued on commit, one task per row.
        assert sorted(enqueued_delivery_ids(dummy_tasks)) == sorted(r.pk for r in rows.values())
        assert {r.task.queue_name for r in dummy_tasks.results} == {"notifications"}

    @pytest.mark.parametrize(("language", "expected"), [
        ("en", "Your claim has been registered. Thank you for using our service. Your claim number: "),
        ("ru", "Ваше обращение зарегистрировано. Благодарим вас за то, что воспользовались нашей услугой. "
               "Номер вашего обращения: "),
    ])
    def test_in_the_claims_language(self, make_claim, language, expected, django_capture_on_commit_callbacks):
        claim = make_claim(language=language)
        rows = by_medium(queue(claim, capture=django_capture_on_commit_callbacks))
        assert rows[Medium.SMS].body == expected + claim.number
        assert rows[Medium.SMS].language == language
        assert expected + claim.number in rows[Medium.EMAIL].body

    def test_english_sms_is_one_gsm7_segment(self, make_claim, django_capture_on_commit_callbacks):
        rows = by_medium(queue(make_claim(language="en"), capture=django_capture_on_commit_callbacks))
        assert rows[Medium.SMS].segments == 1

    def test_unknown_language_falls_back_to_azerbaijani(self, make_claim, django_capture_on_commit_callbacks):
        claim = make_claim(language="de")
        rows = by_medium(queue(claim, capture=django_capture_on_commit_callbacks))
        assert rows[Medium.SMS].body == REGISTERED_AZ.format(number=claim.number)
        assert rows[Medium.SMS].language == "az"

    def test_missing_template_falls_back_to_azerbaijani(self, make_claim, django_capture_on_commit_callbacks):
        NotificationTemplate.objects.filter(event=Event.REGISTERED, medium=Medium.SMS, language="en").delete()
        claim = make_claim(language="en")
        rows = by_medium(queue(claim, capture=django_capture_on_commit_callbacks))
        assert (rows[Medium.SMS].language, rows[Medium.SMS].body) == ("az", REGISTERED_AZ.format(number=claim.number))
        assert rows[Medium.EMAIL].language == "en"

    def test_forwarded_names_the_organisation(self, claim, settings, django_capture_on_commit_callbacks):
        settings.ORGANISATION = {**settings.ORGANISATION, "name": "“Azərsu” ASC"}
        rows = by_medium(queue(claim, Event.FORWARDED, {"branch": claim.branch},
                               capture=django_capture_on_commit_callbacks))
        assert rows[Medium.SMS].body == (
            f"Müraciətiniz (№ {claim.number}) icra üçün “Azərsu” ASC-nin məsul əməkdaşlarına yönləndirildi."
        )
        assert "Məsul filial: Test filialı" in rows[Medium.EMAIL].body

    def test_event_extras_are_rendered(self, claim, django_capture_on_commit_callbacks):
        rows = by_medium(queue(claim, Event.INSPECTION_SCHEDULED,
                               {"visit_on": date(2026, 3, 5), "window": "09:00–13:00"},
                               capture=django_capture_on_commit_callbacks))
        for row in rows.values():
            assert "05.03.2026" in row.body and "09:00–13:00" in row.body
        assert "Nizami küç. 1" in rows[Medium.EMAIL].body
        rows = by_medium(queue(claim, Event.CLOSED_CORRECTED,
                               {"amount": Decimal("-12.5"), "new_balance": Decimal("3.2")},
                               capture=django_capture_on_commit_callbacks))
        # The correction in words, never a negative amount (claims.outcome).
        assert "Borcunuz 12,50 AZN azaldıldı" in rows[Medium.SMS].body and "3,20 AZN" in rows[Medium.SMS].body
        assert "-12" not in rows[Medium.SMS].body and "-12" not in rows[Medium.EMAIL].body

    def test_text_is_not_html_escaped(self, claim, django_capture_on_commit_callbacks):
        rows = by_medium(queue(claim, Event.INFO_REQUESTED, {"question": "Sayğacın <şəklini> & aktı göndərin"},
                               capture=django_capture_on_commit_callbacks))
        assert "Sayğacın <şəklini> & aktı göndərin" in rows[Medium.EMAIL].body

    def test_nothing_is_written_or_enqueued_when_the_transaction_rolls_back(
        self, claim, dummy_tasks, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            with pytest.raises(RuntimeError), transaction.atomic():
                notification_queue(claim=claim, event=Event.REGISTERED)
                assert Delivery.objects.count() == 2
                raise RuntimeError("the claim's change failed")
        assert Delivery.objects.count() == 0
        assert callbacks == []
        assert dummy_tasks.results == []

    def test_a_broken_template_leaves_a_visible_failed_row_and_does_not_break_the_change(
        self, claim, dummy_tasks, django_capture_on_commit_callbacks
    ):
        NotificationTemplate.objects.filter(event=Event.WITHDRAWN, medium=Medium.SMS, language="az").update(
            body="{% if %}"
        )
        rows = by_medium(queue(claim, Event.WITHDRAWN, capture=django_capture_on_commit_callbacks))
        assert rows[Medium.SMS].status == DeliveryStatus.FAILED
        assert "TemplateSyntaxError" in rows[Medium.SMS].last_error
        assert rows[Medium.EMAIL].status == DeliveryStatus.CREATED
        assert enqueued_delivery_ids(dummy_tasks) == [rows[Medium.EMAIL].pk]

    def test_an_empty_recipient_is_skipped(self, make_claim, django_capture_on_commit_callbacks):
        rows = queue(make_claim(email=""), capture=django_capture_on_commit_callbacks)
        assert [r.medium for r in rows] == [Medium.SMS]


class TestSendEmail:
    def test_email_arrives_at_the_smtp_server(self, claim, smtp_server, settings, django_capture_on_commit_callbacks):
        settings.DEFAULT_FROM_EMAIL = "Azərsu e-xidmət <noreply@e-xidmet.local>"
        email_row = by_medium(queue(claim, capture=django_capture_on_commit_callbacks))[Medium.EMAIL]

        delivery_send(delivery_id=email_row.pk)

        [(mail_from, rcpt_tos, message)] = smtp_server.messages
        assert mail_from == "noreply@e-xidmet.local"
        assert rcpt_tos == [claim.email]
        # Django folds the encoded subject onto a continuation line; the parser keeps its indent.
        assert str(message["Subject"]).strip() == f"Müraciətiniz qeydiyyata alındı — № {claim.number}"
        body = message.get_body(("plain",)).get_content()
        assert REGISTERED_AZ.format(number=claim.number) in body
        assert "Hörmətli Əli Məmmədov!" in body
        email_row.refresh_from_db()
        assert email_row.status == DeliveryStatus.DELIVERED
        assert email_row.attempts == 1
        assert email_row.delivered_at is not None
        assert email_row.provider_reference == message["Message-ID"]

    def test_a_task_that_runs_twice_sends_once(self, claim, smtp_server, django_capture_on_commit_callbacks):
        email_row = by_medium(queue(claim, capture=django_capture_on_commit_callbacks))[Medium.EMAIL]
        delivery_send(delivery_id=email_row.pk)
        delivery_send(delivery_id=email_row.pk)
        assert len(smtp_server.messages) == 1

    def test_smtp_server_down_is_retried_later(self, claim, settings, dummy_tasks, django_capture_on_commit_callbacks):
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", free_port(), 2
        settings.DELIVERY_BACKOFF_BASE = 30
        email_row = by_medium(queue(claim, capture=django_capture_on_commit_callbacks))[Medium.EMAIL]
        dummy_tasks.clear()
        before = timezone.now()

        delivery_send(delivery_id=email_row.pk)

        email_row.refresh_from_db()
        assert email_row.status == DeliveryStatus.CREATED
        assert email_row.attempts == 1
        assert "ConnectionRefusedError" in email_row.last_error
        assert before + timedelta(seconds=30) <= email_row.next_attempt_at <= timezone.now() + timedelta(seconds=30)
        [retry] = dummy_tasks.results
        assert retry.args == [email_row.pk]
        assert retry.task.run_after == email_row.next_attempt_at

    def test_mailbox_refused_for_good_is_failed_at_once(self, claim, smtp_server, settings,
                                                        django_capture_on_commit_callbacks):
        async def refuse(server, session, envelope, address, rcpt_options):
            return "550 5.1.1 No such mailbox"

        smtp_server.handle_RCPT = refuse
        email_row = by_medium(queue(claim, capture=django_capture_on_commit_callbacks))[Medium.EMAIL]
        delivery_send(delivery_id=email_row.pk)
        email_row.refresh_from_db()
        assert email_row.status == DeliveryStatus.FAILED
        assert "550" in email_row.last_error


class TestSendSms:
    def sms_row(self, claim, capture):
        return by_medium(queue(claim, capture=capture))[Medium.SMS]

    def test_sms_reaches_the_gateway(self, make_claim, sms_gateway, django_capture_on_commit_callbacks):
        claim = make_claim(phone="+994551112233")
        row = self.sms_row(claim, django_capture_on_commit_callbacks)

        delivery_send(delivery_id=row.pk)

        [request] = sms_gateway.requests
        assert request["json"] == {"from": "AZERSU", "to": "+994551112233",
                                   "text": REGISTERED_AZ.format(number=claim.number), "reference": f"borc-{row.pk}"}
        assert (request["user"], request["password"]) == (sms_gateway.user, sms_gateway.password)
        row.refresh_from_db()
        assert (row.status, row.attempts, row.provider_reference) == ("delivered", 1, "gw-1")

    def test_gateway_failing_twice_then_accepting_delivers_exactly_once(
        self, claim, sms_gateway, settings, dummy_tasks, django_capture_on_commit_callbacks
    ):
        settings.DELIVERY_BACKOFF_BASE = 30
        settings.DELIVERY_MAX_ATTEMPTS = 5
        sms_gateway.script = [503, 503]
        row = self.sms_row(claim, django_capture_on_commit_callbacks)
        dummy_tasks.clear()

        delivery_send(delivery_id=row.pk)
        row.refresh_from_db()
        assert (row.status, row.attempts) == ("created", 1)
        assert "503" in row.last_error
        first_wait = row.next_attempt_at - row.updated_at
        # Not due yet: a task that runs early sends nothing.
        delivery_send(delivery_id=row.pk)
        assert len(sms_gateway.requests) == 1

        Delivery.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
        delivery_send(delivery_id=row.pk)
        row.refresh_from_db()
        assert (row.status, row.attempts) == ("created", 2)
        second_wait = row.next_attempt_at - row.updated_at

        row = drive(row.pk)

        assert len(sms_gateway.requests) == 3
        assert len(sms_gateway.accepted) == 1
        assert (row.status, row.attempts, row.provider_reference) == ("delivered", 3, "gw-1")
        assert timedelta(seconds=29) < first_wait <= timedelta(seconds=30)  # backoff: 30 s, then 60 s
        assert timedelta(seconds=59) < second_wait <= timedelta(seconds=60)
        # Each retry was enqueued to run when due.
        retries = [r for r in dummy_tasks.results if r.task.name == "deliver_notification"]
        assert len(retries) == 2
        assert all(r.task.run_after is not None for r in retries)

    def test_gateway_always_failing_ends_failed(self, claim, sms_gateway, settings, django_capture_on_commit_callbacks):
        settings.DELIVERY_MAX_ATTEMPTS = 3
        sms_gateway.always = 503
        row = drive(self.sms_row(claim, django_capture_on_commit_callbacks).pk)
        assert (row.status, row.attempts) == ("failed", 3)
        assert "HTTP 503" in row.last_error
        assert row.next_attempt_at is None
        assert len(sms_gateway.requests) == 3

    def test_gateway_refusing_the_message_fails_at_once(self, claim, sms_gateway, dummy_tasks,
                                                        django_capture_on_commit_callbacks):
        sms_gateway.always = 400
        row = self.sms_row(claim, django_capture_on_commit_callbacks)
        dummy_tasks.clear()
        delivery_send(delivery_id=row.pk)
        row.refresh_from_db()
        assert (row.status, row.attempts) == ("failed", 1)
        assert "HTTP 400" in row.last_error
        assert len(sms_gateway.requests) == 1
        assert dummy_tasks.results == []  # no retry

    def test_locmem_backend(self, claim, django_capture_on_commit_callbacks):
        row = self.sms_row(claim, django_capture_on_commit_callbacks)
        delivery_send(delivery_id=row.pk)
        [message] = sms.outbox
        assert (message.to, message.text, message.sender) == (claim.phone, row.body, "AZERSU")


class TestSweep:
    def test_a_stale_sending_row_is_sent_again(self, claim, settings, dummy_tasks):
        settings.DELIVERY_STALE_SECONDS = 300
        row = make_delivery(claim, status=DeliveryStatus.SENDING, attempts=1)
        age(row, 301)

        assert deliveries_sweep() == 1

        row.refresh_from_db()
        assert row.status == DeliveryStatus.CREATED
        assert "stopped while sending" in row.last_error
        assert enqueued_delivery_ids(dummy_tasks) == [row.pk]
        delivery_send(delivery_id=row.pk)
        row.refresh_from_db()
        assert (row.status, row.attempts) == ("delivered", 2)
        assert len(sms.outbox) == 1

    def test_a_sending_row_within_the_limit_is_left_alone(self, claim, settings, dummy_tasks):
        settings.DELIVERY_STALE_SECONDS = 300
        row = make_delivery(claim, status=DeliveryStatus.SENDING, attempts=1)
        age(row, 200)
        assert deliveries_sweep() == 0
        row.refresh_from_db()
        assert row.status == DeliveryStatus.SENDING
        delivery_send(delivery_id=row.pk)  # another worker has it: not sent twice
        assert sms.outbox == []

    def test_a_stale_sending_row_out_of_attempts_fails(self, claim, settings, dummy_tasks):
        settings.DELIVERY_MAX_ATTEMPTS = 3
        row = make_delivery(claim, status=DeliveryStatus.SENDING, attempts=3)
        age(row, settings.DELIVERY_STALE_SECONDS + 1)
        assert deliveries_sweep() == 0
        row.refresh_from_db()
        assert row.status == DeliveryStatus.FAILED

    def test_created_rows_whose_task_was_lost_are_enqueued_again(self, claim, settings, dummy_tasks):
        settings.DELIVERY_STALE_SECONDS = 300
        lost = make_delivery(claim)
        lost_retry = make_delivery(claim, next_attempt_at=timezone.now() - timedelta(minutes=1), attempts=1)
        fresh = make_delivery(claim)  # its task is probably still in the queue
        later = make_delivery(claim, next_attempt_at=timezone.now() + timedelta(minutes=5), attempts=1)
        delivered = make_delivery(claim, status=DeliveryStatus.DELIVERED)
        for row in (lost, lost_retry, later, delivered):
            age(row, 600)

        assert deliveries_sweep() == 2
        assert sorted(enqueued_delivery_ids(dummy_tasks)) == sorted([lost.pk, lost_retry.pk])
        # Re-enqueued rows count as touched: the next sweep does not pile up duplicates.
        assert deliveries_sweep() == 0
        del fresh

    def test_works_in_batches(self, claim, dummy_tasks):
        rows = [make_delivery(claim) for _ in range(5)]
        for row in rows:
            age(row, 3600)
        assert deliveries_sweep(batch_size=2) == 5
        assert sorted(enqueued_delivery_ids(dummy_tasks)) == [r.pk for r in rows]


class TestRetry:
    def test_staff_send_a_failed_delivery_again(self, claim, dummy_tasks, django_capture_on_commit_callbacks,
                                                django_user_model):
        staff = django_user_model.objects.create(username="admin", is_staff=True)
        row = make_delivery(claim, status=DeliveryStatus.FAILED, attempts=5, last_error="HTTP 503")
        with django_capture_on_commit_callbacks(execute=True):
            delivery_retry(delivery_id=row.pk, by=staff)
        row.refresh_from_db()
        assert (row.status, row.attempts, row.next_attempt_at) == ("created", 0, None)
        assert enqueued_delivery_ids(dummy_tasks) == [row.pk]
        entry = AuditEntry.objects.get(action="delivery_retried")
        assert (entry.actor, entry.claim, entry.object_id) == (staff, claim, str(row.pk))
        delivery_send(delivery_id=row.pk)
        row.refresh_from_db()
        assert (row.status, row.attempts) == ("delivered", 1)

    @pytest.mark.parametrize("status", ["created", "sending", "delivered"])
    def test_only_failed_rows(self, claim, status):
        row = make_delivery(claim, status=status)
        with pytest.raises(DeliveryNotRetryable):
            delivery_retry(delivery_id=row.pk, by=None)

    def test_not_a_row_whose_template_failed(self, claim):
        row = make_delivery(claim, status=DeliveryStatus.FAILED, body="")
        with pytest.raises(DeliveryNotRetryable):
            delivery_retry(delivery_id=row.pk, by=None)


def test_a_missing_row_is_ignored(db):
    delivery_send(delivery_id=987654)  # nothing to do, nothing raised


class BrokenSmsBackend(sms.BaseSmsBackend):
    def send(self, *, to, text, sender, reference=""):
        raise ValueError("bug")


def test_an_unexpected_error_is_retried_then_failed(claim, settings):
    settings.DELIVERY_MAX_ATTEMPTS = 2
    settings.SMS_BACKEND = f"{__name__}.BrokenSmsBackend"
    row = drive(make_delivery(claim).pk)
    assert (row.status, row.attempts) == ("failed", 2)
    assert "ValueError: bug" in row.last_error
