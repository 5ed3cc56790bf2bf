"""The channel's webhook of a claim's move (settings.CLAIM_CHANGE_SUBSCRIBERS): a delivery row
for the move's public timeline entry, written in the move's transaction."""

from __future__ import annotations

from claims.workflow import Change

from .webhooks import webhook_queue_for_event


def on_claim_change(change: Change) -> None:
    webhook_queue_for_event(event=change.event)
