"""The billing system's CSV export, in and out (format: docs/billing-import.md).

``import_directory(path)`` loads ``accounts.csv``, ``meters.csv``, ``readings.csv``,
``invoices.csv``, ``invoice_lines.csv`` and ``payments.csv`` (any of them; a daily delta has
only what changed) in one transaction:

1. every row of every file is checked (columns, dates, amounts, codes, duplicates within the
   file); on PostgreSQL a file is COPYed as it is (one COPY) into its typed staging table, or
   as text and converted in SQL, and a file neither way takes whole, and every file on SQLite,
   is read row by row in Python, which reports each problem as ``file:line: column: reason``;
2. the checked rows are in temporary staging tables, one per file, with their line numbers and
   a unique index on each key (the COPY, ``INSERT … SELECT`` from the COPY, or prepared
   ``INSERT``s of the rows read in Python);
3. what needs the database is checked there in SQL: unknown branches, accounts, meters and
   invoices (neither in the files nor already loaded), an invoice for a month that already
   has another invoice of the account;
4. if anything was wrong, nothing is loaded (the transaction is rolled back) and every problem
   is returned; else each staging table is merged into its table with ``INSERT … ON CONFLICT
   DO UPDATE … WHERE`` a value differs, on its natural key (subscriber code, meter serial,
   meter + day + source, invoice number, invoice + meter, payment reference): loading the same
   file again changes nothing (and writes nothing), a delta updates what it names and adds what
   is new, never a duplicate. A table still empty takes plain ``INSERT … SELECT``; on PostgreSQL
   its foreign keys are dropped for it and added again (checked) in the same transaction.

``export_directory(path)`` writes the local billing tables in the same format (``manage.py
seed_demo --export DIR``).
"""

from __future__ import annotations

import codecs
import csv
import functools
import re
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.db import DatabaseError, connection, transaction

from . import models

ENCODINGS = {"utf-8": "utf-8-sig", "utf8": "utf-8-sig", "windows-1254": "cp1254", "cp1254": "cp1254"}
FIN_RE = re.compile(r"^[0-9A-HJ-NP-Z]{7}$")
CODE_RE = re.compile(r"^[0-9A-Za-z-]{1,12}$")
MONEY_RE = re.compile(r"^-?\d{1,10}(?:[.,]\d{1,2})?$")
MAX_ERRORS = 200  # a file of wrong format would otherwise list every line


class ImportFailed(Exception):
    """The files were not loaded; ``problems`` says why, line by line."""

    def __init__(self, problems: list[str]):
        super().__init__(f"{len(problems)} problem(s); nothing was loaded")
        self.problems = problems


# --- Values ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Text:
    limit: int
    required: bool = True

    def __call__(self, raw: str) -> str:
        value = " ".join(raw.split())
        if self.required and not value:
            raise ValueError("empty")
        if len(value) > self.limit:
            raise ValueError(f"longer than {self.limit} characters")
        return value


def _text(limit: int, *, required: bool = True) -> _Text:
    return _Text(limit, required)


def _code(raw: str) -> str:
    value = raw.strip()
    if not CODE_RE.match(value):
        raise ValueError(f"not a subscriber code: {raw!r}")
    return value


def _fin(raw: str) -> str:
    value = raw.strip().upper()
    if value and not FIN_RE.match(value):
        raise ValueError(f"not a FIN (7 letters and digits, no I or O): {raw!r}")
    return value


@dataclass(frozen=True)
class _Choice:
    allowed: tuple[str, ...]

    def __call__(self, raw: str) -> str:
        value = raw.strip()
        if value not in self.allowed:
            raise ValueError(f"{raw!r} is not one of {', '.join(self.allowed)}")
        return value


def _choice(choices: Iterable[str]) -> _Choice:
    return _Choice(tuple(choices))


def parse_day(raw: str) -> date:
    """ISO (2026-11-27) or the Azerbaijani way (27.11.2026)."""
    value = raw.strip()
    try:
        if "." in value:
            day, month, year = value.split(".")
            if len(year) != 4:
                raise ValueError(value)
            return date(int(year), int(month), int(day))
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"not a date (YYYY-MM-DD or DD.MM.YYYY): {raw!r}") from None


def _optional_day(raw: str) -> date | None:
    return parse_day(raw) if raw.strip() else None


def parse_money(raw: str) -> Decimal:
    """AZN with a point or a comma before the qaepiks: 12.40, 12,40, -3."""
    value = raw.strip().replace(" ", "")
    if not MONEY_RE.match(value):
        raise ValueError(f"not an amount (e.g. 12.40 or 12,40): {raw!r}")
    try:
        return Decimal(value.replace(",", ".")).quantize(Decimal("0.01"))
    except InvalidOperation:
        raise ValueError(f"not an amount: {raw!r}") from None


def _count(raw: str) -> int:
    value = raw.strip()
    if not value.isdigit() or len(value) > 9:
        raise ValueError(f"not a whole number of m³: {raw!r}")
    return int(value)


def _flag(raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "y"):
        return True
    if value in ("0", "false", "no", "n", ""):
        return False
    raise ValueError(f"not 1 or 0: {raw!r}")


# --- Files ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Column:
    name: str
    parse: Callable[[str], Any]
    sql_type: str
    required: bool = True  # the column must be in the header


@dataclass(frozen=True)
class Spec:
    name: str  # file stem
    columns: tuple[Column, ...]
    key: tuple[str, ...]  # natural key: unique within a file
    unique_also: tuple[tuple[str, ...], ...] = ()
    check: Callable[[dict[str, Any]], None] | None = None

    @property
    def filename(self) -> str:
        return f"{self.name}.csv"

    @property
    def staging(self) -> str:
        return f"staging_billing_{self.name}"


def _meter_dates(row: dict[str, Any]) -> None:
    if row["removed_on"] is not None and row["removed_on"] < row["installed_on"]:
        raise ValueError("removed_on: before installed_on")


def _invoice_amounts(row: dict[str, Any]) -> None:
    if row["water_amount"] + row["sewerage_amount"] != row["total"]:
        raise ValueError("total: not water_amount + sewerage_amount")
    if not row["period_start"] <= row["period_end"]:
        raise ValueError("period_end: before period_start")


TEXT, DAY, INT, MONEY, BOOL = "varchar(300)", "date", "integer", "numeric(12,2)", "boolean"

