"""manage.py seed_demo: realistic, deterministic demo data."""

import hashlib
import re
from collections import Counter, defaultdict
from datetime import date, timedelta
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from billing.demo import luhn_digit
from billing.models import (
    Account,
    Branch,
    Invoice,
    InvoiceLine,
    Meter,
    Payment,
    Reading,
    Tariff,
)
from billing.pricing import TariffRate, price_consumption
from identity.demo import DEMO_PASSWORD
from identity.models import Role, StaffAssignment

pytestmark = pytest.mark.django_db

TODAY = date(2026, 11, 27)  # readings of November are in: 25 reading months, Nov 2024 .. Nov 2026
FIN = re.compile(r"^[0-9A-HJ-NP-Z]{7}$")
User = get_user_model()


def seed(accounts: int = 200, seed: int = 1, **options) -> str:
    out = StringIO()
    call_command("seed_demo", accounts=accounts, seed=seed, today=TODAY, stdout=out, **options)
    return out.getvalue()


def wipe_accounts() -> None:
    """Empty the tables seed_demo fills under the accounts; tariffs, branches and users stay."""
    InvoiceLine.objects.all().delete()
    Invoice.objects.all().delete()
    Reading.objects.all().delete()
    Payment.objects.all().delete()
    Meter.objects.all().delete()
    Account.objects.all().delete()


def digest() -> str:
    h = hashlib.sha256()
    for row in Account.objects.order_by("subscriber_code").values_list(
        "subscriber_code", "holder_fin", "holder_name", "address", "branch__code", "category", "opened_on"
    ):
        h.update(repr(row).encode())
    for model, fields in (
        (Meter, ("serial_number", "seal_number", "installed_on", "account__subscriber_code")),
        (Reading, ("meter__serial_number", "taken_on", "value", "source")),
        (Invoice, ("number", "period_start", "period_end", "issued_on", "consumption", "total")),
        (InvoiceLine, ("invoice__number", "meter__serial_number", "previous_reading", "current_reading", "estimated")),
        (Payment, ("reference", "paid_on", "amount")),
    ):
        for row in model.objects.order_by(*fields).values_list(*fields):
            h.update(repr(row).encode())
    return h.hexdigest()


@pytest.fixture
def seeded():
    return seed()


def test_counts(seeded):
    assert Account.objects.count() == 200
    assert Branch.objects.count() == 19
    meters = Meter.objects.count()
    assert 200 < meters < 240
    assert Reading.objects.count() == meters * 25
    assert Invoice.objects.count() == 200 * 24
    assert InvoiceLine.objects.count() == meters * 24
    assert Payment.objects.count() > 200 * 24 * 0.7
    assert "Loaded 200 accounts" in seeded
    assert re.search(r"in \d+\.\d s", seeded)


def test_identifiers_have_the_documented_formats(seeded):
    for code, fin, kind in Account.objects.values_list("subscriber_code", "holder_fin", "holder_kind"):
        assert re.fullmatch(r"\d{10}", code)
        assert luhn_digit(code[:9]) == code[9]
        if kind == "person":
            assert FIN.match(fin), fin
        else:
            assert fin == ""
    assert all(re.fullmatch(r"SM\d{8}", s) for s in Meter.objects.values_list("serial_number", flat=True))
    assert all(re.fullmatch(r"F\d{11}", n) for n in Invoice.objects.values_list("number", flat=True))


def test_the_mix_of_holders_and_meters(seeded):
    per_fin = Counter(Account.objects.exclude(holder_fin="").values_list("holder_fin", flat=True))
    assert 5 <= sum(1 for n in per_fin.values() if n == 2) <= 40
    assert max(per_fin.values()) == 2
    organisations = Account.objects.filter(holder_kind="organisation")
    assert 1 <= organisations.count() <= 25
    assert set(organisations.values_list("category", flat=True)) == {"non_household"}
    assert all("MMC" in n or "ASC" in n or "QSC" in n for n in organisations.values_list("holder_name", flat=True))
    meters_per_account = Counter(Meter.objects.values_list("account_id", flat=True))
    assert 5 <= sum(1 for n in meters_per_account.values() if n == 2) <= 40
    assert Account.objects.filter(zone="other").exists() and Account.objects.filter(zone="baku_area").exists()
    for account in Account.objects.select_related("branch"):
        assert account.zone == account.branch.zone


