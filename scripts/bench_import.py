"""Benchmark ``manage.py billing_import`` against a raw COPY of the same files, in the same run.

    .venv/bin/python scripts/bench_import.py [--accounts 20000] [--seed 1] [--form plain|local] \\
        [--database-url postgres://postgres@127.0.0.1:5432/borc_bench_import] [--keep]

``--form local`` writes the export the way older Azerbaijani exports look: Windows-1254, days
first (27.11.2026), a comma before the qəpiks (12,40); those files take the way that converts
the values in SQL. The default, ``plain``, is what ``seed_demo --export`` writes (UTF-8, ISO
days, points), COPYed straight into the typed staging tables.

1. A fresh PostgreSQL database (created, and dropped afterwards unless --keep) is migrated and
   filled by ``seed_demo --accounts N --export DIR``: the billing system's export in the
   documented format (docs/billing-import.md).
2. The accounts and everything under them are deleted (branches stay), then
   ``billing_import DIR`` loads the files into the empty tables: each file's form checked by one
   regular expression, COPYed as it is into a typed staging table, the references checked in
   SQL, inserted with the foreign keys taken off and put back checked. Timed.
3. The same files again (every row already there, nothing changed, nothing written). Timed.
4. The floor, a raw COPY into the product's tables: the rows the import wrote, in the tables'
   own form (ids resolved, values typed, dumped by ``COPY … TO``), are COPYed straight back into
   the emptied tables, with their keys, indexes and foreign keys, in one transaction, commit
   included: loading these rows with no checking, no staging and no merge. Timed.
5. A raw COPY into bare tables: each file streamed by ``COPY … FROM STDIN (FORMAT csv,
   HEADER)`` into a plain table with the file's columns and types, no keys, no indexes, no
   checks: what PostgreSQL takes to read these bytes at all. Timed, for scale.

Prints the figures and a Markdown table for docs/benchmarks.md. ``ratio`` is the floor's time /
the import's time (1.0: as fast as a raw COPY into the tables).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def admin(url: str):  # noqa: ANN201 - a psycopg connection
    import psycopg

    u = urlparse(url)
    return psycopg.connect(host=u.hostname or "127.0.0.1", port=u.port or 5432, user=u.username or "postgres",
                           password=u.password or None, dbname="postgres", autocommit=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--accounts", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/borc_bench_import")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--form", choices=("plain", "local"), default="plain")
    args = parser.parse_args()
    url = args.database_url
    name = urlparse(url).path.lstrip("/")
    from psycopg import sql

    with admin(url) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DEBUG", "true")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from billing import models as b
    from billing.exchange import SPECS, import_directory

    try:
        call_command("migrate", verbosity=0)
        with tempfile.TemporaryDirectory() as tmp:
            directory = Path(tmp)
            started = time.monotonic()
            call_command("seed_demo", accounts=args.accounts, seed=args.seed, export=directory, verbosity=0,
                         export_encoding="windows-1254" if args.form == "local" else "utf-8")
            if args.form == "local":
                localise(directory)
            print(f"seed and export: {time.monotonic() - started:.1f} s")
            sizes = {s.filename: (directory / s.filename).stat().st_size for s in SPECS}
            lines = {s.filename: sum(1 for _ in (directory / s.filename).open("rb")) - 1 for s in SPECS}
            total_rows = sum(lines.values())

            with connection.cursor() as cursor:
                cursor.execute("TRUNCATE billing_payment, billing_invoiceline, billing_invoice, billing_reading, "
                               "billing_meter, billing_adjustment, billing_account CASCADE")
            started = time.monotonic()
            report = import_directory(directory)
            first = time.monotonic() - started
            print("phases:", ", ".join(f"{k} {v:.1f} s" for k, v in report.seconds.items()))
            assert b.Reading.objects.count() == lines["readings.csv"]

            started = time.monotonic()
            report = import_directory(directory)
            again = time.monotonic() - started
            print("phases again:", ", ".join(f"{k} {v:.1f} s" for k, v in report.seconds.items()))

            floor = copy_into_tables(connection)
            assert b.Reading.objects.count() == lines["readings.csv"]
            raw = raw_copy(connection, directory, SPECS, "WIN1254" if args.form == "local" else "UTF8")

        print(f"files: {total_rows} rows, {sum(sizes.values()) / 1e6:.1f} MB, form {args.form}")
        for s in SPECS:
            print(f"  {s.filename}: {lines[s.filename]} rows")
        print(f"billing_import into empty tables: {first:.2f} s ({total_rows / first:,.0f} rows/s)")
        print(f"billing_import of the same files again: {again:.2f} s")
        print(f"floor, raw COPY of the rows into the tables: {floor:.2f} s ({total_rows / floor:,.0f} rows/s)")
        print(f"raw COPY of the files into bare tables: {raw:.2f} s ({total_rows / raw:,.0f} rows/s)")
        print(f"ratio floor / import: {floor / first:.2f} (again: {floor / again:.2f}); "
              f"bare COPY / import: {raw / first:.2f}")
        print("\n| accounts | rows | MB | billing_import (empty) | again (no change) | COPY into the tables "
              "| ratio | COPY into bare tables |")
        print("|---:|---:|---:|---:|---:|---:|---:|---:|")
        print(f"| {args.accounts:,} | {total_rows:,} | {sum(sizes.values()) / 1e6:.1f} | {first:.2f} s | "
              f"{again:.2f} s | {floor:.2f} s | **{floor / first:.2f}** | {raw:.2f} s |")
    finally:
        connection.close()
        if not args.keep:
            with admin(url) as conn:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))


def localise(directory: Path) -> None:
    """Days first and commas before the qəpiks, in every file (already in Windows-1254)."""
    import re

    for path in directory.glob("*.csv"):
        text = path.read_text(encoding="cp1254")
        text = re.sub(r"\b([0-9]{4})-([0-9]{2})-([0-9]{2})\b", r"\3.\2.\1", text)
        text = re.sub(r"(?<=[;\n])(-?[0-9]+)\.([0-9]{1,2})(?=;|\n)", r"\1,\2", text)
        path.write_text(text, encoding="cp1254", newline="")


TABLES = ("billing_account", "billing_meter", "billing_reading", "billing_invoice", "billing_invoiceline",
          "billing_payment")


def copy_into_tables(connection) -> float:  # noqa: ANN001 - Django's connection
    """Dump the loaded tables, empty them, COPY the dumps back in one transaction; the seconds of
    the COPYs and the commit (where the deferred foreign-key checks run)."""
    raw = connection.connection
    dumps = {}
    with raw.cursor() as cursor:
        for table in TABLES:
            with cursor.copy(f"COPY {table} TO STDOUT") as copy:
                dumps[table] = b"".join(bytes(chunk) for chunk in copy)
        cursor.execute(f"TRUNCATE {', '.join(TABLES)}, billing_adjustment CASCADE")
    raw.commit()
    started = time.monotonic()
    with raw.cursor() as cursor:
        for table in TABLES:
            with cursor.copy(f"COPY {table} FROM STDIN") as copy:
                copy.write(dumps[table])
    raw.commit()
    return time.monotonic() - started


def raw_copy(connection, directory: Path, specs, encoding: str) -> float:  # noqa: ANN001 - Django's connection, the specs
    """COPY every file as it is into a plain table of its columns; returns the seconds."""
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        for s in specs:
            # Days first and commas are not PostgreSQL's input forms: such files into text columns.
            columns = ", ".join(f"{qn(c.name)} {c.sql_type if encoding == 'UTF8' else 'text'}" for c in s.columns)
            cursor.execute(f"DROP TABLE IF EXISTS raw_{s.name}")
            cursor.execute(f"CREATE TABLE raw_{s.name} ({columns})")
        started = time.monotonic()
        for s in specs:
            names = ", ".join(qn(c.name) for c in s.columns)
            with (cursor.cursor.copy(f"COPY raw_{s.name} ({names}) FROM STDIN "
                                     f"(FORMAT csv, HEADER true, DELIMITER ';', ENCODING '{encoding}')") as copy,
                  (directory / s.filename).open("rb") as fh):
                while chunk := fh.read(1 << 20):
                    copy.write(chunk)
        elapsed = time.monotonic() - started
        for s in specs:
            cursor.execute(f"DROP TABLE raw_{s.name}")
    return elapsed


if __name__ == "__main__":
    main()