SPECS: tuple[Spec, ...] = (
    Spec("branches", (
        Column("code", _text(16), TEXT),
        Column("name", _text(200), TEXT),
        Column("region", _text(100), TEXT),
        Column("tariff_zone", _choice(models.TariffZone.values), TEXT),
    ), key=("code",)),
    Spec("accounts", (
        Column("subscriber_code", _code, TEXT),
        Column("holder_kind", _choice(models.HolderKind.values), TEXT),
        Column("holder_fin", _fin, TEXT),
        Column("holder_name", _text(200), TEXT),
        Column("address", _text(300), TEXT),
        Column("branch_code", _text(16), TEXT),
        Column("category", _choice(models.Category.values), TEXT),
        Column("tariff_zone", _choice(models.TariffZone.values), TEXT),
        Column("opened_on", parse_day, DAY),
    ), key=("subscriber_code",)),
    Spec("meters", (
        Column("serial_number", _text(32), TEXT),
        Column("subscriber_code", _code, TEXT),
        Column("seal_number", _text(32), TEXT),
        Column("installed_on", parse_day, DAY),
        Column("removed_on", _optional_day, DAY, required=False),
    ), key=("serial_number",), check=_meter_dates),
    Spec("readings", (
        Column("serial_number", _text(32), TEXT),
        Column("taken_on", parse_day, DAY),
        Column("value", _count, INT),
        Column("source", _choice(models.Reading.Source.values), TEXT),
    ), key=("serial_number", "taken_on", "source")),
    Spec("invoices", (
        Column("number", _text(20), TEXT),
        Column("subscriber_code", _code, TEXT),
        Column("period", parse_day, DAY),
        Column("period_start", parse_day, DAY),
        Column("period_end", parse_day, DAY),
        Column("issued_on", parse_day, DAY),
        Column("due_on", parse_day, DAY),
        Column("consumption", _count, INT),
        Column("water_amount", parse_money, MONEY),
        Column("sewerage_amount", parse_money, MONEY),
        Column("total", parse_money, MONEY),
    ), key=("number",), unique_also=(("subscriber_code", "period"),), check=_invoice_amounts),
    Spec("invoice_lines", (
        Column("invoice_number", _text(20), TEXT),
        Column("serial_number", _text(32), TEXT),
        Column("previous_reading", _count, INT),
        Column("current_reading", _count, INT),
        Column("estimated", _flag, BOOL),
        Column("consumption", _count, INT),
    ), key=("invoice_number", "serial_number")),
    Spec("payments", (
        Column("reference", _text(40), TEXT),
        Column("subscriber_code", _code, TEXT),
        Column("paid_on", parse_day, DAY),
        Column("amount", parse_money, MONEY),
    ), key=("reference",)),
)
BY_NAME = {s.name: s for s in SPECS}


