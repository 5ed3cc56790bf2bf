"""``manage.py billing_import`` of the billing system's CSV export (docs/billing-import.md): a
seed export loads and loads again without a change, a delta updates, and malformed files give
``file:line: column: reason`` and load nothing. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from billing import models as b
from billing.exchange import SPECS, ImportFailed, import_directory
from billing.gateway import LocalBillingGateway

pytestmark = pytest.mark.django_db

TODAY = date(2026, 11, 20)


def counts() -> dict[str, int]:
    return {m.__name__: m.objects.count() for m in (b.Branch, b.Account, b.Meter, b.Reading, b.Invoice,
                                                    b.InvoiceLine, b.Payment)}


def wipe_accounts() -> None:
    b.Payment.objects.all().delete()
    b.InvoiceLine.objects.all().delete()
    b.Invoice.objects.all().delete()
    b.Reading.objects.all().delete()
    b.Meter.objects.all().delete()
    b.Account.objects.all().delete()


@pytest.fixture
def seed_export(tmp_path: Path) -> Path:
    out = tmp_path / "export"
    call_command("seed_demo", accounts=25, seed=3, today=TODAY, export=out, stdout=StringIO())
    return out


def write(directory: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_bytes(text.encode(encoding))
    return path


def run_import(directory: Path) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("billing_import", str(directory), "--no-progress", stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def failed_import(directory: Path) -> list[str]:
    err = StringIO()
    with pytest.raises(CommandError, match="nothing was loaded"):
        call_command("billing_import", str(directory), "--no-progress", stdout=StringIO(), stderr=err)
    return err.getvalue().splitlines()


# --- A seed export --------------------------------------------------------------------------------

def test_the_seed_export_loads_into_an_empty_billing_with_the_same_balances(seed_export):
    before = counts()
    codes = list(b.Account.objects.values_list("subscriber_code", flat=True))
    gw = LocalBillingGateway()
    balances = {c: gw.balance(c) for c in codes}
    newest = {c: gw.invoices_of_account(c)[0] for c in codes[:5]}
    assert sorted(p.name for p in seed_export.iterdir()) == sorted(s.filename for s in SPECS)

    wipe_accounts()
    out, _ = run_import(seed_export)

    assert counts() == before
    assert {c: gw.balance(c) for c in codes} == balances
    assert {c: gw.invoices_of_account(c)[0] for c in codes[:5]} == newest
    assert f"accounts.csv: {before['Account']} rows, {before['Account']} new, 0 updated, 0 unchanged" in out


def test_loading_the_same_files_again_changes_nothing(seed_export):
    before = counts()
    out, _ = run_import(seed_export)
    assert counts() == before
    assert f"invoices.csv: {before['Invoice']} rows, 0 new, 0 updated, {before['Invoice']} unchanged" in out


def test_a_daily_delta_updates_and_adds_never_duplicates(seed_export, tmp_path):
    account = b.Account.objects.order_by("pk").first()
    meter = account.meters.first()
    payment = b.Payment.objects.filter(account=account).order_by("pk").first()
    delta = tmp_path / "delta"
    write(delta, "accounts.csv", "subscriber_code;holder_kind;holder_fin;holder_name;address;branch_code;category;"
          f"tariff_zone;opened_on\n{account.subscriber_code};{account.holder_kind};{account.holder_fin};"
          f"{account.holder_name};Yeni ünvan, ev 5;{account.branch.code};{account.category};{account.zone};"
          f"{account.opened_on:%d.%m.%Y}\n")
    write(delta, "readings.csv", f"serial_number;taken_on;value;source\n{meter.serial_number};2026-11-21;99999;"
          "controller\n")
    write(delta, "payments.csv", f"reference;subscriber_code;paid_on;amount\n{payment.reference};"
          f"{account.subscriber_code};{payment.paid_on};{payment.amount + 1}\n"
          f"DELTA-1;{account.subscriber_code};21.11.2026;10,50\n")
    before = counts()

    out, _ = run_import(delta)

    after = counts()
    assert after == before | {"Reading": before["Reading"] + 1, "Payment": before["Payment"] + 1}
    account.refresh_from_db()
    assert account.address == "Yeni ünvan, ev 5"
    payment.refresh_from_db()
    assert b.Payment.objects.get(reference="DELTA-1").amount == Decimal("10.50")
    assert "payments.csv: 2 rows, 1 new, 1 updated, 0 unchanged" in out
    assert "accounts.csv: 1 rows, 0 new, 1 updated, 0 unchanged" in out
    assert "readings.csv: 1 rows, 1 new, 0 updated, 0 unchanged" in out
    run_import(delta)  # the same delta again: nothing more
    assert counts() == after


def test_a_windows_1254_export_with_commas_and_day_first_dates(tmp_path, branch):
    files = tmp_path / "cp1254"
    write(files, "accounts.csv", "subscriber_code;holder_kind;holder_fin;holder_name;address;branch_code;category;"
          f"tariff_zone;opened_on\n5550001;person;5ABCD12;Şükürov İlqar Çingiz oğlu;Gəncə ş., Atatürk pr., ev 3;"
          f"{branch.code};household;other;01.02.2015\n".replace("ə", "ä"), "cp1254")
    write(files, "invoices.csv", "number;subscriber_code;period;period_start;period_end;issued_on;due_on;"
          "consumption;water_amount;sewerage_amount;total\n"
          "F1;5550001;01.10.2026;16.09.2026;15.10.2026;16.10.2026;05.11.2026;12;7,20;3,60;10,80\n", "cp1254")
    run_import(files)
    account = b.Account.objects.get(subscriber_code="5550001")
    assert account.holder_name == "Şükürov İlqar Çingiz oğlu"
    assert account.opened_on == date(2015, 2, 1)
    invoice = b.Invoice.objects.get(number="F1")
    assert (invoice.total, invoice.period) == (Decimal("10.80"), date(2026, 10, 1))


# --- Malformed files ------------------------------------------------------------------------------

ACCOUNTS_HEADER = ("subscriber_code;holder_kind;holder_fin;holder_name;address;branch_code;category;tariff_zone;"
                   "opened_on\n")


def account_row(code: str, branch: b.Branch, opened: str = "2015-01-01") -> str:
    return f"{code};person;5ABCD12;Əliyev Rəşad;Bakı, ev 1;{branch.code};household;baku_area;{opened}\n"


def test_wrong_columns_are_reported_on_the_header_line(tmp_path, branch):
    files = tmp_path / "bad"
    write(files, "accounts.csv", "subscriber_code;holder_kind;name;address\n1;person;X;Y\n")
    lines = failed_import(files)
    assert lines[0].startswith("accounts.csv:1: missing column(s) holder_fin, holder_name, branch_code")
    assert "unknown column(s) name" in lines[0]
    assert not b.Account.objects.exists()


def test_bad_dates_bad_amounts_and_duplicates_are_reported_by_line_and_nothing_is_loaded(tmp_path, branch):
    files = tmp_path / "bad"
    write(files, "accounts.csv", ACCOUNTS_HEADER + account_row("7000001", branch) + account_row("7000002", branch)
          + account_row("7000003", branch, opened="31.02.2015") + account_row("7000001", branch))
    write(files, "payments.csv", "reference;subscriber_code;paid_on;amount\nP-1;7000001;2026-11-01;12.5.0\n"
          "P-2;7000002;2026-11-01;ten\nP-3;7000002;2026-11-01;4,20\n")
    before = counts()
    lines = failed_import(files)
    assert lines == [
        "accounts.csv:4: opened_on: not a date (YYYY-MM-DD or DD.MM.YYYY): '31.02.2015'",
        "accounts.csv:5: subscriber_code: duplicate of line 2",
        "payments.csv:2: amount: not an amount (e.g. 12.40 or 12,40): '12.5.0'",
        "payments.csv:3: amount: not an amount (e.g. 12.40 or 12,40): 'ten'",
    ]
    assert counts() == before  # the good rows of the good lines were not loaded either


def test_unknown_accounts_meters_and_invoices_are_reported_and_nothing_is_loaded(tmp_path, branch, account):
    files = tmp_path / "bad"
    write(files, "accounts.csv", ACCOUNTS_HEADER + account_row("7000001", branch))
    write(files, "meters.csv", "serial_number;subscriber_code;seal_number;installed_on;removed_on\n"
          "M-1;7000001;PL-1;2020-01-01;\nM-2;9999999;PL-2;2020-01-01;\n")
    write(files, "readings.csv", "serial_number;taken_on;value;source\nM-1;2026-01-01;10;controller\n"
          "M-404;2026-01-01;10;controller\n")
    write(files, "invoice_lines.csv", "invoice_number;serial_number;previous_reading;current_reading;estimated;"
          "consumption\nNOSUCH;M-1;0;10;0;10\n")
    existing = account.invoices.order_by("-period").first()
    write(files, "invoices.csv", "number;subscriber_code;period;period_start;period_end;issued_on;due_on;"
          "consumption;water_amount;sewerage_amount;total\n"
          f"NEW-1;{account.subscriber_code};{existing.period};2026-01-01;2026-01-31;2026-02-01;2026-02-20;10;"
          "7.00;3.00;10.00\n")
    before = counts()
    lines = failed_import(files)
    assert lines == [
        "meters.csv:3: subscriber_code: unknown account 9999999",
        "readings.csv:3: serial_number: unknown meter M-404",
        f"invoices.csv:2: period: the account already has invoice {existing.number} for this month",
        "invoice_lines.csv:2: invoice_number: unknown invoice NOSUCH",
    ]
    assert counts() == before


def test_a_removal_before_the_installation_and_a_wrong_total_are_refused(tmp_path, account):
    files = tmp_path / "bad"
    write(files, "meters.csv", "serial_number;subscriber_code;seal_number;installed_on;removed_on\n"
          f"M-9;{account.subscriber_code};PL-9;2020-01-01;2019-12-31\n")
    write(files, "invoices.csv", "number;subscriber_code;period;period_start;period_end;issued_on;due_on;"
          "consumption;water_amount;sewerage_amount;total\n"
          f"NEW-9;{account.subscriber_code};2030-01-01;2029-12-16;2030-01-15;2030-01-16;2030-02-05;10;7.00;3.00;"
          "11.00\n")
    assert failed_import(files) == ["meters.csv:2: removed_on: before installed_on",
                                    "invoices.csv:2: total: not water_amount + sewerage_amount"]


def test_an_empty_directory_is_refused(tmp_path):
    with pytest.raises(ImportFailed, match="nothing was loaded") as failed:
        import_directory(tmp_path)
    assert "none of branches.csv, accounts.csv" in failed.value.problems[0]


# --- The checks in SQL (PostgreSQL) and in Python agree -------------------------------------------

def table_rows() -> dict[str, list[tuple[object, ...]]]:
    return {
        "accounts": sorted(b.Account.objects.values_list(
            "subscriber_code", "holder_kind", "holder_fin", "holder_name", "address", "branch__code", "category",
            "zone", "opened_on")),
        "meters": sorted(b.Meter.objects.values_list("serial_number", "account__subscriber_code", "seal_number",
                                                     "installed_on", "removed_on")),
        "readings": sorted(b.Reading.objects.values_list("meter__serial_number", "taken_on", "value", "source")),
        "invoices": sorted(b.Invoice.objects.values_list(
            "number", "account__subscriber_code", "period", "period_start", "period_end", "issued_on", "due_on",
            "consumption", "water_amount", "sewerage_amount", "total")),
        "lines": sorted(b.InvoiceLine.objects.values_list("invoice__number", "meter__serial_number",
                                                          "previous_reading", "current_reading", "estimated",
                                                          "consumption")),
        "payments": sorted(b.Payment.objects.values_list("reference", "account__subscriber_code", "paid_on",
                                                         "amount")),
    }


def test_the_sql_checks_load_the_same_values_as_the_python_parsers(tmp_path, branch, monkeypatch):
    """Spaces around and inside values, day-first and one-digit dates, a leap day, commas and
    spaces in amounts, lower-case FINs and flags: the rows the files load on PostgreSQL (checked
    in SQL) are the rows the Python parsers give. A file the SQL does not take whole (a basic ISO
    date only Python reads) is read in Python, and loads too."""
    from billing import exchange

    files = tmp_path / "tricky"
    write(files, "accounts.csv", ACCOUNTS_HEADER
          + f" 7100001 ;person; 5abcd12 ;  Əliyev\t Rəşad  ;Bakı,  ev 1;{branch.code};household; other ;1.2.2015\n"
          + f"7100002;organisation;;\u00a0Su  MMC;Bakı, ev 2 ;{branch.code};non_household;baku_area;29.02.2016\n")
    write(files, "meters.csv", "serial_number;subscriber_code;seal_number;installed_on;removed_on\n"
          "M-1;7100001;PL-1;2020-01-01;\nM-2;7100002; PL-2 ;2016-03-01;2024-02-29\n")
    write(files, "readings.csv", "serial_number;taken_on;value;source\nM-1;20260101;007;controller\n"
          "M-2;2016-03-01;0;inspection\n")
    write(files, "invoices.csv", "number;subscriber_code;period;period_start;period_end;issued_on;due_on;"
          "consumption;water_amount;sewerage_amount;total\n"
          "F-1;7100001;01.10.2026;16.09.2026;15.10.2026;2026-10-16;5.11.2026;12;1 000,50;234;1234.50\n"
          "F-2;7100002;2026-10-01;2026-09-16;2026-10-15;2026-10-16;2026-11-05;0;-3;0,5;-2.5\n")
    write(files, "invoice_lines.csv", "invoice_number;serial_number;previous_reading;current_reading;estimated;"
          "consumption\nF-1;M-1;0;12;Yes;12\nF-2;M-2;5;5;;0\n")
    write(files, "payments.csv", "reference;subscriber_code;paid_on;amount\nP-1;7100001;2026-11-01;12,4\n"
                                 "P-2;7100002;01.11.2026; -3 \n")
    calls = quick_ways(monkeypatch, "_copy_checked")
    run_import(files)
    loaded = table_rows()
    assert loaded["accounts"][0][2:5] == ("5ABCD12", "Əliyev Rəşad", "Bakı, ev 1")
    assert loaded["accounts"][1][3] == "Su MMC"
    assert loaded["invoices"][0][8:] == (Decimal("1000.50"), Decimal("234.00"), Decimal("1234.50"))
    assert loaded["readings"][0][1:3] == (date(2026, 1, 1), 7)
    if connection_vendor() == "postgresql":
        assert taken(calls) == ["accounts", "meters", "invoices", "invoice_lines", "payments"]  # readings: Python

    wipe_accounts()
    monkeypatch.setattr(exchange, "_copy_checked", lambda spec, ready: None)
    run_import(files)
    assert table_rows() == loaded


def connection_vendor() -> str:
    from django.db import connection

    return connection.vendor


def quick_ways(monkeypatch: pytest.MonkeyPatch, *steps: str) -> list[tuple[str, str, bool]]:
    """Record the calls of the quick way's ``steps`` (``_copy_checked``, ``_copy_direct``,
    ``_copy_converted``): (file, step, whether it took the file whole)."""
    from billing import exchange

    calls: list[tuple[str, str, bool]] = []

    def spying(step: str) -> Any:
        wrapped = getattr(exchange, step)

        def spy(spec, ready):  # noqa: ANN001, ANN202 - the wrapped function's
            try:
                rows = wrapped(spec, ready)
            except Exception:
                calls.append((spec.name, step, False))
                raise
            calls.append((spec.name, step, rows is not None))
            return rows
        return spy

    for step in steps:
        monkeypatch.setattr(exchange, step, spying(step))
    return calls


def taken(calls: list[tuple[str, str, bool]]) -> list[str]:
    return [name for name, _step, whole in calls if whole]


def test_a_comma_separated_file_in_quotes_and_a_day_that_does_not_exist(tmp_path, branch):
    files = tmp_path / "quoted"
    write(files, "accounts.csv", ACCOUNTS_HEADER.replace(";", ",")
          + f'7100003,person,5ABCD12,"Əliyev, Rəşad","Bakı, ev 1",{branch.code},household,other,2015-01-01\n')
    run_import(files)
    assert b.Account.objects.get(subscriber_code="7100003").holder_name == "Əliyev, Rəşad"
    write(files, "accounts.csv", ACCOUNTS_HEADER + account_row("7100004", branch, opened="29.02.2015"))
    assert failed_import(files) == ["accounts.csv:2: opened_on: not a date (YYYY-MM-DD or DD.MM.YYYY): '29.02.2015'"]
    write(files, "accounts.csv", ACCOUNTS_HEADER + account_row("7100005", branch) + "7100006;person;5ABCD12\n")
    assert failed_import(files) == ["accounts.csv:3: 3 fields, the header has 9"]


# --- The quick way on PostgreSQL: a plain file COPYed as it is ------------------------------------

def test_a_plain_export_loads_the_rows_the_python_parsers_give(seed_export, monkeypatch):
    """The seed export (ISO days, points before the qaepiks, no spaces around values) is COPYed
    straight into the typed staging tables on PostgreSQL; what it loads is what the files give
    when every row is read in Python."""
    from billing import exchange

    calls = quick_ways(monkeypatch, "_copy_direct")
    wipe_accounts()
    run_import(seed_export)
    loaded = table_rows()
    if connection_vendor() == "postgresql":
        assert taken(calls) == [s.name for s in SPECS]

    wipe_accounts()
    monkeypatch.setattr(exchange, "_copy_checked", lambda spec, ready: None)
    run_import(seed_export)
    assert table_rows() == loaded
    assert sum(len(rows) for rows in loaded.values()) > 1000


def test_what_only_the_database_sees_in_a_plain_file_is_reported_by_line(tmp_path, branch, monkeypatch):
    """A day that does not exist, year 0, a name too long and a duplicate in files whose every
    value has the plain form: the COPY fails on them, the files are read in Python, each problem
    is reported on its line and nothing is loaded."""
    calls = quick_ways(monkeypatch, "_copy_direct")
    files = tmp_path / "plain"
    long_name = "Ə" * 201
    write(files, "accounts.csv", ACCOUNTS_HEADER + account_row("7000001", branch)
          + account_row("7000002", branch, opened="2015-02-29")
          + account_row("7000003", branch).replace("Əliyev Rəşad", long_name)
          + account_row("7000001", branch))
    write(files, "readings.csv", "serial_number;taken_on;value;source\nM-1;0000-01-01;5;controller\n")
    before = counts()
    assert failed_import(files) == [
        "accounts.csv:3: opened_on: not a date (YYYY-MM-DD or DD.MM.YYYY): '2015-02-29'",
        "accounts.csv:4: holder_name: longer than 200 characters",
        "accounts.csv:5: subscriber_code: duplicate of line 2",
        "readings.csv:2: taken_on: not a date (YYYY-MM-DD or DD.MM.YYYY): '0000-01-01'",
    ]
    assert counts() == before
    if connection_vendor() == "postgresql":
        assert calls == [("accounts", "_copy_direct", False), ("readings", "_copy_direct", False)]


def foreign_keys() -> list[tuple[str, str, str]]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
                       "WHERE contype = 'f' AND conrelid::regclass::text LIKE 'billing_%%' ORDER BY 1, 2")
        return cursor.fetchall()


def test_a_first_load_keeps_every_foreign_key_and_it_refuses_an_orphan(seed_export):
    """A load into empty tables takes their foreign keys off for the merge and puts them back,
    checked, in the same transaction."""
    from django.db import IntegrityError, connection, transaction

    if connection.vendor != "postgresql":
        pytest.skip("the foreign keys are taken off on PostgreSQL only")
    keys = foreign_keys()
    assert len(keys) >= 7
    wipe_accounts()
    run_import(seed_export)
    assert foreign_keys() == keys
    meter = b.Meter.objects.order_by("pk").last()
    with pytest.raises(IntegrityError), transaction.atomic():
        b.Reading.objects.create(meter_id=meter.pk + 1000, taken_on=TODAY, value=1, source="controller")
        connection.check_constraints()


def test_a_long_load_shows_its_progress_file_by_file_then_the_merge(seed_export, capsys):
    wipe_accounts()
    call_command("billing_import", str(seed_export), stdout=StringIO())
    shown = capsys.readouterr().err
    for spec in SPECS:
        assert f"checking {spec.filename}" in shown
    assert "loading into the tables" in shown
    assert "rows" in shown


def test_a_windows_export_with_crlf_line_ends_loads_the_quick_way(tmp_path, branch, monkeypatch):
    calls = quick_ways(monkeypatch, "_copy_direct")
    files = tmp_path / "crlf"
    text = ACCOUNTS_HEADER + account_row("7200001", branch).replace("Əliyev Rəşad", "Şükürov İlqar")
    write(files, "accounts.csv", text.replace("\n", "\r\n"), "cp1254")
    out, _ = run_import(files)
    assert "accounts.csv: 1 rows, 1 new" in out
    assert b.Account.objects.get(subscriber_code="7200001").holder_name == "Şükürov İlqar"
    if connection_vendor() == "postgresql":
        assert taken(calls) == ["accounts"]


def test_quoted_fields_take_the_quick_way_and_load_what_python_reads(tmp_path, branch, monkeypatch):
    """Fields in quotes (RFC 4180: the separator and doubled quotes inside), plain and in the
    other forms: COPY reads them as the csv module does."""
    from billing import exchange

    calls = quick_ways(monkeypatch, "_copy_direct", "_copy_converted")

    files = tmp_path / "quoted"
    write(files, "accounts.csv", ACCOUNTS_HEADER.replace(";", ",")
          + f'"7300001","person","5ABCD12","Əliyev ""Rəşad""","Bakı, ev 1","{branch.code}","household",'
            '"baku_area","2015-01-01"\n'
          + f'7300002,organisation,"",Su MMC,"Gəncə, Atatürk pr., ev 3",{branch.code},non_household,other,'
            '2016-02-29\n')
    write(files, "invoices.csv", "number;subscriber_code;period;period_start;period_end;issued_on;due_on;"
          "consumption;water_amount;sewerage_amount;total\n"
          '"F-7";"7300001";"01.10.2026";"16.09.2026";"15.10.2026";"16.10.2026";" 5.11.2026 ";"12";"1 000,50";'
          '"234";"1234,50"\n')
    run_import(files)
    loaded = table_rows()
    assert loaded["accounts"][0][3:5] == ('Əliyev "Rəşad"', "Bakı, ev 1")
    assert loaded["accounts"][1][2:5] == ("", "Su MMC", "Gəncə, Atatürk pr., ev 3")
    assert loaded["invoices"][0][6] == date(2026, 11, 5)
    assert loaded["invoices"][0][8:] == (Decimal("1000.50"), Decimal("234.00"), Decimal("1234.50"))
    if connection_vendor() == "postgresql":
        assert calls == [("accounts", "_copy_direct", True), ("invoices", "_copy_converted", True)]

    wipe_accounts()
    monkeypatch.setattr(exchange, "_copy_checked", lambda spec, ready: None)
    run_import(files)
    assert table_rows() == loaded


