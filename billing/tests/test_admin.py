"""The billing admin: every page opens for an administrator; adjustments are read-only."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from billing.models import Adjustment

from .factories import InvoiceFactory, PaymentFactory, ReadingFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def invoice():
    invoice = InvoiceFactory(number="F26100000042")
    ReadingFactory(meter=invoice.lines.get().meter)
    PaymentFactory(account=invoice.account)
    Adjustment.objects.create(account=invoice.account, invoice=invoice, amount=Decimal("-3.00"),
                              posted_on=date(2026, 11, 20), reference="claim:2026-000001")
    return invoice


@pytest.mark.parametrize("model", ["branch", "account", "meter", "tariff", "invoice", "payment", "adjustment"])
def test_changelists_open(admin_client, invoice, model):
    response = admin_client.get(reverse(f"admin:billing_{model}_changelist"))
    assert response.status_code == 200


def test_account_search_by_subscriber_code_and_fin(admin_client, invoice):
    url = reverse("admin:billing_account_changelist")
    account = invoice.account
    assert account.subscriber_code in admin_client.get(url, {"q": account.subscriber_code}).content.decode()
    assert account.subscriber_code in admin_client.get(url, {"q": account.holder_fin}).content.decode()
    assert account.subscriber_code not in admin_client.get(url, {"q": "0000000"}).content.decode()


def test_invoice_page_shows_its_lines(admin_client, invoice):
    response = admin_client.get(reverse("admin:billing_invoice_change", args=[invoice.pk]))
    assert response.status_code == 200
    assert invoice.lines.get().meter.serial_number in response.content.decode()


def test_adjustments_cannot_be_added_changed_or_deleted(admin_client, invoice):
    adjustment = Adjustment.objects.get()
    assert admin_client.get(reverse("admin:billing_adjustment_add")).status_code == 403
    assert admin_client.get(reverse("admin:billing_adjustment_delete", args=[adjustment.pk])).status_code == 403
    response = admin_client.post(reverse("admin:billing_adjustment_change", args=[adjustment.pk]),
                                 {"amount": "-300.00"})
    assert response.status_code == 403
    adjustment.refresh_from_db()
    assert adjustment.amount == Decimal("-3.00")
    assert admin_client.get(reverse("admin:billing_adjustment_change", args=[adjustment.pk])).status_code == 200
