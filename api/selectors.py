"""Reads of the channel API. Every claim read is scoped to the channel that filed it and the
citizen it acts for: anything else is a 404, never a 403 that would confirm it exists."""

from __future__ import annotations

import re
from datetime import date
from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from billing.gateway import AccountInfo, InvoiceInfo, MeterInfo, get_gateway
from claims import selectors as claim_selectors
from claims.models import Claim, ReasonTemplate

if TYPE_CHECKING:
    from identity.models import User

    from .models import ApiChannel

INVOICE_MONTHS = 12  # as the portal's invoice step
SUBSCRIBER_CODE_RE = re.compile(r"^\d{10}$")
CLAIM_NUMBER_RE = re.compile(r"^[A-Z0-9-]{1,20}$")  # BA-2026-000042


def reasons_active() -> QuerySet[ReasonTemplate]:
    return claim_selectors.reasons_active()


def months_ago(n: int, *, today: date | None = None) -> date:
    """The first day of the month ``n`` months before this one."""
    today = today or timezone.localdate()
    month = today.month - n
    year = today.year + (month - 1) // 12
    return date(year, (month - 1) % 12 + 1, 1)


def invoices_recent(*, subscriber_code: str) -> list[InvoiceInfo]:
    """The account's invoices of the last 12 months, newest first (the ones a claim may dispute)."""
    return get_gateway().invoices_of_account(subscriber_code, since=months_ago(INVOICE_MONTHS))


def invoice_recent_get(*, subscriber_code: str, number: str) -> InvoiceInfo:
    invoice = next((i for i in invoices_recent(subscriber_code=subscriber_code) if i.number == number), None)
    if invoice is None:
        raise Http404
    return invoice


def meters_of_invoice(*, account: AccountInfo, invoice: InvoiceInfo) -> list[MeterInfo]:
    """The account's meters that are on the invoice, with their seal and last reading."""
    by_serial = {m.serial_number: m for m in account.meters}
    return [by_serial[line.meter_serial] for line in invoice.lines if line.meter_serial in by_serial]


def accounts_of_citizen(*, citizen: User) -> list[AccountInfo]:
    return get_gateway().accounts_of_fin(citizen.fin) if citizen.fin else []


def claims_of_channel_citizen(*, channel: ApiChannel, citizen: User) -> QuerySet[Claim]:
    """The citizen's claims filed through the channel, newest first."""
    return claim_selectors.claims_of_citizen(citizen=citizen).filter(channel=channel.code)


def claim_get_for_channel(*, channel: ApiChannel, citizen: User, number: str) -> Claim:
    """The claim, if the citizen filed it through the channel; else Http404."""
    if not CLAIM_NUMBER_RE.fullmatch(number):
        raise Http404
    claim = claim_selectors.claim_get_for_citizen(citizen=citizen, number=number)
    if claim.channel != channel.code:
        raise Http404
    return claim


def letter_for_claim(claim: Claim) -> Any | None:
    """The commission's decision letter item of the claim (``.letter`` is the PDF), if the
    commission app offers one."""
    try:
        from commission.selectors import letter_for_claim as commission_letter
    except ImportError:
        return None
    return commission_letter(claim)