def detect_encoding(path: Path) -> str:
    """UTF-8 (with or without a byte-order mark) when the whole file decodes as UTF-8, else
    Windows-1254 (the Turkish/Azerbaijani Latin code page older exports use)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    with path.open("rb") as fh:
        try:
            while chunk := fh.read(1 << 20):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "cp1254"
    return "utf-8-sig"


def _dialect(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in (";", ",", "\t")}
    return max(counts, key=lambda d: counts[d])


@dataclass
class Parsed:
    spec: Spec
    rows: list[tuple[Any, ...]] = field(default_factory=list)  # (line, *values) in the spec's column order
    problems: list[str] = field(default_factory=list)
    handed: int = 0  # rows given to ``sink`` and no longer in ``rows``

    @property
    def count(self) -> int:
        return self.handed + len(self.rows)


BATCH = 5000


def count_lines(path: Path) -> int:
    with path.open("rb") as fh:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b""))


def parse_file(spec: Spec, path: Path, *, encoding: str | None = None,
               progress: Callable[[int], None] | None = None,
               sink: Callable[[list[tuple[Any, ...]]], None] | None = None) -> Parsed:
    """Read and check one file: its rows, or its problems as ``file:line: column: reason``.
    With ``sink``, good rows are handed to it in batches while no problem has been found (a
    large file is not held in memory); after the first problem only problems are kept."""
    out = Parsed(spec)
    name = path.name
    enc = ENCODINGS.get((encoding or "").lower(), encoding) if encoding else detect_encoding(path)

    def problem(line: int, text: str) -> None:
        if len(out.problems) < MAX_ERRORS:
            out.problems.append(f"{name}:{line}: {text}")

    with path.open(encoding=enc, newline="") as fh:
        header_line = fh.readline()
        if not header_line.strip():
            problem(1, "the file is empty: a header row is required")
            return out
        delimiter = _dialect(header_line)
        header = [h.strip().lower() for h in next(csv.reader([header_line], delimiter=delimiter))]
        missing = [c.name for c in spec.columns if c.required and c.name not in header]
        unknown = [h for h in header if h not in {c.name for c in spec.columns}]
        if missing or unknown or len(set(header)) != len(header):
            parts = []
            if missing:
                parts.append(f"missing column(s) {', '.join(missing)}")
            if unknown:
                parts.append(f"unknown column(s) {', '.join(unknown)}")
            if len(set(header)) != len(header):
                parts.append("a column appears twice")
            problem(1, "; ".join(parts) + f" (expected: {', '.join(c.name for c in spec.columns)})")
            return out
        index = [header.index(c.name) if c.name in header else None for c in spec.columns]
        seen: dict[tuple[Any, ...], int] = {}
        seen_also: list[dict[tuple[Any, ...], int]] = [{} for _ in spec.unique_also]
        names = [c.name for c in spec.columns]
        key_at = [names.index(k) for k in spec.key]
        also_at = [[names.index(k) for k in u] for u in spec.unique_also]
        width = len(header)
        reader = csv.reader(fh, delimiter=delimiter)
        line = 1
        for raw in reader:
            line = reader.line_num + 1
            if progress is not None and line % 10000 == 0:
                progress(10000)
            if not raw or raw == [""]:
                continue
            if len(raw) != width:
                problem(line, f"{len(raw)} fields, the header has {width}")
                continue
            values: list[Any] = []
            bad = False
            for col, at in zip(spec.columns, index, strict=True):
                try:
                    values.append(col.parse(raw[at] if at is not None else ""))
                except ValueError as e:
                    problem(line, f"{col.name}: {e}")
                    bad = True
                    values.append(None)
            if bad:
                continue
            if spec.check is not None:
                try:
                    spec.check(dict(zip(names, values, strict=True)))
                except ValueError as e:
                    problem(line, str(e))
                    continue
            key = tuple(values[i] for i in key_at)
            if key in seen:
                problem(line, f"{', '.join(spec.key)}: duplicate of line {seen[key]}")
                continue
            seen[key] = line
            duplicate = False
            for u, (positions, taken) in enumerate(zip(also_at, seen_also, strict=True)):
                also = tuple(values[i] for i in positions)
                if also in taken:
                    problem(line, f"{', '.join(spec.unique_also[u])}: duplicate of line {taken[also]}")
                    duplicate = True
                taken.setdefault(also, line)
            if duplicate:
                continue
            if out.problems:
                continue  # the file will not be loaded: only its problems matter now
            out.rows.append((line, *values))
            if sink is not None and len(out.rows) >= BATCH:
                sink(out.rows)
                out.handed += len(out.rows)
                out.rows = []
        if progress is not None:
            progress(line % 10000)
    return out


# --- Staging and merging --------------------------------------------------------------------------

def _staging_type(column: Column) -> str:
    """A staging column refuses what its parser refuses by length or absence: a COPY of a file
    straight into it fails on such a row (and the file is read in Python)."""
    sql_type = f"varchar({column.parse.limit})" if isinstance(column.parse, _Text) else column.sql_type
    return sql_type if column.parse is _optional_day else f"{sql_type} NOT NULL"


def _create_staging(spec: Spec) -> None:
    qn = connection.ops.quote_name
    columns = ", ".join(f"{qn(c.name)} {_staging_type(c)}" for c in spec.columns)
    # On PostgreSQL a COPY straight into the table numbers its rows from 2 (the line after the header).
    line = ("line integer GENERATED BY DEFAULT AS IDENTITY (START WITH 2)" if connection.vendor == "postgresql"
            else "line integer NOT NULL")
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {qn(spec.staging)}")
        cursor.execute(f"CREATE TEMPORARY TABLE {qn(spec.staging)} ({line}, {columns})")


def _stage(spec: Spec, rows: list[tuple[Any, ...]]) -> None:
    qn = connection.ops.quote_name
    columns = ", ".join(["line", *(qn(c.name) for c in spec.columns)])
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {qn(spec.staging)} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            placeholders = ", ".join(["%s"] * (len(spec.columns) + 1))
            sql = f"INSERT INTO {qn(spec.staging)} ({columns}) VALUES ({placeholders})"  # noqa: S608 - our names
            for start in range(0, len(rows), 5000):
                cursor.executemany(sql, rows[start:start + 5000])


def _index_staging(spec: Spec) -> None:
    """A unique index on each key of a staged file: a duplicate fails here (an ``IntegrityError``),
    and the checks and merges look rows up by their key (an account's code, a meter's serial)."""
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        for n, key in enumerate((spec.key, *spec.unique_also)):
            cursor.execute(f"CREATE UNIQUE INDEX {qn(f'{spec.staging}_key{n}')} ON {qn(spec.staging)} "
                           f"({', '.join(qn(k) for k in key)})")


# --- PostgreSQL: the files as they are, checked in SQL ---------------------------------------------
#
# On PostgreSQL the form of every line of a file is checked by one regular expression over its
# text (``prepare``). A file of plain values is COPYed straight into its typed staging table
# (``_copy_direct``): the table's types, lengths and NOT NULLs, a query and unique indexes check
# what the parsers above check of the values. Another file is COPYed as text into a temporary
# table (one COPY per file, its line numbers kept), and its values (days that exist, lengths,
# sums) are checked and converted in SQL by the INSERT … SELECT into the staging table
# (``_copy_converted``). Either way accepts a part of what the parsers accept, with the same values; a file it does
# not take whole (a bad row, a duplicate, a line break in quotes, empty lines, an unusual encoding) is read again
# by ``parse_file``, which gives the ``file:line: column: reason`` problems (or, if the file is
# good after all, its rows).

WHITESPACE = "".join(chr(c) for c in range(0x110000) if chr(c).isspace())  # what str.split() splits on


def _iso_sql(s: str) -> str:
    """A day's text (its form checked already) as YYYY-MM-DD."""
    return (f"CASE WHEN strpos({s}, '.') > 0 THEN split_part({s}, '.', 3) || '-' || "
            f"lpad(split_part({s}, '.', 2), 2, '0') || '-' || lpad(split_part({s}, '.', 1), 2, '0') ELSE {s} END")


def _day_sql(v: str) -> str:
    """The day of ``v`` (YYYY-MM-DD, month 01-12, day 01-31), NULL when there is no such day."""
    month, day, year = f"substr({v}, 6, 2)", f"substr({v}, 9, 2)", f"substr({v}, 1, 4)::integer"
    return (f"CASE WHEN {v} NOT LIKE '0000%' AND ({day}::integer <= 28 "
            f"OR {month} IN ('01', '03', '05', '07', '08', '10', '12') OR ({month} <> '02' AND {day} <> '31') "
            f"OR ({day} = '29' AND ({year} % 4 = 0 AND {year} % 100 <> 0 OR {year} % 400 = 0))) "
            f"THEN {v}::date END")


DAY_RE = (r"(?:[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])"
          r"|(?:0?[1-9]|[12][0-9]|3[01])\.(?:0?[1-9]|1[0-2])\.[0-9]{4})")


@dataclass(frozen=True)
class ColumnSql:
    """A column of a file on the quick way: ``pattern`` (Python) is what its text may be, without
    whitespace around it: a part of what the column's parser accepts; ``value`` (SQL) is what the
    parser makes of that text (``s``: stripped, a day as YYYY-MM-DD), NULL when it would refuse it."""
    pattern: str | None  # None: any text (a text column: its length is checked in SQL)
    value: str
    null_ok: str = "false"  # SQL, true when a NULL value is right (an empty optional day)


