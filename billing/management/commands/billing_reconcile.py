"""Compare the corrections the commission approved with what billing holds.

    manage.py billing_reconcile [--since 2026-01-01] [--all]

Lists, from the postings outbox (every approval writes one posting, in the decision's
transaction) and billing's answers by reference:

- decisions not posted: postings not confirmed by billing (waiting, being sent, or failed,
  with the last error);
- postings billing does not know: confirmed once, yet billing has no adjustment under the
  reference now;
- amounts that differ: billing holds another amount (or account) under the reference.

Exit status 0 when everything agrees, 1 when something is listed, 2 when billing does not
answer. By default postings of the last 90 days are checked (``--all``: every one).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from billing.gateway import BillingUnavailable, get_gateway
from billing.models import Posting
from core.outbox import OutboxStatus


class Command(BaseCommand):
    help = "List approved corrections not posted to billing, unknown to billing, or with another amount there."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--since", type=date.fromisoformat, default=None,
                            help="Postings created on or after this day (default: 90 days ago)")
        parser.add_argument("--all", action="store_true", help="Every posting, however old")

    def handle(self, *args: Any, since: date | None, all: bool, **options: Any) -> None:  # noqa: A002
        postings = Posting.objects.order_by("created_at", "pk")
        if not all:
            since = since or timezone.localdate() - timedelta(days=90)
            postings = postings.filter(created_at__date__gte=since)
        not_posted, unknown, differ = [], [], []
        gateway = get_gateway()
        checked = 0
        try:
            for p in postings.iterator(chunk_size=500):
                checked += 1
                if p.status != OutboxStatus.DELIVERED:
                    not_posted.append(f"  {p.reference}  claim {p.claim_number}  {p.amount} AZN  {p.status}, "
                                      f"{p.attempts} attempt(s){': ' + p.last_error[:120] if p.last_error else ''}")
                    continue
                held = gateway.adjustment(p.reference)
                if held is None:
                    unknown.append(f"  {p.reference}  claim {p.claim_number}  {p.amount} AZN  confirmed "
                                   f"{timezone.localtime(p.delivered_at):%Y-%m-%d %H:%M}" if p.delivered_at else
                                   f"  {p.reference}  claim {p.claim_number}  {p.amount} AZN")
                elif held.amount != p.amount or held.subscriber_code != p.subscriber_code:
                    differ.append(f"  {p.reference}  claim {p.claim_number}  decided {p.amount} AZN on "
                                  f"{p.subscriber_code}, billing holds {held.amount} AZN on {held.subscriber_code}")
        except BillingUnavailable as e:
            self.stderr.write(f"Billing does not answer ({e}); checked {checked} posting(s) before it stopped.")
            raise SystemExit(2) from None
        for title, rows in (("Decisions not posted", not_posted), ("Postings billing does not know", unknown),
                            ("Amounts that differ", differ)):
            self.stdout.write(f"{title}: {len(rows)}")
            for row in rows:
                self.stdout.write(row)
        if not_posted or unknown or differ:
            raise SystemExit(1)
        self.stdout.write(self.style.SUCCESS(f"All {checked} posting(s) agree with billing."))
