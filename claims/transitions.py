"""The claim life cycle (DESIGN.md §4), declared once as data, with its one checker."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ClaimStatus(models.TextChoices):
    REGISTERED = "registered", _("Qeydiyyata alınıb")
    FORWARDED = "forwarded", _("İcraya yönləndirilib")
    IN_REVIEW = "in_review", _("Araşdırılır")
    INSPECTION = "inspection", _("Yerində yoxlama")
    AWAITING_CITIZEN = "awaiting_citizen", _("Sizdən məlumat gözlənilir")
    AT_COMMISSION = "at_commission", _("Komissiyada")
    CLOSED = "closed", _("Başa çatıb")
    WITHDRAWN = "withdrawn", _("Geri götürülüb")


class ClaimOutcome(models.TextChoices):
    CORRECTED = "corrected", _("Borc düzəldilib")
    REFUSED = "refused", _("İmtina edilib")


S = ClaimStatus

# Allowed moves: from -> the statuses it may go to. Withdrawal is open from every state
# before closed.
TRANSITIONS: dict[str, frozenset[str]] = {
    S.REGISTERED: frozenset({S.FORWARDED, S.WITHDRAWN}),
    S.FORWARDED: frozenset({S.IN_REVIEW, S.WITHDRAWN}),
    S.IN_REVIEW: frozenset({S.INSPECTION, S.AWAITING_CITIZEN, S.AT_COMMISSION, S.CLOSED, S.WITHDRAWN}),
    S.INSPECTION: frozenset({S.IN_REVIEW, S.WITHDRAWN}),
    S.AWAITING_CITIZEN: frozenset({S.IN_REVIEW, S.WITHDRAWN}),
    S.AT_COMMISSION: frozenset({S.CLOSED, S.IN_REVIEW, S.WITHDRAWN}),
    S.CLOSED: frozenset(),
    S.WITHDRAWN: frozenset(),
}

OPEN_STATUSES = frozenset(TRANSITIONS) - {S.CLOSED, S.WITHDRAWN}


class IllegalTransition(Exception):
    def __init__(self, current: str, target: str):
        self.current, self.target = current, target
        super().__init__(f"a claim in status '{current}' cannot move to '{target}'")


def allowed(current: str, target: str) -> bool:
    return target in TRANSITIONS.get(current, frozenset())


def require(claim, *, to: str) -> None:
    """Refuse an illegal move before anything is written."""
    if not allowed(claim.status, to):
        raise IllegalTransition(claim.status, to)