def _column_sql(column: Column, s: str) -> ColumnSql:
    parse = column.parse
    if parse is _code:
        return ColumnSql("[0-9A-Za-z-]{1,12}", s)
    if parse is _fin:
        return ColumnSql("(?:[0-9A-HJ-NP-Za-hj-np-z]{7})?", f"upper({s})")
    if parse is parse_day:
        return ColumnSql(DAY_RE, _day_sql(s))
    if parse is _optional_day:
        return ColumnSql(f"(?:{DAY_RE})?", f"CASE WHEN {s} <> '' THEN {_day_sql(s)} END", f"{s} = ''")
    if parse is parse_money:  # the parser drops the spaces inside
        return ColumnSql(r"(?:- *)?[0-9](?: *[0-9]){0,9}(?: *[.,] *[0-9](?: *[0-9])?)?",
                         f"replace(replace({s}, ' ', ''), ',', '.')::numeric(12,2)")
    if parse is _count:
        return ColumnSql("[0-9]{1,9}", f"{s}::integer")
    if parse is _flag:
        return ColumnSql("(?:[01]|[Tt][Rr][Uu][Ee]|[Yy](?:[Ee][Ss])?|[Ff][Aa][Ll][Ss][Ee]|[Nn][Oo]?)?",
                         f"lower({s}) IN ('1', 'true', 'yes', 'y')")
    if isinstance(parse, _Choice):
        return ColumnSql(f"(?:{'|'.join(re.escape(a) for a in _longest_first(parse.allowed))})", s)
    if isinstance(parse, _Text):  # ``s`` has its inner whitespace collapsed already
        return ColumnSql(None, f"CASE WHEN char_length({s}) <= {parse.limit}"
                               f"{f' AND {s} <> {_EMPTY}' if parse.required else ''} THEN {s} END")
    raise NotImplementedError(column.name)


ROW_CHECKS_SQL: dict[str, str] = {
    "meters": "(removed_on IS NULL OR removed_on >= installed_on)",
    "invoices": "water_amount + sewerage_amount = total AND period_start <= period_end",
}


def _longest_first(choices: Iterable[str]) -> list[str]:
    """Alternatives for a pattern whose lines are matched possessively (``*+``: no going back
    into a matched line): a value that begins another is tried after it."""
    return sorted(choices, key=len, reverse=True)


ISO_DAY_RE = r"[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])"


# A quoted field (RFC 4180) on one line: ``""`` is a quote inside it. COPY (FORMAT csv) and the
# csv module read it the same way; a field with a line break inside is read in Python.
QUOTED_TEXT = '"(?:[^"\n]|"")*"'


def _direct_pattern(column: Column, delimiter: str) -> str:
    """The texts of ``column`` that PostgreSQL's COPY reads into its staging column (typed, of the
    parser's length, NOT NULL unless the value is optional) as its parser reads them: no
    whitespace around, ISO days, a point before the qaepiks, FINs in capitals; quoted or not. A
    day that does not exist, a text too long or missing fails the COPY."""
    parse = column.parse
    if isinstance(parse, _Text):  # single spaces inside (the file is not messy), none around
        d = re.escape(delimiter)
        edge, quoted_edge = f'[^\\s"{d}]', '(?:[^\\s"]|"")'
        plain = f'{edge}(?:[^\n"{d}]*{edge})?'
        quoted = f'"{quoted_edge}(?:(?:[^\n"]|"")*{quoted_edge})?"'  # not empty: "" is an empty text, not NULL
        return f"(?:{plain}|{quoted})" if parse.required else f"(?:{plain}|{quoted}|\"\")?"
    form = _direct_form(parse)
    return f'(?:{form}|"{form}")'


def _direct_form(parse: Callable[[str], Any]) -> str:
    if parse is _code:
        return "[0-9A-Za-z-]{1,12}"
    if parse is _fin:
        return "(?:[0-9A-HJ-NP-Z]{7})?"
    if parse is parse_day:
        return ISO_DAY_RE
    if parse is _optional_day:
        return f"(?:{ISO_DAY_RE})?"
    if parse is parse_money:
        return r"-?[0-9]{1,10}(?:\.[0-9]{1,2})?"
    if parse is _count:
        return "[0-9]{1,9}"
    if parse is _flag:  # what PostgreSQL's boolean reads the same way; an empty flag is not COPYed
        return "(?:[01]|[Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee]|[Yy](?:[Ee][Ss])?|[Nn][Oo]?)"
    if isinstance(parse, _Choice):
        return f"(?:{'|'.join(re.escape(a) for a in _longest_first(parse.allowed))})"
    raise NotImplementedError(parse)


@dataclass(frozen=True)
class Ready:
    """A file that may take the quick way: where it is and its encoding (read again, piece by
    piece, by the COPY), its header, its lines, whether it has whitespace other than single
    spaces, whether every value is in the form COPY reads straight into the typed staging table
    (``direct``) or the values are to be converted in SQL."""
    path: Path
    encoding: str
    header: list[str]
    delimiter: str
    lines: int
    messy: bool
    direct: bool = False


PIECE_BYTES = 8 << 20


def pieces(path: Path, encoding: str) -> Iterator[str]:
    """The text of ``path`` in pieces of whole lines of about PIECE_BYTES each (a file is never
    held whole), Windows line ends made plain: each piece but the last ends with a line end, the
    last has none (empty lines at the end are skipped). Raises UnicodeDecodeError."""
    decoder = codecs.getincrementaldecoder(encoding)()
    text, ends = "", ""  # the piece read last, held back until more text follows, and its line ends
    with path.open("rb") as fh:
        rest = b""
        while True:
            block = fh.read(PIECE_BYTES)
            data, rest = rest + block, b""
            if block:  # up to the last line end (never inside a character in UTF-8 or cp1254)
                cut = data.rfind(b"\n") + 1
                data, rest = data[:cut], data[cut:]
            piece = decoder.decode(data, final=not block).replace("\r\n", "\n")
            body = piece.rstrip("\n")
            if body:
                if text or ends:
                    yield text + ends
                text, ends = body, piece[len(body):]
            else:
                ends += piece
            if not block:
                break
    if text:
        yield text


def prepare(spec: Spec, path: Path, encoding: str | None) -> Ready | None:
    """What ``_copy_checked`` needs of ``path``, or None when the file is to be read by
    ``parse_file``. No database: runs in a thread while the previous file is in PostgreSQL."""
    enc = ENCODINGS.get((encoding or "").lower(), encoding) if encoding else None
    if enc not in (None, "utf-8-sig", "cp1254"):
        return None
    for candidate in [enc] if enc else ["utf-8-sig", "cp1254"]:
        try:
            return _scan(spec, path, str(candidate))
        except UnicodeDecodeError:
            continue
    return None


def _bodies(path: Path, encoding: str) -> Iterator[str]:
    """The lines after the header, piece by piece, each piece without its last line end."""
    for n, piece in enumerate(pieces(path, encoding)):
        body = piece.split("\n", 1)[1] if n == 0 and "\n" in piece else "" if n == 0 else piece
        if body:
            yield body[:-1] if body.endswith("\n") else body


