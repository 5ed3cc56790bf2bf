"""The notifications of a claim's moves (settings.CLAIM_CHANGE_SUBSCRIBERS): the citizen's
e-mail and SMS rows of a move that declares a notification, written in the move's
transaction."""

from __future__ import annotations

from claims.workflow import Change

from .services import notification_queue


def on_claim_change(change: Change) -> None:
    if change.move.notify:
        notification_queue(claim=change.claim, event=change.move.notify, extra=change.extra)
