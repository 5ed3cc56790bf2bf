"""Load the billing system's CSV export (docs/billing-import.md).

    manage.py billing_import DIR [--encoding utf-8|windows-1254] [--no-progress]

Every row of every file is checked first; a problem is printed as ``file:line: column: reason``
and nothing is loaded (exit status 1). Loading the same files again changes nothing; a daily
delta updates what it names and adds what is new.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm  # type: ignore[import-untyped]  # tqdm ships no types (types-tqdm is not installed)

from billing.exchange import ImportFailed, import_directory


class Command(BaseCommand):
    help = "Load the billing system's CSV export (accounts, meters, readings, invoices, invoice lines, payments)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory", type=Path)
        parser.add_argument("--encoding", default=None,
                            help="utf-8 or windows-1254 (default: found from the files' bytes)")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar")

    def handle(self, *args: Any, directory: Path, encoding: str | None, no_progress: bool, **options: Any) -> None:
        if not directory.is_dir():
            raise CommandError(f"{directory} is not a directory")
        bars: list[tqdm[Any]] = []

        def progress(step: str, rows: int) -> Any:
            bar = tqdm(total=rows, desc=step, unit=" rows", file=sys.stderr, leave=False,
                       disable=no_progress or options.get("verbosity", 1) < 1, mininterval=0.5)
            bars.append(bar)
            return bar.update

        started = time.monotonic()
        try:
            report = import_directory(directory, encoding=encoding, progress=progress)
        except ImportFailed as failed:
            for problem in failed.problems:
                self.stderr.write(problem)
            raise CommandError(f"{len(failed.problems)} problem(s) found; nothing was loaded.") from None
        finally:
            for bar in bars:
                bar.close()
        for r in report.files:
            self.stdout.write(f"{r.name}: {r.rows} rows, {r.added} new, {r.updated} updated, {r.unchanged} unchanged")
        phases = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in report.seconds.items())
        self.stdout.write(self.style.SUCCESS(f"Loaded in {time.monotonic() - started:.1f} s ({phases})"))