def _scan(spec: Spec, path: Path, encoding: str) -> Ready | None:
    with path.open("rb") as fh:
        header_line = codecs.decode(fh.readline(), encoding).rstrip("\r\n")
    delimiter = _dialect(header_line)
    header = [h.strip().lower() for h in header_line.split(delimiter)]
    names = {c.name for c in spec.columns}
    if (len(set(header)) != len(header) or any(h not in names for h in header)
            or any(c.required and c.name not in header for c in spec.columns)):
        return None
    by_name = {c.name: c for c in spec.columns}
    # Whitespace other than single spaces (tabs, no-break spaces, runs): the values are stripped and
    # the texts collapsed in SQL as str.split() does.
    other_spaces = [c for c in WHITESPACE if c not in (delimiter, "\n", " ")]
    # One record per line (no line breaks in quotes, no empty lines): then a row's line is its place
    # in the file. Every line has the header's fields, each of its column's form: one regular
    # expression (in C) per piece of the file, its lines repeated possessively (no line is matched
    # again another way when a later one fails, so no memory is kept for that); first the forms
    # COPY reads as they are, then those SQL converts; a file with a line of neither form is read
    # in Python.
    direct_line = re.escape(delimiter).join(_direct_pattern(by_name[h], delimiter) for h in header)
    direct = re.compile(f"{direct_line}(?:\n{direct_line})*+")
    messy, plain, lines = False, True, 0
    for body in _bodies(path, encoding):
        if any(c in body for c in ("\r", "\\.", "\x00")):
            return None
        lines += body.count("\n") + 1
        messy = messy or "  " in body or any(c in body for c in other_spaces)
        plain = plain and not messy and direct.fullmatch(body) is not None
    if not lines:
        return None
    if plain:
        return Ready(path, encoding, header, delimiter, lines, messy, direct=True)
    others = "".join(re.escape(c) for c in other_spaces)
    around = f"[ {others}]*" if messy else " ?"
    any_text = f'(?:[^\n"{re.escape(delimiter)}]*|{QUOTED_TEXT})'
    patterns = {h: _column_sql(by_name[h], "s").pattern for h in header}
    line = re.escape(delimiter).join(
        any_text if patterns[h] is None else f'(?:{around}{patterns[h]}{around}|"{around}{patterns[h]}{around}")'
        for h in header)
    converted = re.compile(f"{line}(?:\n{line})*+")
    if any(converted.fullmatch(body) is None for body in _bodies(path, encoding)):
        return None
    return Ready(path, encoding, header, delimiter, lines, messy)


class _NotWhole(Exception):
    """The quick way does not take the whole file."""


def _copy_checked(spec: Spec, ready: Ready | None) -> int | None:
    """COPY and check a prepared file into ``spec``'s staging table, and index it; the number of
    rows, or None when the file is to be read by ``parse_file`` (the staging table is left empty
    then: the work is done under a savepoint)."""
    import psycopg

    if ready is None:
        return None
    try:
        with transaction.atomic():
            rows = _copy_direct(spec, ready) if ready.direct else _copy_converted(spec, ready)
            _index_staging(spec)  # a duplicate key fails here
    except (_NotWhole, psycopg.Error, DatabaseError):
        return None
    return rows


def _empty_is_text(parse: Callable[[str], Any]) -> bool:
    return parse is _fin or (isinstance(parse, _Text) and not parse.required)


def _copy_file(cursor: Any, table: str, ready: Ready, options: str = "") -> int:
    """COPY the file of ``ready``, piece by piece, into ``table`` (its header's columns); the
    number of rows."""
    qn = connection.ops.quote_name
    with cursor.cursor.copy(
            f"COPY {table} ({', '.join(qn(h) for h in ready.header)}) FROM STDIN (FORMAT csv, HEADER true, "
            f"DELIMITER {_DELIMITERS[ready.delimiter]}, ENCODING 'UTF8'{options})") as copy:
        for piece in pieces(ready.path, ready.encoding):
            copy.write(piece.encode("utf-8"))
    return int(cursor.cursor.rowcount)


def _copy_direct(spec: Spec, ready: Ready) -> int:
    """The file COPYed as it is into the typed staging table (its rows numbered by the table)."""
    qn = connection.ops.quote_name
    staging = qn(spec.staging)
    by_name = {c.name: c for c in spec.columns}
    # An empty FIN (or optional text) is an empty text, not a NULL.
    empty_texts = [qn(h) for h in ready.header if _empty_is_text(by_name[h].parse)]
    options = f", FORCE_NOT_NULL ({', '.join(empty_texts)})" if empty_texts else ""
    with connection.cursor() as cursor:
        rows = _copy_file(cursor, staging, ready, options)
        row_check = ROW_CHECKS_SQL.get(spec.name)
        if row_check:
            cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {staging} WHERE NOT ({row_check}))")  # noqa: S608
            if cursor.fetchone()[0]:
                raise _NotWhole(spec.name)
        return rows


def _copy_converted(spec: Spec, ready: Ready) -> int:
    """The file COPYed as text into a temporary table, its values checked and converted in SQL
    into the staging table."""
    header, messy = ready.header, ready.messy
    columns = {c.name: (i, c, _column_sql(c, f"s{i}")) for i, c in enumerate(spec.columns)}
    qn = connection.ops.quote_name
    raw, staging = qn(f"raw_billing_{spec.name}"), qn(spec.staging)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {raw}")
        cursor.execute(f"CREATE TEMPORARY TABLE {raw} (line integer GENERATED ALWAYS AS IDENTITY (START 2), "
                       f"{', '.join(f'{qn(h)} text' for h in header)})")
        total = _copy_file(cursor, raw, ready)
        # 1: the texts without whitespace around them; 2: days as YYYY-MM-DD, texts with their inner
        # whitespace collapsed; 3: the values, NULL where wrong. (OFFSET 0: each level computed once.)
        strip = f"btrim(%s, '{WHITESPACE}')" if messy else "btrim(%s)"
        level1 = ", ".join(f"{strip % f'coalesce({qn(c.name)}, {_EMPTY})' if c.name in header else _EMPTY} AS s{i}"
                           for i, c in enumerate(spec.columns))
        level2 = ", ".join(
            f"{_iso_sql(f's{i}')} AS s{i}" if c.parse in (parse_day, _optional_day)
            else f"regexp_replace(s{i}, '[{WHITESPACE}]+', ' ', 'g') AS s{i}" if messy and isinstance(c.parse, _Text)
            else f"s{i}" for i, c in enumerate(spec.columns))
        level3, conditions = [], []
        for i, _c, sql in columns.values():
            level3.append(f"{sql.value} AS v{i}")
            if sql.null_ok != "false":
                level3.append(f"{sql.null_ok} AS n{i}")
                conditions.append(f"(v{i} IS NOT NULL OR n{i})")
            else:
                conditions.append(f"v{i} IS NOT NULL")
        row_check = ROW_CHECKS_SQL.get(spec.name)
        if row_check:
            for name, (i, _c, _sql) in columns.items():
                row_check = re.sub(rf"\b{name}\b", f"v{i}", row_check)
            conditions.append(row_check)
        cursor.execute(
            f"INSERT INTO {staging} (line, {', '.join(qn(c.name) for c in spec.columns)}) "  # noqa: S608 - our names
            f"SELECT line, {', '.join(f'v{i}' for i in range(len(spec.columns)))} "
            f"FROM (SELECT line, {', '.join(level3)} FROM (SELECT line, {level2} FROM "
            f"(SELECT line, {level1} FROM {raw} OFFSET 0) l1 OFFSET 0) l2 OFFSET 0) t "
            f"WHERE {' AND '.join(conditions)}")
        staged = cursor.rowcount
        cursor.execute(f"DROP TABLE {raw}")
        if staged != total:
            raise _NotWhole(spec.name)
    return total


