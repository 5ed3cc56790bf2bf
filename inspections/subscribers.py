"""What the inspections app does when a claim moves (settings.CLAIM_CHANGE_SUBSCRIBERS)."""

from __future__ import annotations

from claims import workflow

from .services import inspections_cancel_open

# A visit is no longer wanted once the claim leaves inspection by any move but its result.
_ENDS_VISITS = {workflow.WITHDRAW.name, workflow.CANCEL_INSPECTION.name}


def on_claim_change(change: workflow.Change) -> None:
    if change.move.name in _ENDS_VISITS:
        inspections_cancel_open(claim=change.claim, actor=change.actor)