def test_an_empty_quoted_name_is_refused_as_an_empty_one(tmp_path, branch):
    files = tmp_path / "quoted"
    write(files, "accounts.csv", ACCOUNTS_HEADER + account_row("7300003", branch).replace("Əliyev Rəşad", '""'))
    assert failed_import(files) == ["accounts.csv:2: holder_name: empty"]


def test_rows_read_in_python_are_staged_in_batches_and_a_late_problem_still_loads_nothing(
        seed_export, monkeypatch):
    from billing import exchange

    wipe_accounts()
    run_import(seed_export)
    loaded = table_rows()

    wipe_accounts()
    monkeypatch.setattr(exchange, "BATCH", 7)  # many batches for the demo files
    monkeypatch.setattr(exchange, "_copy_checked", lambda spec, ready: None)
    run_import(seed_export)
    assert table_rows() == loaded

    wipe_accounts()
    readings = seed_export / "readings.csv"
    lines = readings.read_text(encoding="utf-8").splitlines()
    assert len(lines) > 50
    wrong = ";".join([*lines[-1].split(";")[:-1], "meter-man"])  # the last line again, of an unknown source
    readings.write_text("\n".join([*lines, wrong]) + "\n", encoding="utf-8")
    problems = failed_import(seed_export)
    assert len(problems) == 1 and problems[0].startswith(f"readings.csv:{len(lines) + 1}: source:")
    assert counts()["Reading"] == 0 and counts()["Account"] == 0


