"""``manage.py api_key_create --channel egov [--name "production 2026"]``: a new API key for a
channel, printed once on stdout (and stored only as a hash)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from api.models import ApiChannel
from api.services import api_key_create


class Command(BaseCommand):
    help = "Create an API key for a channel and print it once (only its hash is stored)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--channel", required=True, help="The channel's code (egov, esu, azersu_web, api)")
        parser.add_argument("--name", default="", help="What the key is for, e.g. 'production 2026'")

    def handle(self, *args: Any, channel: str, name: str, **options: Any) -> None:
        found = ApiChannel.objects.filter(code=channel).first()
        if found is None:
            known = ", ".join(ApiChannel.objects.values_list("code", flat=True)) or "none; register one in the admin"
            raise CommandError(f"No channel '{channel}' (channels: {known}).")
        if not found.active:
            self.stderr.write(f"Warning: channel '{channel}' is disabled; the key works once it is enabled.")
        _key, clear = api_key_create(channel=found, name=name or "management command")
        self.stderr.write(f"API key for {found} -- shown once, store it now:")
        self.stdout.write(clear)
