import json

from django.core.management.base import BaseCommand

from privacy.services import retention_run


class Command(BaseCommand):
    help = "Anonymise the personal data whose retention period ended (--dry-run: only report what would be)."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="report what the next run would touch")

    def handle(self, *args, dry_run: bool = False, **options):
        result = retention_run(dry_run=dry_run)
        self.stdout.write(json.dumps({"dry_run": dry_run, "claims": result}, indent=2))
