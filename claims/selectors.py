from django.db.models import Prefetch, QuerySet
from django.http import Http404

from identity.models import User

from .models import Claim, ClaimEvent, ReasonTemplate
from .transitions import OPEN_STATUSES


def reasons_active() -> QuerySet[ReasonTemplate]:
    return ReasonTemplate.objects.filter(active=True).order_by("ordering", "id")


def claims_of_citizen(*, citizen: User) -> QuerySet[Claim]:
    return Claim.objects.filter(citizen=citizen).select_related("reason").order_by("-registered_at")


def claim_get_for_citizen(*, citizen: User, number: str) -> Claim:
    """The citizen's own claim by number; anybody else's (or none) is a 404."""
    claim = (
        Claim.objects.filter(citizen=citizen, number=number)
        .select_related("reason", "branch")
        .prefetch_related("evidence", "info_requests",
                          Prefetch("events", queryset=ClaimEvent.objects.filter(public=True)))
        .first()
    )
    if claim is None:
        raise Http404
    return claim


def claim_open_for_invoice(*, invoice_number: str) -> Claim | None:
    return Claim.objects.filter(invoice_number=invoice_number, status__in=OPEN_STATUSES).first()