def test_household_names_and_addresses_look_azerbaijani(seeded):
    person = Account.objects.filter(holder_kind="person").first()
    assert re.fullmatch(r"\S+ \S+ \S+ (oğlu|qızı)", person.holder_name)
    assert Account.objects.filter(address__contains="mənzil").exists()
    assert Account.objects.filter(address__regex=r"^(\S+ r\.|\S+ ş\.), .+, ev \d+").count() == 200


def test_readings_invoices_and_periods_follow_each_other(seeded):
    account = Account.objects.filter(meters__isnull=False).first()
    invoices = list(account.invoices.order_by("period"))
    assert len(invoices) == 24
    assert invoices[-1].period == date(2026, 11, 1)
    assert invoices[0].period == date(2024, 12, 1)
    for before, after in zip(invoices, invoices[1:], strict=False):
        assert after.period_start == before.period_end + timedelta(days=1)
    for inv in invoices:
        assert inv.period.day == 1
        assert 10 <= inv.period_end.day <= 20 and (inv.period_end.year, inv.period_end.month) == (
            inv.period.year, inv.period.month)
        assert 1 <= (inv.issued_on - inv.period_end).days <= 2
        assert inv.due_on == inv.issued_on + timedelta(days=20)
    days = set(Reading.objects.filter(meter__account=account).values_list("taken_on", flat=True))
    assert {inv.period_end for inv in invoices} <= days


def test_lines_chain_readings_and_totals_are_priced_from_the_lines(seeded):
    rates = defaultdict(list)
    for t in Tariff.objects.all():
        rates[(t.category, t.zone)].append(TariffRate(t.service, t.price, t.valid_from))
    lines = defaultdict(list)
    for line in InvoiceLine.objects.all():
        lines[line.invoice_id].append(line)
    for inv in Invoice.objects.select_related("account"):
        own = lines[inv.pk]
        assert all(ln.consumption == ln.current_reading - ln.previous_reading for ln in own)
        assert inv.consumption == sum(ln.consumption for ln in own)
        priced = price_consumption(rates=rates[(inv.account.category, inv.account.zone)],
                                   period_start=inv.period_start, period_end=inv.period_end,
                                   consumption=inv.consumption)
        assert (inv.water_amount, inv.sewerage_amount, inv.total) == (
            priced.water_amount, priced.sewerage_amount, priced.total)
    # each line starts where the meter's previous line ended
    by_meter = defaultdict(list)
    for line in InvoiceLine.objects.select_related("invoice").order_by("invoice__period"):
        by_meter[line.meter_id].append(line)
    for meter_lines in by_meter.values():
        for before, after in zip(meter_lines, meter_lines[1:], strict=False):
            assert after.previous_reading == before.current_reading


def test_some_invoices_are_estimated_from_an_estimate_reading(seeded):
    estimated = InvoiceLine.objects.filter(estimated=True).select_related("invoice")
    share = estimated.values("invoice").distinct().count() / Invoice.objects.count()
    assert 0.02 < share < 0.09
    line = estimated.first()
    reading = Reading.objects.get(meter=line.meter, taken_on=line.invoice.period_end)
    assert reading.source == Reading.Source.ESTIMATE
    assert reading.value == line.current_reading


def misread_lines(since: date | None = None):
    """Lines that billed a reading above the register: the meter's next real reading is lower.
    (Lines billing nothing while the register catches up are not misreadings themselves.)"""
    found = []
    readings = defaultdict(list)
    for r in Reading.objects.filter(source=Reading.Source.CONTROLLER).order_by("taken_on"):
        readings[r.meter_id].append(r)
    lines = InvoiceLine.objects.select_related("invoice", "meter__account").filter(estimated=False, consumption__gt=0)
    for line in lines:
        if since and line.invoice.period < since:
            continue
        later = [r for r in readings[line.meter_id] if r.taken_on > line.invoice.period_end]
        if later and later[0].value + 25 < line.current_reading:
            found.append(line)
    return found


def test_some_invoices_carry_a_misreading_that_the_next_month_shows(seeded):
    found = misread_lines()
    assert 0.015 < len({ln.invoice_id for ln in found}) / Invoice.objects.count() < 0.08
    line = found[0]
    next_invoice = Invoice.objects.filter(account=line.invoice.account, period__gt=line.invoice.period).order_by(
        "period").first()
    next_line = next_invoice.lines.get(meter=line.meter)
    assert next_line.previous_reading == line.current_reading
    assert next_line.consumption < line.consumption


