from typing import Any

from django.db import transaction

from .chain import GENESIS, digest_of, lock_chain_end
from .models import AuditEntry


def audit_record(*, actor: Any, action: str, claim: Any = None, before: Any = None, after: Any = None,
                 object_type: str = "", object_id: str = "", actor_label: str = "",
                 ip: str | None = None) -> AuditEntry:
    """Append one audit entry, chained to the one before it. Call it inside the transaction of
    the change it records; on PostgreSQL that transaction holds the chain's end until it
    commits, so concurrent writers append one after the other."""
    if actor is not None and not getattr(actor, "is_authenticated", True):
        actor = None
    label = actor_label or (str(actor.fin or actor.username) if actor is not None else "system")
    entry = AuditEntry(actor=actor, actor_label=label, action=action, claim=claim, before=before, after=after,
                       object_type=object_type, object_id=object_id,
                       ip=AuditEntry._meta.get_field("ip").to_python(ip) if ip else None)
    with transaction.atomic():
        lock_chain_end()
        last = AuditEntry.objects.order_by("-id").values_list("entry_hash", flat=True).first()
        entry.prev_hash = last if last is not None else GENESIS
        entry.entry_hash = digest_of(entry, entry.prev_hash)
        entry.save()
    return entry
