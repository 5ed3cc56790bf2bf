"""Signal receivers of the API app (connected in ApiConfig.ready)."""

from __future__ import annotations

from typing import Any

from claims.models import ClaimEvent


def claim_event_saved(sender: type[ClaimEvent], instance: ClaimEvent, created: bool, raw: bool = False,
                      **kwargs: Any) -> None:
    """A claim's timeline got an event (claims.services writes one per change, in the change's
    transaction): queue its webhook for the channel that filed the claim. Thin on purpose; the
    work is api.services.webhook_queue_for_event."""
    if not created or raw:
        return
    from .services import webhook_queue_for_event

    webhook_queue_for_event(event=instance)