def test_payments_leave_some_accounts_in_debt(seeded):
    assert not Payment.objects.filter(paid_on__gt=TODAY).exists()
    billed = Counter()
    for account_id, total in Invoice.objects.filter(due_on__lt=TODAY).values_list("account_id", "total"):
        billed[account_id] += total
    for account_id, amount in Payment.objects.values_list("account_id", "amount"):
        billed[account_id] -= amount
    in_debt = sum(1 for v in billed.values() if v > 1)
    assert 0.15 < in_debt / 200 < 0.6


def test_demo_citizens_have_what_a_demo_needs(seeded):
    citizens = list(User.objects.filter(fin__isnull=False))
    assert len(citizens) == 10
    recent = misread_lines(since=date(2025, 12, 1))
    misread_fins = {ln.meter.account.holder_fin for ln in recent}
    two_accounts = two_meters = misread = 0
    for user in citizens:
        assert user.username == f"citizen-{user.fin}"
        assert not user.has_usable_password()
        accounts = list(Account.objects.filter(holder_fin=user.fin))
        assert accounts and all(f"{user.last_name} {user.first_name} {user.patronymic} " in a.holder_name
                                for a in accounts)
        assert user.fin in seeded
        two_accounts += len(accounts) == 2
        two_meters += any(a.meters.count() == 2 for a in accounts)
        misread += user.fin in misread_fins
    assert two_accounts >= 1 and two_meters >= 1 and misread >= 3
    assert "misread F" in seeded


def test_demo_staff_for_every_branch_and_the_commission(seeded):
    yasamal = Branch.objects.get(code="BAK-YAS")
    assert yasamal.name == "Yasamal rayon idarəsi" and yasamal.zone == "baku_area"
    assert Branch.objects.get(code="GNC").zone == "other"
    for branch in Branch.objects.all():
        roles = Counter(StaffAssignment.objects.filter(branch=branch).values_list("role", flat=True))
        assert 1 <= roles[Role.OPERATOR] <= 2
        assert roles[Role.INSPECTOR] == 1 and roles[Role.BRANCH_MANAGER] == 1
    operator = User.objects.get(username="op-yas-1")
    assert operator.check_password(DEMO_PASSWORD) and not operator.is_staff
    assert operator.assignments.get().branch == yasamal
    assert User.objects.get(username="insp-yas").assignments.get().role == Role.INSPECTOR
    assert User.objects.get(username="mgr-yas").assignments.get().role == Role.BRANCH_MANAGER
    for username, role in (("kom-1", Role.COMMISSION_MEMBER), ("kom-2", Role.COMMISSION_MEMBER),
                           ("kom-katib", Role.COMMISSION_SECRETARY), ("admin", Role.ADMINISTRATOR)):
        assignment = User.objects.get(username=username).assignments.get()
        assert (assignment.role, assignment.branch) == (role, None)
    admin = User.objects.get(username="admin")
    assert admin.is_staff and admin.is_superuser and admin.check_password(DEMO_PASSWORD)
    assert "op-yas-1" in seeded and "kom-katib" in seeded


def test_same_seed_same_data_other_seed_other_data(seeded):
    first = digest()
    users, assignments = User.objects.count(), StaffAssignment.objects.count()

    wipe_accounts()
    seed()
    assert digest() == first
    assert (User.objects.count(), StaffAssignment.objects.count()) == (users, assignments)  # nothing twice

    wipe_accounts()
    seed(seed=2)
    assert digest() != first


def test_if_empty_skips_when_accounts_exist(seeded):
    before = digest()
    out = seed(accounts=50, seed=7, if_empty=True)
    assert "already holds 200 accounts" in out
    assert digest() == before


def test_without_if_empty_an_occupied_database_is_refused(seeded):
    with pytest.raises(CommandError, match="already holds 200 accounts"):
        seed(accounts=10)
    assert Account.objects.count() == 200


def test_if_empty_loads_an_empty_database():
    out = seed(accounts=30, if_empty=True)
    assert "Loaded 30 accounts" in out
    assert Account.objects.count() == 30


def test_without_tariffs_nothing_is_loaded():
    Tariff.objects.filter(category="non_household").delete()
    with pytest.raises(CommandError, match="No tariffs"):
        seed(accounts=10)
    assert not Account.objects.exists()
