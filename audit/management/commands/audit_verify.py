"""Check the audit trail's hash chain; name the first entry where it breaks."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from audit.chain import verify
from audit.models import AuditEntry


class Command(BaseCommand):
    help = "Check the audit trail's hash chain; exit 1 naming the first broken entry."

    def handle(self, *args: Any, **options: Any) -> None:
        entries = AuditEntry.objects.order_by("id").iterator(chunk_size=5000)
        count, broken = verify(entries)
        if broken is not None:
            raise CommandError(f"Audit chain broken at entry #{broken.entry_id}: {broken.reason}. "
                               f"{count - 1} entries before it are intact.")
        self.stdout.write(f"Audit chain intact: {count} entries.")