_EMPTY = "''"
_DELIMITERS = {";": "';'", ",": "','", "\t": "E'\\t'"}


# What the database must confirm, per file: (SQL selecting the failing line and a value, reason).
REFERENCES: dict[str, list[tuple[str, str]]] = {
    "branches": [],
    "accounts": [
        ("SELECT s.line, s.branch_code FROM staging_billing_accounts s WHERE NOT EXISTS "
         "(SELECT 1 FROM billing_branch b WHERE b.code = s.branch_code) AND NOT EXISTS "
         "(SELECT 1 FROM staging_billing_branches b WHERE b.code = s.branch_code)", "branch_code: unknown branch {}"),
    ],
    "meters": [
        ("SELECT s.line, s.subscriber_code FROM staging_billing_meters s WHERE NOT EXISTS "
         "(SELECT 1 FROM staging_billing_accounts a WHERE a.subscriber_code = s.subscriber_code) AND NOT EXISTS "
         "(SELECT 1 FROM billing_account a WHERE a.subscriber_code = s.subscriber_code)",
         "subscriber_code: unknown account {}"),
    ],
    "readings": [
        ("SELECT s.line, s.serial_number FROM staging_billing_readings s WHERE NOT EXISTS "
         "(SELECT 1 FROM staging_billing_meters m WHERE m.serial_number = s.serial_number) AND NOT EXISTS "
         "(SELECT 1 FROM billing_meter m WHERE m.serial_number = s.serial_number)",
         "serial_number: unknown meter {}"),
    ],
    "invoices": [
        ("SELECT s.line, s.subscriber_code FROM staging_billing_invoices s WHERE NOT EXISTS "
         "(SELECT 1 FROM staging_billing_accounts a WHERE a.subscriber_code = s.subscriber_code) AND NOT EXISTS "
         "(SELECT 1 FROM billing_account a WHERE a.subscriber_code = s.subscriber_code)",
         "subscriber_code: unknown account {}"),
        ("SELECT s.line, i.number FROM staging_billing_invoices s "
         "JOIN billing_account a ON a.subscriber_code = s.subscriber_code "
         "JOIN billing_invoice i ON i.account_id = a.id AND i.period = s.period AND i.number <> s.number",
         "period: the account already has invoice {} for this month"),
    ],
    "invoice_lines": [
        ("SELECT s.line, s.invoice_number FROM staging_billing_invoice_lines s WHERE NOT EXISTS "
         "(SELECT 1 FROM staging_billing_invoices i WHERE i.number = s.invoice_number) AND NOT EXISTS "
         "(SELECT 1 FROM billing_invoice i WHERE i.number = s.invoice_number)",
         "invoice_number: unknown invoice {}"),
        ("SELECT s.line, s.serial_number FROM staging_billing_invoice_lines s WHERE NOT EXISTS "
         "(SELECT 1 FROM staging_billing_meters m WHERE m.serial_number = s.serial_number) AND NOT EXISTS "
         "(SELECT 1 FROM billing_meter m WHERE m.serial_number = s.serial_number)",
         "serial_number: unknown meter {}"),
    ],
    "payments": [
        ("SELECT s.line, s.subscriber_code FROM staging_billing_payments s WHERE NOT EXISTS "
         "(SELECT 1 FROM staging_billing_accounts a WHERE a.subscriber_code = s.subscriber_code) AND NOT EXISTS "
         "(SELECT 1 FROM billing_account a WHERE a.subscriber_code = s.subscriber_code)",
         "subscriber_code: unknown account {}"),
    ],
}

