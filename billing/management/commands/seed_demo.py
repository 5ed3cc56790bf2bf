"""Load realistic demo data: branches, subscriber accounts, meters, two years of readings,
invoices and payments, demo citizens and demo staff.

    manage.py seed_demo --accounts 2000 [--seed 1] [--if-empty] [--today 2026-11-27]
        [--export DIR [--export-encoding windows-1254]]

The same seed and "today" give the same data (``--today`` defaults to the local date). What the
data contains and how identifiers are formed: billing.demo (accounts and everything under them)
and identity.demo (staff and citizens). ``--export DIR`` then writes the billing tables as the
billing system's CSV export (docs/billing-import.md), which ``manage.py billing_import`` loads.
"""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from billing import demo
from billing.exchange import export_directory
from identity.demo import DEMO_PASSWORD, StaffLogin


class Command(BaseCommand):
    help = "Load demo branches, accounts, meters, readings, invoices, payments, citizens and staff."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--accounts", type=int, default=2000, help="How many subscriber accounts (default 2000)")
        parser.add_argument("--seed", type=int, default=1, help="Random seed; the same seed gives the same data")
        parser.add_argument("--if-empty", action="store_true", help="Do nothing when accounts already exist")
        parser.add_argument("--today", type=date.fromisoformat, default=None,
                            help="The day the data ends at (YYYY-MM-DD; default: today)")
        parser.add_argument("--export", type=Path, default=None,
                            help="Also write the billing tables as CSV in this directory (billing_import's format)")
        parser.add_argument("--export-encoding", default="utf-8", help="utf-8 (default) or windows-1254")

    def handle(self, *args: Any, accounts: int, seed: int, if_empty: bool, today: date | None,
               export: Path | None = None, export_encoding: str = "utf-8", **options: Any) -> None:
        self.verbosity = options.get("verbosity", 1)
        existing = demo.existing_accounts()
        if existing and if_empty:
            self.stdout.write(f"Billing already holds {existing} accounts: demo data not loaded.")
            self.export(export, export_encoding)
            return
        started = time.monotonic()

        def progress(counts: demo.LoadCounts, total: int) -> None:
            if self.verbosity >= 1:
                self.stdout.write(f"  {counts.accounts}/{total} accounts, {counts.invoices} invoices "
                                  f"({time.monotonic() - started:.1f} s)")

        try:
            loaded = demo.load(accounts=accounts, seed=seed, today=today or timezone.localdate(), progress=progress)
        except demo.DemoDataError as e:
            raise CommandError(str(e)) from e

        counts = loaded.counts
        elapsed = time.monotonic() - started
        self.stdout.write(self.style.SUCCESS(
            f"Loaded {counts.accounts} accounts, {counts.meters} meters, {counts.readings} readings, "
            f"{counts.invoices} invoices, {counts.payments} payments in {elapsed:.1f} s"
        ))
        self.print_citizens(loaded.citizens, recent_from=loaded.recent_from)
        self.print_staff(loaded.staff)
        self.export(export, export_encoding)

    def export(self, directory: Path | None, encoding: str) -> None:
        if directory is None:
            return
        counts = export_directory(directory, encoding=encoding)
        self.stdout.write(f"\nExported to {directory}: " + ", ".join(f"{name} {n}" for name, n in counts.items()))

    def print_citizens(self, people: list[demo.Person], *, recent_from: date) -> None:
        if self.verbosity < 1 or not people:
            return
        self.stdout.write("\nDemo citizens (log in on the development login page with the FIN):")
        self.stdout.write(f"  {'FIN':<8} {'Name':<40} Accounts")
        for person in people:
            notes = []
            for plan in person.accounts:
                extra = []
                if len(plan.meters) > 1:
                    extra.append(f"{len(plan.meters)} meters")
                misread = [inv.number for inv in plan.invoices if inv.misread and inv.period >= recent_from]
                if misread:
                    extra.append("misread " + ", ".join(misread))
                notes.append(plan.subscriber_code + (f" ({'; '.join(extra)})" if extra else ""))
            self.stdout.write(f"  {person.fin:<8} {person.full_name:<40} {', '.join(notes)}")

    def print_staff(self, logins: list[StaffLogin]) -> None:
        if self.verbosity < 1:
            return
        self.stdout.write(f"\nDemo staff (password {DEMO_PASSWORD!r}):")
        self.stdout.write(f"  {'Username':<12} {'Role':<22} Branch")
        for s in logins:
            self.stdout.write(f"  {s.username:<12} {s.role:<22} {s.branch.name if s.branch else '(all)'}")
