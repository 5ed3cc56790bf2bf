"""What is held about a citizen ("Mənim məlumatlarım"): their claims, contacts, consents and
notifications, read in a fixed number of queries whatever their number."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from claims.models import Claim, ClaimEvent, ConsentRecord
from identity.models import User
from notifications.models import Delivery


def consents_of(*, citizen: User) -> QuerySet[ConsentRecord]:
    return (ConsentRecord.objects.filter(citizen=citizen).select_related("claim", "text")
            .order_by("-given_at", "-id"))


def deliveries_of(*, citizen: User) -> QuerySet[Delivery]:
    return Delivery.objects.filter(claim__citizen=citizen).select_related("claim").order_by("-created_at", "-id")


def claims_held(*, citizen: User) -> QuerySet[Claim]:
    return (Claim.objects.filter(citizen=citizen).select_related("reason", "branch", "competent_body")
            .prefetch_related("evidence", "info_requests",
                              Prefetch("events", queryset=ClaimEvent.objects.filter(public=True)))
            .order_by("-registered_at"))


@dataclass(frozen=True)
class Contacts:
    phones: list[str]
    emails: list[str]


def contacts_of(*, citizen: User) -> Contacts:
    rows = Claim.objects.filter(citizen=citizen).values_list("phone", "email")
    return Contacts(phones=sorted({p for p, _e in rows if p}), emails=sorted({e for _p, e in rows if e}))


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def citizen_data(*, citizen: User) -> dict[str, Any]:
    """Everything held about ``citizen``, as JSON-safe data (the download)."""
    claims = []
    for c in claims_held(citizen=citizen):
        claims.append({
            "number": c.number, "status": c.status, "outcome": c.outcome or None,
            "registered_at": _iso(c.registered_at), "closed_at": _iso(c.closed_at), "channel": c.channel,
            "login_method": c.login_method, "language": c.language,
            "subscriber_code": c.subscriber_code, "invoice_number": c.invoice_number,
            "holder_name": c.holder_name, "address": c.address, "branch": c.branch.name,
            "reason": c.reason.text_az, "reason_text": c.reason_text, "comment": c.comment,
            "phone": c.phone, "email": c.email,
            "corrected_amount": str(c.corrected_amount) if c.corrected_amount is not None else None,
            "outcome_reason": c.outcome_reason,
            "forwarded_to": c.competent_body.name if c.competent_body else None,
            "meters": [{"serial": ev.meter_serial, "declared_reading": ev.declared_reading,
                        "photo_held": bool(ev.photo)} for ev in c.evidence.all()],
            "information_requests": [{"asked_at": _iso(r.asked_at), "question": r.question,
                                      "reply_by": _iso(r.reply_by), "answered_at": _iso(r.answered_at),
                                      "answer": r.answer_text, "photo_held": bool(r.answer_photo)}
                                     for r in c.info_requests.all()],
            "timeline": [{"at": _iso(e.at), "kind": e.kind, "status": e.status, "note": e.note}
                         for e in c.events.all()],
        })
    contacts = contacts_of(citizen=citizen)
    return {
        "generated_at": _iso(timezone.now()),
        "person": {"fin": citizen.fin, "first_name": citizen.first_name, "last_name": citizen.last_name,
                   "patronymic": citizen.patronymic},
        "contacts": {"phones": contacts.phones, "emails": contacts.emails},
        "claims": claims,
        "consents": [{"claim": r.claim.number, "version": r.text.version, "language": r.text.language,
                      "text": r.text.text, "purposes": r.purposes, "given_at": _iso(r.given_at),
                      "channel": r.channel, "method": r.method, "withdrawn_at": _iso(r.withdrawn_at)}
                     for r in consents_of(citizen=citizen)],
        "notifications": [{"claim": d.claim.number if d.claim else None, "event": d.event, "medium": d.medium,
                           "recipient": d.recipient, "subject": d.subject, "body": d.body,
                           "created_at": _iso(d.created_at), "status": d.status}
                          for d in deliveries_of(citizen=citizen)],
    }
