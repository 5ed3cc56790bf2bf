"""Benchmark the demo-data load: seed_demo into a fresh database, timed.

    .venv/bin/python scripts/bench_seed.py [--accounts 100000] [--seed 1] [--database-url URL] [--keep]

Without --database-url (or DATABASE_URL) the database is a new SQLite file under var/bench/,
removed afterwards. A PostgreSQL URL names a database that is created when missing and then
dropped afterwards; a database that already existed is left in place. --keep keeps the
database either way. The result is printed, with a Markdown table row for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import subprocess
import sys
import time
from contextlib import suppress
from datetime import datetime
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def manage(args: list[str], url: str) -> tuple[float, float, str]:
    """Run manage.py; returns (wall seconds, CPU seconds of the command, its output)."""
    env = {**os.environ, "DATABASE_URL": url}
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    done = subprocess.run(  # noqa: S603 - our own manage.py with fixed arguments
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    elapsed = time.monotonic() - started
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    if done.returncode != 0:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"manage.py {' '.join(args)} failed ({done.returncode})")
    return elapsed, cpu, done.stdout


def pg_admin_connection(url: str):
    import psycopg

    u = urlparse(url)
    return psycopg.connect(host=u.hostname or "127.0.0.1", port=u.port or 5432, user=u.username or "postgres",
                           password=u.password or None, dbname="postgres", autocommit=True)


def pg_prepare(url: str) -> bool:
    """Create the database when missing; True when this script created it."""
    from psycopg import sql

    name = urlparse(url).path.lstrip("/")
    with pg_admin_connection(url) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            return False
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return True


def pg_size(url: str) -> int:
    name = urlparse(url).path.lstrip("/")
    with pg_admin_connection(url) as conn:
        return conn.execute("SELECT pg_database_size(%s)", [name]).fetchone()[0]


def pg_drop(url: str) -> None:
    from psycopg import sql

    name = urlparse(url).path.lstrip("/")
    with pg_admin_connection(url) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()

    url = args.database_url
    sqlite_file: Path | None = None
    created = False
    if not url:
        bench_dir = ROOT / "var" / "bench"
        bench_dir.mkdir(parents=True, exist_ok=True)
        sqlite_file = bench_dir / f"seed-{datetime.now():%Y%m%d-%H%M%S}.sqlite3"  # noqa: DTZ005 - a file name
        url = f"sqlite:///{sqlite_file}"
    elif url.startswith(("postgres://", "postgresql://")):
        created = pg_prepare(url)
    engine = "SQLite" if url.startswith("sqlite") else "PostgreSQL"

    try:
        migrate_s, _, _ = manage(["migrate", "--no-input", "-v0"], url)
        load_before = os.getloadavg()[0]
        seed_s, seed_cpu, out = manage(["seed_demo", "--accounts", str(args.accounts), "--seed", str(args.seed)],
                                       url)
        load_after = os.getloadavg()[0]
        if sqlite_file:
            size = sum(p.stat().st_size for p in sqlite_file.parent.glob(sqlite_file.name + "*"))
        else:
            size = pg_size(url)
    finally:
        if not args.keep:
            if sqlite_file:
                for p in sqlite_file.parent.glob(sqlite_file.name + "*"):
                    with suppress(FileNotFoundError):
                        p.unlink()
            elif created:
                pg_drop(url)

    loaded = re.search(r"Loaded (\d+) accounts, (\d+) meters, (\d+) readings, (\d+) invoices, (\d+) payments "
                       r"in ([\d.]+) s", out)
    if not loaded:
        raise SystemExit(f"no summary line in the output of seed_demo:\n{out}")
    accounts, meters, readings, invoices, payments = (int(g) for g in loaded.groups()[:5])
    command_s = float(loaded.group(6))
    rows = accounts + meters + readings + invoices * 2 + payments  # invoices have about one line each
    print(f"database      {engine} ({url if not sqlite_file else sqlite_file.relative_to(ROOT)})")
    print(f"machine       {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    print(f"migrate       {migrate_s:.1f} s")
    print(f"seed_demo     {seed_s:.1f} s wall ({command_s:.1f} s reported by the command), "
          f"{seed_cpu:.1f} s CPU in the command's process")
    print(f"load average  {load_before:.1f} before, {load_after:.1f} after (other work on the machine slows the run)")
    print(f"loaded        {accounts} accounts, {meters} meters, {readings} readings, {invoices} invoices, "
          f"{payments} payments (~{rows / command_s:,.0f} rows/s)")
    print(f"size          {size / 2**20:,.0f} MiB")
    print("\n| database | accounts | invoices | seconds | CPU seconds | machine |")
    print(f"| {engine} | {accounts:,} | {invoices:,} | {command_s:.1f} | {seed_cpu:.1f} | {os.cpu_count()} cores |")


if __name__ == "__main__":
    main()
