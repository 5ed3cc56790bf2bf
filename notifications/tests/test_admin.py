import pytest
from django.urls import reverse

from audit.models import AuditEntry
from notifications.models import DeliveryStatus, Event, Medium, NotificationTemplate

from .helpers import make_delivery

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, django_user_model):
    admin = django_user_model.objects.create_superuser(username="admin", password="x-admin-pass", email="a@x.az")
    client.force_login(admin)
    client.admin = admin
    return client


def test_retry_action_sends_failed_deliveries_again(staff_client, claim, dummy_tasks):
    failed = make_delivery(claim, status=DeliveryStatus.FAILED, attempts=5, last_error="HTTP 503")
    delivered = make_delivery(claim, status=DeliveryStatus.DELIVERED, attempts=1)

    response = staff_client.post(reverse("admin:notifications_delivery_changelist"), {
        "action": "retry_failed", "_selected_action": [failed.pk, delivered.pk],
    }, follow=True)

    assert response.status_code == 200
    failed.refresh_from_db()
    delivered.refresh_from_db()
    assert (failed.status, failed.attempts) == (DeliveryStatus.CREATED, 0)
    assert delivered.status == DeliveryStatus.DELIVERED
    assert AuditEntry.objects.filter(action="delivery_retried", object_id=str(failed.pk)).count() == 1
    messages = [str(m) for m in response.context["messages"]]
    assert len(messages) == 2


def test_deliveries_are_read_only(staff_client, claim):
    row = make_delivery(claim)
    assert staff_client.get(reverse("admin:notifications_delivery_add")).status_code == 403
    page = staff_client.get(reverse("admin:notifications_delivery_change", args=[row.pk]))
    assert page.status_code == 200
    assert 'name="body"' not in page.content.decode()


def test_template_admin_lists_and_filters(staff_client, default_templates):
    url = reverse("admin:notifications_notificationtemplate_changelist")
    response = staff_client.get(url, {"event": Event.REGISTERED, "medium": Medium.SMS})
    assert response.status_code == 200
    assert response.context["cl"].result_count == 3  # az, en, ru


def test_template_admin_refuses_a_broken_template(staff_client, default_templates):
    template = NotificationTemplate.objects.get(event=Event.WITHDRAWN, medium=Medium.SMS, language="az")
    url = reverse("admin:notifications_notificationtemplate_change", args=[template.pk])
    response = staff_client.post(url, {"event": template.event, "medium": template.medium, "language": "az",
                                       "subject": "", "body": "{% if %}broken"})
    assert response.status_code == 200  # the form again, with the error
    assert response.context["adminform"].form.errors["body"]
    template.refresh_from_db()
    assert template.body != "{% if %}broken"
