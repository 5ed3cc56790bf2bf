"""The local billing gateway: what other apps read from and write to billing."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing.gateway import BillingError, LocalBillingGateway, get_gateway
from billing.models import Adjustment, Invoice, InvoiceLine

from .factories import AccountFactory, InvoiceFactory, MeterFactory, PaymentFactory, ReadingFactory

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def gateway():
    return LocalBillingGateway()


def month(year: int, m: int) -> date:
    return date(year, m, 1)


def test_the_configured_gateway_is_the_local_one():
    assert isinstance(get_gateway(), LocalBillingGateway)


def test_account_by_code_with_meters_and_their_last_reading(gateway):
    account = AccountFactory(subscriber_code="1810000016", holder_fin="5ZK7N2A",
                             holder_name="Əliyev Rəşad Elşən oğlu",
                             address="Yasamal r., Şərifzadə küç., ev 12, mənzil 34")
    kitchen = MeterFactory(account=account, serial_number="SM20000002", seal_number="PL-0000002")
    bathroom = MeterFactory(account=account, serial_number="SM10000001", seal_number="PL-0000001")
    ReadingFactory(meter=kitchen, taken_on=date(2026, 9, 14), value=410)
    ReadingFactory(meter=kitchen, taken_on=date(2026, 10, 15), value=421)
    ReadingFactory(meter=kitchen, taken_on=date(2026, 8, 14), value=400)  # entered out of order
    ReadingFactory(meter=bathroom, taken_on=date(2026, 10, 15), value=77)
    AccountFactory()  # someone else's

    info = gateway.account_by_code("1810000016")

    assert info.holder_fin == "5ZK7N2A"
    assert info.holder_name == "Əliyev Rəşad Elşən oğlu"
    assert info.address == "Yasamal r., Şərifzadə küç., ev 12, mənzil 34"
    assert (info.branch_code, info.branch_name) == ("BAK-YAS", "Yasamal rayon idarəsi")
    assert (info.category, info.zone, info.holder_kind) == ("household", "baku_area", "person")
    assert [(m.serial_number, m.seal_number, m.last_reading, m.last_reading_on) for m in info.meters] == [
        ("SM10000001", "PL-0000001", 77, date(2026, 10, 15)),
        ("SM20000002", "PL-0000002", 421, date(2026, 10, 15)),
    ]


def test_a_meter_without_readings_has_no_last_reading(gateway):
    meter = MeterFactory()
    (info,) = gateway.account_by_code(meter.account.subscriber_code).meters
    assert (info.last_reading, info.last_reading_on) == (None, None)


def test_unknown_code_is_none(gateway):
    AccountFactory(subscriber_code="1810000016")
    assert gateway.account_by_code("1810000024") is None
    assert gateway.account_by_code("") is None


def test_accounts_of_fin_lists_only_that_holders_accounts_by_code(gateway):
    AccountFactory(subscriber_code="3110000019", holder_fin="RGC7GWD")
    AccountFactory(subscriber_code="1810000016", holder_fin="RGC7GWD")
    AccountFactory(subscriber_code="1310000011", holder_fin="4W1AWTW")
    AccountFactory(subscriber_code="1710000017", organisation=True)

    assert [a.subscriber_code for a in gateway.accounts_of_fin("RGC7GWD")] == ["1810000016", "3110000019"]
    assert gateway.accounts_of_fin("ZZZZZZZ") == []


def test_an_organisations_account_has_no_fin(gateway):
    account = AccountFactory(organisation=True)
    info = gateway.account_by_code(account.subscriber_code)
    assert (info.holder_kind, info.holder_fin, info.category) == ("organisation", "", "non_household")


def test_an_empty_fin_holds_no_accounts(gateway):
    AccountFactory(organisation=True)
    assert gateway.accounts_of_fin("") == []


def test_invoices_of_account_newest_first_with_lines(gateway):
    account = AccountFactory()
    meter = MeterFactory(account=account, serial_number="SM12345678", seal_number="PL-7654321")
    for m, (prev, cur) in zip((8, 9, 10), ((100, 110), (110, 123), (123, 131)), strict=True):
        InvoiceFactory(account=account, number=f"F26{m:02d}0000001", period=month(2026, m), meter=meter,
                       previous_reading=prev, current_reading=cur)
    InvoiceFactory()  # another account's

    invoices = gateway.invoices_of_account(account.subscriber_code)

    assert [i.number for i in invoices] == ["F26100000001", "F26090000001", "F26080000001"]
    latest = invoices[0]
    assert latest.subscriber_code == account.subscriber_code
    assert (latest.period, latest.period_start, latest.period_end) == (
        date(2026, 10, 1), date(2026, 9, 16), date(2026, 10, 15))
    assert latest.consumption == 8
    # household Baku: 8 × 0.70 = 5.60 and 8 × 0.30 = 2.40
    assert (latest.water_amount, latest.sewerage_amount, latest.total) == (D("5.60"), D("2.40"), D("8.00"))
    assert [(ln.meter_serial, ln.seal_number, ln.previous_reading, ln.current_reading, ln.consumption, ln.estimated)
            for ln in latest.lines] == [("SM12345678", "PL-7654321", 123, 131, 8, False)]
    assert latest.estimated is False
    assert latest.as_json()["lines"][0]["meter_serial"] == "SM12345678"


def test_invoices_of_account_since(gateway):
    account = AccountFactory()
    for m in (7, 8, 9, 10):
        InvoiceFactory(account=account, period=month(2026, m))

    periods = [i.period for i in gateway.invoices_of_account(account.subscriber_code, since=month(2026, 9))]

    assert periods == [month(2026, 10), month(2026, 9)]
    assert gateway.invoices_of_account("0000000000") == []


def test_invoice_lines_of_an_account_with_two_meters_and_an_estimate(gateway):
    account = AccountFactory()
    first = MeterFactory(account=account, serial_number="SM10000001")
    second = MeterFactory(account=account, serial_number="SM10000002")
    invoice = InvoiceFactory(account=account, meter=first, estimated=True, previous_reading=50, current_reading=58)
    Invoice.objects.filter(pk=invoice.pk).update(consumption=13)
    InvoiceLine.objects.create(invoice=invoice, meter=second, previous_reading=20, current_reading=25,
                               estimated=True, consumption=5)

    info = gateway.invoice(invoice.number)

    assert [ln.meter_serial for ln in info.lines] == ["SM10000001", "SM10000002"]
    assert info.estimated is True
    assert info.consumption == 13


def test_invoice_by_number(gateway):
    invoice = InvoiceFactory(number="F26100000007")
    info = gateway.invoice("F26100000007")
    assert info.number == "F26100000007"
    assert info.subscriber_code == invoice.account.subscriber_code
    assert info.total == invoice.total
    assert gateway.invoice("F00000000000") is None


def test_invoices_of_account_does_the_same_queries_for_few_and_many_invoices(gateway, django_assert_max_num_queries):
    account = AccountFactory()
    meter = MeterFactory(account=account)
    MeterFactory(account=account)
    for m in (1, 2, 3):
        InvoiceFactory(account=account, period=month(2024, m), meter=meter)
    with CaptureQueriesContext(connection) as few:
        gateway.invoices_of_account(account.subscriber_code)

    for m in range(4, 13):
        InvoiceFactory(account=account, period=month(2024, m), meter=meter)
    for m in range(1, 13):
        InvoiceFactory(account=account, period=month(2025, m), meter=meter)
    with django_assert_max_num_queries(len(few.captured_queries)):
        invoices = gateway.invoices_of_account(account.subscriber_code)

    assert len(invoices) == 24
    assert len(few.captured_queries) <= 2


def test_balance_is_invoices_less_payments_plus_adjustments_as_of_a_day(gateway):
    account = AccountFactory()
    InvoiceFactory(account=account, period=month(2026, 8), total=D("12.00"))  # issued 2026-08-16
    InvoiceFactory(account=account, period=month(2026, 9), total=D("95.00"))  # issued 2026-09-16
    InvoiceFactory(account=account, period=month(2026, 10), total=D("10.50"))  # issued 2026-10-16
    PaymentFactory(account=account, paid_on=date(2026, 8, 20), amount=D("12.00"))
    PaymentFactory(account=account, paid_on=date(2026, 9, 30), amount=D("20.00"))
    september = Invoice.objects.get(account=account, period=month(2026, 9))
    Adjustment.objects.create(account=account, invoice=september, amount=D("-71.00"), posted_on=date(2026, 10, 20),
                              reference="claim:2026-000001")
    InvoiceFactory(total=D("500.00"))  # another account's

    assert gateway.balance(account.subscriber_code, as_of=date(2026, 8, 31)) == D("0.00")
    assert gateway.balance(account.subscriber_code, as_of=date(2026, 9, 16)) == D("95.00")
    assert gateway.balance(account.subscriber_code, as_of=date(2026, 10, 16)) == D("85.50")
    # 12 + 95 + 10.50 - 12 - 20 - 71 = 14.50
    assert gateway.balance(account.subscriber_code, as_of=date(2026, 10, 20)) == D("14.50")
    assert gateway.balance(account.subscriber_code) == D("14.50")


def test_balance_of_an_account_without_anything_is_zero_and_unknown_is_refused(gateway):
    account = AccountFactory()
    assert gateway.balance(account.subscriber_code) == D("0.00")
    with pytest.raises(BillingError):
        gateway.balance("0000000000")


def test_post_adjustment_lowers_the_balance_once_per_reference(gateway):
    invoice = InvoiceFactory(total=D("95.00"))
    code = invoice.account.subscriber_code
    kwargs = dict(reference="claim:2026-000123:correction", subscriber_code=code, invoice_number=invoice.number,
                  amount=D("-83.00"), posted_on=date(2026, 11, 20), claim_number="2026-000123",
                  note="Sayğac göstəricisi səhv oxunub")

    first = gateway.post_adjustment(**kwargs)

    assert first.created is True
    assert (first.reference, first.subscriber_code, first.invoice_number) == (kwargs["reference"], code, invoice.number)
    assert first.amount == D("-83.00")
    assert gateway.balance(code) == D("12.00")

    again = gateway.post_adjustment(**kwargs)

    assert again.created is False
    assert again.amount == D("-83.00")
    assert Adjustment.objects.filter(reference=kwargs["reference"]).count() == 1
    assert gateway.balance(code) == D("12.00")


def test_post_adjustment_for_an_unknown_invoice_is_refused(gateway):
    invoice = InvoiceFactory()
    other = InvoiceFactory()
    with pytest.raises(BillingError):
        gateway.post_adjustment(reference="x-1", subscriber_code=invoice.account.subscriber_code,
                                invoice_number=other.number, amount=D("-1.00"), posted_on=date(2026, 11, 20),
                                claim_number="", note="")
    with pytest.raises(BillingError):
        gateway.post_adjustment(reference="x-2", subscriber_code="0000000000", invoice_number=invoice.number,
                                amount=D("-1.00"), posted_on=date(2026, 11, 20), claim_number="", note="")
    assert not Adjustment.objects.exists()


def test_price_uses_the_accounts_category_and_zone(gateway):
    household_other = AccountFactory(branch__code="GNC", branch__name="Gəncə filialı", branch__zone="other")
    organisation = AccountFactory(organisation=True)

    # 10 m³ at 0.60 + 0.30; at 1.00 + 1.00
    priced = gateway.price(household_other.subscriber_code, period_start=date(2025, 3, 16),
                           period_end=date(2025, 4, 15), consumption=10)
    assert (priced.water_amount, priced.sewerage_amount) == (D("6.00"), D("3.00"))
    priced = gateway.price(organisation.subscriber_code, period_start=date(2025, 3, 16),
                           period_end=date(2025, 4, 15), consumption=10)
    assert priced.total == D("20.00")
