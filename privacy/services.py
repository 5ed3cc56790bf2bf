"""Personal data kept only as long as allowed (Law No. 998-IIIQ), and the citizen's withdrawal
of consent.

Retention: each kind of personal data (``DataKind``) of a claim is kept for its period after the
claim ends (``settings.RETENTION_DAYS``); consent-based kinds (contacts, photos, notification
recipients) go as soon as a closed claim's consent is withdrawn. The periodic job
(``retention_run``) anonymises what has expired, claim by claim, each in its own transaction:
personal fields are blanked, files are deleted from storage once the transaction commits,
deliveries lose their recipients and texts, and, at the end of the archive period, the name,
address and timeline notes go, the decision letters are deleted and the citizen's FIN is
dropped (the claim keeps ``citizen_key``, the FIN's keyed hash, so a repeat appeal is still
recognised). What statistics need stays: number, branch, status, outcome, dates, reason,
channel, amounts. Every run writes one audit entry with its counts; ``retention_plan`` is the
dry-run report of what the next run would touch.

This module is the one place that lists every personal field of every app (the inventory of
docs/privacy.md), so it reaches the rows of notifications, inspections and commission itself
rather than through a function in each of them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record
from claims import workflow
from claims.models import Claim, ClaimEvent, ClaimMeterEvidence, ConsentRecord, InfoRequest, Referral
from claims.services import claim_withdraw
from claims.transitions import FINAL_STATUSES
from commission.models import AgendaItem
from core.aftercommit import delete_after_commit
from core.errors import ServiceError
from identity.models import User
from inspections.models import Inspection
from notifications.models import Delivery

from .models import DataKind, Erasure

CONSENT_BASED = (DataKind.CONTACTS, DataKind.PHOTOS, DataKind.NOTIFICATIONS)
ORDER = (DataKind.CONTACTS, DataKind.PHOTOS, DataKind.NOTIFICATIONS, DataKind.ARCHIVE)


def retention_days(kind: str) -> int:
    return int(settings.RETENTION_DAYS[kind])


def claims_due(kind: str, *, now: datetime | None = None) -> QuerySet[Claim]:
    """The ended claims whose ``kind`` of data has expired and is still held."""
    now = now or timezone.now()
    expired = Q(closed_at__lte=now - timedelta(days=retention_days(kind)))
    if kind in CONSENT_BASED:
        expired |= Q(consent_record__withdrawn_at__isnull=False)
    return (Claim.objects.filter(status__in=FINAL_STATUSES, closed_at__isnull=False)
            .filter(expired).exclude(erasures__kind=kind).order_by("pk"))


def _files_of(claim_ids: list[int]) -> list[tuple[str, Any]]:
    """(model label, FieldFile) of every stored file of the claims: meter photos, answer photos,
    inspection photos."""
    files: list[tuple[str, Any]] = []
    for ev in ClaimMeterEvidence.objects.filter(claim_id__in=claim_ids).exclude(photo=""):
        files.append(("evidence", ev.photo))
    for req in InfoRequest.objects.filter(claim_id__in=claim_ids).exclude(answer_photo=""):
        files.append(("answer", req.answer_photo))
    for visit in Inspection.objects.filter(claim_id__in=claim_ids).exclude(photo=""):
        files.append(("inspection", visit.photo))
    return files


def _letters_of(claim_ids: list[int]) -> list[Any]:
    return [item.letter for item in AgendaItem.objects.filter(claim_id__in=claim_ids).exclude(letter="")]


def retention_plan(*, now: datetime | None = None) -> dict[str, dict[str, int]]:
    """Dry run: per kind, how many claims (and stored files) the next run would anonymise.
    Counted in the database (subqueries), whatever the number of claims."""
    plan: dict[str, dict[str, int]] = {}
    for kind in ORDER:
        due = claims_due(kind, now=now)
        entry = {"claims": due.count()}
        if kind == DataKind.PHOTOS:
            entry["files"] = (ClaimMeterEvidence.objects.filter(claim__in=due).exclude(photo="").count()
                              + InfoRequest.objects.filter(claim__in=due).exclude(answer_photo="").count()
                              + Inspection.objects.filter(claim__in=due).exclude(photo="").count())
        if kind == DataKind.ARCHIVE:
            entry["files"] = AgendaItem.objects.filter(claim__in=due).exclude(letter="").count()
        plan[kind] = entry
    return plan


def _delete_after_commit(names: list[str]) -> None:
    delete_after_commit(*names)


def _erase_contacts(claim: Claim) -> None:
    Claim.objects.filter(pk=claim.pk).update(phone="", email="", comment="", reason_text="")
    InfoRequest.objects.filter(claim=claim).update(answer_text="")
    # What the citizen wrote in the timeline (answers) goes; staff's texts stay until the archive ends.
    ClaimEvent.objects.filter(claim=claim, kind="info_answered").update(note="")


def _erase_photos(claim: Claim) -> None:
    names = [f.name for _label, f in _files_of([claim.pk])]
    ClaimMeterEvidence.objects.filter(claim=claim).update(photo="")
    InfoRequest.objects.filter(claim=claim).update(answer_photo="")
    Inspection.objects.filter(claim=claim).update(photo="")
    _delete_after_commit(names)


def _erase_notifications(claim: Claim) -> None:
    Delivery.objects.filter(claim=claim).update(recipient="", subject="", body="", provider_reference="")
    Referral.objects.filter(claim=claim).update(text="")


def _erase_archive(claim: Claim) -> None:
    for erase in (_erase_contacts, _erase_photos, _erase_notifications):
        erase(claim)
    names = [f.name for f in _letters_of([claim.pk])]
    AgendaItem.objects.filter(claim=claim).update(letter="")
    _delete_after_commit(names)
    Claim.objects.filter(pk=claim.pk).update(holder_name="", address="")
    ClaimEvent.objects.filter(claim=claim).update(note="")
    # The citizen's account goes with the last of their claims whose archive period ended.
    citizen = User.objects.select_for_update().get(pk=claim.citizen_id)
    remaining = Claim.objects.filter(citizen=citizen).exclude(pk=claim.pk).exclude(erasures__kind=DataKind.ARCHIVE)
    if citizen.fin is not None and not remaining.exists():
        citizen.fin = None
        citizen.username = f"anonymised-{citizen.pk}"  # unique; the FIN may come back as a new account
        citizen.first_name = citizen.last_name = citizen.patronymic = citizen.email = ""
        citizen.is_active = False
        citizen.set_unusable_password()
        citizen.save()


ERASERS: dict[str, Callable[[Claim], None]] = {
    DataKind.CONTACTS: _erase_contacts,
    DataKind.PHOTOS: _erase_photos,
    DataKind.NOTIFICATIONS: _erase_notifications,
    DataKind.ARCHIVE: _erase_archive,
}


def retention_run(*, now: datetime | None = None, dry_run: bool = False) -> dict[str, dict[str, int]]:
    """Anonymise every expired kind of data of every ended claim (or, with ``dry_run``, only
    report what would be). Idempotent: an erased kind is recorded (``Erasure``) and never
    counted again. One audit entry per run with the counts."""
    now = now or timezone.now()
    plan = retention_plan(now=now)
    if dry_run:
        audit_record(actor=None, action="retention_dry_run", after={"plan": plan}, object_type="privacy")
        return plan
    done: dict[str, dict[str, int]] = {kind: {"claims": 0} for kind in ORDER}
    for kind in ORDER:
        for claim_id in list(claims_due(kind, now=now).values_list("pk", flat=True)):
            with transaction.atomic():
                claim = Claim.objects.select_for_update().get(pk=claim_id)
                if Erasure.objects.filter(claim=claim, kind=kind).exists():
                    continue
                ERASERS[kind](claim)
                Erasure.objects.create(claim=claim, kind=kind, at=now)
            done[kind]["claims"] += 1
    with transaction.atomic():
        audit_record(actor=None, action="retention_run", after={"done": done, "plan": plan}, object_type="privacy")
    return done


# --- Consent ------------------------------------------------------------------------------------

@transaction.atomic
def consent_withdraw(*, record_id: int, actor: User) -> ConsentRecord:
    """The citizen withdraws the consent given with one claim. An open claim cannot be examined
    without its data, so it is withdrawn (the citizen is told as for any withdrawal); a claim
    whose approved correction is being posted stays (the decision is kept by law). The claim's
    contacts, photos and notification recipients are erased at the next retention run. Anybody
    else's consent (or none) is "not found"; withdrawing twice changes nothing."""
    record = (ConsentRecord.objects.select_for_update().select_related("claim")
              .filter(pk=record_id, citizen_id=actor.pk).first())
    if record is None or not actor.is_citizen:
        raise ServiceError(_("Razılıq tapılmadı."), code="not_found")
    if record.withdrawn_at is not None:
        return record
    claim = record.claim
    if claim.is_open:
        try:
            claim_withdraw(claim=claim, actor=actor)
        except workflow.IllegalMove:
            pass  # decided and being posted to billing: the decision stays
    record.withdrawn_at = timezone.now()
    record.save(update_fields=["withdrawn_at"])
    audit_record(actor=actor, action="consent_withdrawn", claim=claim,
                 after={"version": record.text.version, "language": record.text.language})
    return record
