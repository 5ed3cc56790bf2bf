"""Reads of the channel API. Every claim read is scoped to the citizen the channel acts for
(whichever channel filed the claim: e-gov.az shows the citizen a claim filed on e-su.az);
anybody else's claim is a 404, never a 403 that would confirm it exists."""

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


def claims_of_citizen(*, citizen: User) -> QuerySet[Claim]:
    """The citizen's claims, whichever channel filed them (any registered channel presenting
    the citizen's assertion reads them all), newest first."""
    return claim_selectors.claims_of_citizen(citizen=citizen)


def claim_get_for_citizen(*, citizen: User, number: str) -> Claim:
    """The citizen's claim, whichever channel filed it; anybody else's (or none) is Http404."""
    if not CLAIM_NUMBER_RE.fullmatch(number):
        raise Http404
    return claim_selectors.claim_get_for_citizen(citizen=citizen, number=number)


def letter_for_claim(claim: Claim) -> Any | None:
    """The commission's decision letter item of the claim (``.letter`` is the PDF), if the
    commission app offers one."""
    try:
        from commission.selectors import letter_for_claim as commission_letter
    except ImportError:
        return None
    return commission_letter(claim)