# INSERT … SELECT from staging … ON CONFLICT (natural key) DO UPDATE. "WHERE true" lets SQLite
# tell the ON CONFLICT of the upsert from a join's ON.
MERGES: dict[str, str] = {
    "accounts": """
        INSERT INTO billing_account (subscriber_code, holder_kind, holder_fin, holder_name, address, branch_id,
                                     category, zone, opened_on)
        SELECT s.subscriber_code, s.holder_kind, s.holder_fin, s.holder_name, s.address, b.id, s.category,
               s.tariff_zone, s.opened_on
        FROM staging_billing_accounts s JOIN billing_branch b ON b.code = s.branch_code WHERE true
        ON CONFLICT (subscriber_code) DO UPDATE SET holder_kind = excluded.holder_kind,
            holder_fin = excluded.holder_fin, holder_name = excluded.holder_name, address = excluded.address,
            branch_id = excluded.branch_id, category = excluded.category, zone = excluded.zone,
            opened_on = excluded.opened_on""",
    "meters": """
        INSERT INTO billing_meter (serial_number, account_id, seal_number, installed_on, removed_on)
        SELECT s.serial_number, a.id, s.seal_number, s.installed_on, s.removed_on
        FROM staging_billing_meters s JOIN billing_account a ON a.subscriber_code = s.subscriber_code WHERE true
        ON CONFLICT (serial_number) DO UPDATE SET account_id = excluded.account_id,
            seal_number = excluded.seal_number, installed_on = excluded.installed_on,
            removed_on = excluded.removed_on""",
    "readings": """
        INSERT INTO billing_reading (meter_id, taken_on, value, source)
        SELECT m.id, s.taken_on, s.value, s.source
        FROM staging_billing_readings s JOIN billing_meter m ON m.serial_number = s.serial_number WHERE true
        ON CONFLICT (meter_id, taken_on, source) DO UPDATE SET value = excluded.value""",
    "invoices": """
        INSERT INTO billing_invoice (number, account_id, period, period_start, period_end, issued_on, due_on,
                                     consumption, water_amount, sewerage_amount, total)
        SELECT s.number, a.id, s.period, s.period_start, s.period_end, s.issued_on, s.due_on, s.consumption,
               s.water_amount, s.sewerage_amount, s.total
        FROM staging_billing_invoices s JOIN billing_account a ON a.subscriber_code = s.subscriber_code WHERE true
        ON CONFLICT (number) DO UPDATE SET account_id = excluded.account_id, period = excluded.period,
            period_start = excluded.period_start, period_end = excluded.period_end,
            issued_on = excluded.issued_on, due_on = excluded.due_on, consumption = excluded.consumption,
            water_amount = excluded.water_amount, sewerage_amount = excluded.sewerage_amount,
            total = excluded.total""",
    "invoice_lines": """
        INSERT INTO billing_invoiceline (invoice_id, meter_id, previous_reading, current_reading, estimated,
                                         consumption)
        SELECT i.id, m.id, s.previous_reading, s.current_reading, s.estimated, s.consumption
        FROM staging_billing_invoice_lines s JOIN billing_invoice i ON i.number = s.invoice_number
             JOIN billing_meter m ON m.serial_number = s.serial_number WHERE true
        ON CONFLICT (invoice_id, meter_id) DO UPDATE SET previous_reading = excluded.previous_reading,
            current_reading = excluded.current_reading, estimated = excluded.estimated,
            consumption = excluded.consumption""",
    "payments": """
        INSERT INTO billing_payment (reference, account_id, paid_on, amount)
        SELECT s.reference, a.id, s.paid_on, s.amount
        FROM staging_billing_payments s JOIN billing_account a ON a.subscriber_code = s.subscriber_code WHERE true
        ON CONFLICT (reference) WHERE NOT (reference = '') DO UPDATE SET account_id = excluded.account_id,
            paid_on = excluded.paid_on, amount = excluded.amount""",
}


def _only_changed(sql: str, vendor: str) -> str:
    """The merge, updating a row only when a value differs (a re-run writes nothing)."""
    table = re.search(r"INSERT INTO (\w+)", sql).group(1)  # type: ignore[union-attr]
    columns = re.findall(r"(\w+) = excluded\.\1", sql)
    if vendor == "postgresql":
        changed = (f"({', '.join(f'{table}.{c}' for c in columns)}) IS DISTINCT FROM "
                   f"({', '.join(f'excluded.{c}' for c in columns)})")
    else:
        changed = " OR ".join(f"{table}.{c} IS NOT excluded.{c}" for c in columns)
    return f"{sql} WHERE {changed}"


TABLES: dict[str, type[Any]] = {"branches": models.Branch, "accounts": models.Account, "meters": models.Meter,
                                "readings": models.Reading,
          "invoices": models.Invoice, "invoice_lines": models.InvoiceLine, "payments": models.Payment}


@dataclass
class FileResult:
    name: str
    rows: int
    added: int
    updated: int  # rows already there with another value
    unchanged: int = 0  # rows already there as they are: not written


@dataclass
class ImportReport:
    files: list[FileResult]
    seconds: dict[str, float]  # checking the rows, staging, checks in the database, merging


def import_directory(directory: Path, *, encoding: str | None = None,
                     progress: Callable[[str, int], Callable[[int], Any]] | None = None) -> ImportReport:
    """Load the CSV files of ``directory`` (see the module's docstring). Raises
    ``ImportFailed`` with every problem, having loaded nothing, unless every row of every file
    is good. ``progress(step, rows)`` may return a callable told of each batch of rows done
    (a progress bar): a step per file checked and staged ("checking accounts.csv"), then one for
    the merge ("loading into the tables")."""
    present = [s for s in SPECS if (directory / s.filename).is_file()]
    if not present:
        raise ImportFailed([f"{directory}: none of {', '.join(s.filename for s in SPECS)} is there"])
    problems: list[str] = []
    seconds: dict[str, float] = {}
    clock = time.monotonic()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.monotonic()
        seconds[name] = seconds.get(name, 0.0) + now - clock
        clock = now

    results: list[FileResult] = []
    staged: dict[str, int] = {}
    with transaction.atomic():
        if connection.vendor == "postgresql":  # one import at a time: a second waits for the first to end
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(hashtext('billing_import'))")
        for spec in SPECS:  # every staging table exists, empty when its file is absent
            _create_staging(spec)
        quick = connection.vendor == "postgresql"
        with ThreadPoolExecutor(max_workers=1) as pool:  # the next file is read while one is in PostgreSQL
            readies = [pool.submit(prepare, spec, directory / spec.filename, encoding) if quick else None
                       for spec in present]
            for spec, future in zip(present, readies, strict=True):
                path = directory / spec.filename
                ready = future.result() if future is not None else None
                tick = (progress(f"checking {spec.filename}", ready.lines)
                        if progress is not None and ready is not None else None)
                rows = _copy_checked(spec, ready)
                if rows is not None and tick is not None:
                    tick(rows)
                if rows is None:  # read and checked row by row: SQLite, or a file the SQL did not take whole
                    tick = progress(f"checking {spec.filename}", count_lines(path)) if progress is not None else None
                    parsed = parse_file(spec, path, encoding=encoding, progress=tick,
                                        sink=functools.partial(_stage, spec))
                    problems += parsed.problems
                    if not parsed.problems:
                        _stage(spec, parsed.rows)
                        _index_staging(spec)
                    rows = parsed.count
                staged[spec.name] = rows
        if problems:  # the transaction is rolled back: the staging tables and nothing else
            raise ImportFailed(problems)
        lap("check and stage")
        with connection.cursor() as cursor:
            for spec in present:
                for sql, reason in REFERENCES[spec.name]:
                    cursor.execute(sql + " ORDER BY 1 LIMIT %s", [MAX_ERRORS])
                    problems += [f"{spec.filename}:{line}: {reason.format(value)}" for line, value in cursor.fetchall()]
            if problems:  # the transaction is rolled back: the staging tables and nothing else
                raise ImportFailed(sorted(problems, key=_problem_order))
            lap("references")
            before = {spec.name: TABLES[spec.name].objects.count() for spec in present}
            first_loads = [TABLES[spec.name]._meta.db_table for spec in present
                           if spec.name != "branches" and not before[spec.name]]
            foreign_keys = _drop_foreign_keys(cursor, first_loads)
            tick = progress("loading into the tables", sum(staged.values())) if progress is not None else None
            for spec in present:
                table = TABLES[spec.name]
                if spec.name == "branches":  # a handful of rows, edited by staff too: through the ORM
                    known = {b.code: (b.name, b.region, b.zone) for b in models.Branch.objects.all()}
                    cursor.execute("SELECT code, name, region, tariff_zone FROM staging_billing_branches ORDER BY line")
                    written = 0
                    for code, name, region, zone in cursor.fetchall():
                        if known.get(code) != (name, region, zone):
                            models.Branch.objects.update_or_create(code=code, defaults={
                                "name": name, "region": region, "zone": zone})
                            written += 1
                elif not before[spec.name]:  # a first load: nothing to conflict with (imports take turns)
                    cursor.execute(MERGES[spec.name].split("ON CONFLICT")[0])
                    written = cursor.rowcount
                else:  # the rows inserted or updated: an unchanged row is not written
                    cursor.execute(_only_changed(MERGES[spec.name], connection.vendor))
                    written = cursor.rowcount
                added = table.objects.count() - before[spec.name]
                rows = staged[spec.name]
                results.append(FileResult(spec.filename, rows, added, written - added, rows - written))
                if tick is not None:
                    tick(rows)
            _add_foreign_keys(cursor, foreign_keys)
        _drop_staging()
    lap("merge")
    return ImportReport(files=results, seconds=seconds)


