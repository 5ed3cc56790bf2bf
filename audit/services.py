from typing import Any

from .models import AuditEntry


def audit_record(*, actor: Any, action: str, claim: Any = None, before: Any = None, after: Any = None,
                 object_type: str = "", object_id: str = "", actor_label: str = "",
                 ip: str | None = None) -> AuditEntry:
    """Append one audit entry. Call it inside the transaction of the change it records."""
    if actor is not None and not getattr(actor, "is_authenticated", True):
        actor = None
    label = actor_label or (str(actor.fin or actor.username) if actor is not None else "system")
    return AuditEntry.objects.create(
        actor=actor, actor_label=label, action=action, claim=claim, before=before, after=after,
        object_type=object_type, object_id=object_id, ip=ip,
    )
