"""Reads of the channel API. Every claim read is scoped to the channel that filed it and the
citizen it acts for: anything else is a 404, never a 403 that would confirm it exists."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet
from django.http import Http404

from billing.gateway import AccountInfo, InvoiceInfo, get_gateway
from claims import filing
from claims import selectors as claim_selectors
from claims.models import Claim, ReasonTemplate

if TYPE_CHECKING:
    from identity.models import User

    from .models import ApiChannel

SUBSCRIBER_CODE_RE = re.compile(r"^\d{10}$")
CLAIM_NUMBER_RE = re.compile(r"^[A-Z0-9-]{1,20}$")  # BA-2026-000042


def reasons_active() -> QuerySet[ReasonTemplate]:
    return claim_selectors.reasons_active()


def invoice_recent_get(*, subscriber_code: str, number: str) -> InvoiceInfo:
    """The invoice, if it is one of the account's a claim may dispute (claims.filing); else Http404."""
    try:
        return filing.invoice_of_account(subscriber_code=subscriber_code, number=number)
    except filing.FilingRefused as e:
        raise Http404 from e


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