def _drop_foreign_keys(cursor: Any, tables: list[str]) -> list[tuple[str, str, str]]:
    """A first load into empty tables on PostgreSQL, as a restore does: their foreign keys are
    dropped before the merge and added again after it, in the same transaction, so each key is
    checked by one join rather than row by row at the commit (the merges join the rows to what
    they refer to, and adding a key checks every row again). The tables are locked until the
    commit. Returns what ``_add_foreign_keys`` needs."""
    if connection.vendor != "postgresql" or not tables:
        return []
    cursor.execute("SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
                   "WHERE contype = 'f' AND conrelid = ANY(%s::regclass[]) ORDER BY 1, 2", [tables])
    keys = [(table, name, definition) for table, name, definition in cursor.fetchall()]
    connection.check_constraints()  # the checks this transaction has deferred, now: a table with some cannot be altered
    qn = connection.ops.quote_name
    for table, name, _definition in keys:
        cursor.execute(f"ALTER TABLE {qn(table)} DROP CONSTRAINT {qn(name)}")
    return keys


def _add_foreign_keys(cursor: Any, keys: list[tuple[str, str, str]]) -> None:
    qn = connection.ops.quote_name
    for table, name, definition in keys:
        cursor.execute(f"ALTER TABLE {qn(table)} ADD CONSTRAINT {qn(name)} {definition}")


def _drop_staging() -> None:
    with connection.cursor() as cursor:
        for spec in SPECS:
            cursor.execute(f"DROP TABLE IF EXISTS {connection.ops.quote_name(spec.staging)}")


def _problem_order(text: str) -> tuple[int, int]:
    name, _, rest = text.partition(":")
    line = rest.split(":", 1)[0]
    order = [s.filename for s in SPECS]
    return (order.index(name) if name in order else 99, int(line) if line.isdigit() else 0)


# --- Export ---------------------------------------------------------------------------------------

def _rows(spec: Spec) -> Iterator[Iterable[Any]]:
    if spec.name == "branches":
        yield from models.Branch.objects.order_by("code").values_list("code", "name", "region", "zone")
    elif spec.name == "accounts":
        yield from models.Account.objects.order_by("pk").values_list(
            "subscriber_code", "holder_kind", "holder_fin", "holder_name", "address", "branch__code", "category",
            "zone", "opened_on").iterator(chunk_size=5000)
    elif spec.name == "meters":
        yield from models.Meter.objects.order_by("pk").values_list(
            "serial_number", "account__subscriber_code", "seal_number", "installed_on", "removed_on",
        ).iterator(chunk_size=5000)
    elif spec.name == "readings":
        yield from models.Reading.objects.order_by("pk").values_list(
            "meter__serial_number", "taken_on", "value", "source").iterator(chunk_size=5000)
    elif spec.name == "invoices":
        yield from models.Invoice.objects.order_by("pk").values_list(
            "number", "account__subscriber_code", "period", "period_start", "period_end", "issued_on", "due_on",
            "consumption", "water_amount", "sewerage_amount", "total").iterator(chunk_size=5000)
    elif spec.name == "invoice_lines":
        for row in models.InvoiceLine.objects.order_by("pk").values_list(
                "invoice__number", "meter__serial_number", "previous_reading", "current_reading", "estimated",
                "consumption").iterator(chunk_size=5000):
            yield (*row[:4], int(row[4]), row[5])
    elif spec.name == "payments":
        yield from models.Payment.objects.exclude(reference="").order_by("pk").values_list(
            "reference", "account__subscriber_code", "paid_on", "amount").iterator(chunk_size=5000)


def export_directory(directory: Path, *, encoding: str = "utf-8", delimiter: str = ";") -> dict[str, int]:
    """Write the local billing tables as the billing system's export; returns rows per file."""
    directory.mkdir(parents=True, exist_ok=True)
    counts = {}
    enc = "cp1254" if ENCODINGS.get(encoding.lower()) == "cp1254" else "utf-8"
    # Windows-1254 has no ə: older exports write ä for it (docs/billing-import.md).
    letters = str.maketrans({"ə": "ä", "Ə": "Ä"}) if enc == "cp1254" else {}
    for spec in SPECS:
        with (directory / spec.filename).open("w", encoding=enc, newline="") as fh:
            writer = csv.writer(fh, delimiter=delimiter, lineterminator="\n")
            writer.writerow([c.name for c in spec.columns])
            n = 0
            for row in _rows(spec):
                writer.writerow(["" if v is None else v.translate(letters) if isinstance(v, str) else v
                                 for v in row])
                n += 1
        counts[spec.filename] = n
    return counts