@pytest.mark.parametrize("piece_bytes", [1, 97, 4096])
def test_a_file_read_in_small_pieces_loads_the_same_rows(seed_export, monkeypatch, piece_bytes):
    """The quick way reads a file piece by piece (never whole): pieces of one byte, of a few
    lines, of many lines give the same rows, Windows line ends and empty lines at the end too."""
    from billing import exchange

    wipe_accounts()
    run_import(seed_export)
    loaded = table_rows()
    for path in seed_export.iterdir():
        path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n") + b"\r\n\r\n")
    monkeypatch.setattr(exchange, "PIECE_BYTES", piece_bytes)
    calls = quick_ways(monkeypatch, "_copy_checked")
    wipe_accounts()
    run_import(seed_export)
    assert table_rows() == loaded
    if connection_vendor() == "postgresql":
        assert taken(calls) == [s.name for s in SPECS]


def test_a_windows_1254_seed_export_writes_a_for_schwa_and_loads(tmp_path):
    out = tmp_path / "cp1254"
    call_command("seed_demo", accounts=5, seed=4, today=TODAY, export=out, export_encoding="windows-1254",
                 stdout=StringIO())
    names = dict(b.Account.objects.values_list("subscriber_code", "holder_name"))
    assert any("ə" in n or "Ə" in n for n in names.values())
    raw = (out / "accounts.csv").read_bytes()
    assert "ä".encode("cp1254") in raw or "Ä".encode("cp1254") in raw
    wipe_accounts()
    run_import(out)
    loaded = dict(b.Account.objects.values_list("subscriber_code", "holder_name"))
    assert loaded == {code: name.replace("ə", "ä").replace("Ə", "Ä") for code, name in names.items()}
