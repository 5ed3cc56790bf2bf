"""The hash chain of the audit trail: each entry's hash covers its content and the hash of the
entry before it, so changing, removing or inserting an entry anywhere breaks every hash after
it. Entries are chained in id order; writers take one lock for the chain's end (on PostgreSQL an
advisory lock held until their transaction commits; SQLite serialises writers anyway), so ids
and the chain agree even with concurrent transactions."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from django.db import connection

GENESIS = "0" * 64
# Any fixed number: the key of the PostgreSQL advisory lock on the chain's end.
CHAIN_LOCK = 0x417564697443686E  # "AuditChn"


def entry_digest(*, prev_hash: str, at: Any, actor_id: int | None, actor_label: str, action: str,
                 claim_id: int | None, object_type: str, object_id: str, before: Any, after: Any,
                 ip: str | None) -> str:
    content = {
        "prev": prev_hash, "at": at.astimezone(UTC).isoformat(timespec="microseconds"), "actor": actor_id,
        "actor_label": actor_label, "action": action, "claim": claim_id, "object_type": object_type,
        "object_id": object_id, "before": before, "after": after, "ip": ip,
    }
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def digest_of(entry: Any, prev_hash: str) -> str:
    return entry_digest(prev_hash=prev_hash, at=entry.at, actor_id=entry.actor_id, actor_label=entry.actor_label,
                        action=entry.action, claim_id=entry.claim_id, object_type=entry.object_type,
                        object_id=entry.object_id, before=entry.before, after=entry.after, ip=entry.ip)


def lock_chain_end() -> None:
    """Hold the chain's end until the current transaction ends (PostgreSQL)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK])


@dataclass(frozen=True)
class Break:
    entry_id: int
    reason: str


def verify(entries: Iterator[Any]) -> tuple[int, Break | None]:
    """Walk the entries in id order: how many were checked, and the first break (or None)."""
    prev = GENESIS
    count = 0
    for entry in entries:
        count += 1
        if entry.prev_hash != prev:
            return count, Break(entry.pk, "its prev_hash is not the hash of the entry before it "
                                          "(an entry was removed or inserted before it)")
        if digest_of(entry, prev) != entry.entry_hash:
            return count, Break(entry.pk, "its content does not match its hash (it was changed)")
        prev = entry.entry_hash
    return count, None
