"""Reads of inspections, authorization-aware: an inspector gets only his own visits."""

from __future__ import annotations

from datetime import date

from django.db.models import QuerySet
from django.http import Http404

from claims.models import Claim
from identity.models import Role, User
from identity.roles import has_role

from .models import Inspection, InspectionStatus

LISTED_STATUSES = (InspectionStatus.SCHEDULED, InspectionStatus.DONE)


def _with_details(qs: QuerySet[Inspection]) -> QuerySet[Inspection]:
    # Only what the pages show: the claim (with its branch) and its meters, in a fixed number
    # of queries however many visits there are.
    return qs.select_related("claim", "claim__branch", "claim__reason").prefetch_related("claim__evidence",
                                                                                         "readings")


def visits_of_inspector(*, inspector: User, day: date) -> list[Inspection]:
    """The inspector's scheduled and done visits of ``day``, by window."""
    qs = Inspection.objects.filter(inspector=inspector, visit_on=day, status__in=LISTED_STATUSES)
    return list(_with_details(qs).order_by("window", "id"))


def inspection_get_for_inspector(*, inspector: User, pk: int) -> Inspection:
    """One inspection of ``inspector`` (any inspection for an administrator); 404 otherwise."""
    qs = Inspection.objects.filter(pk=pk)
    if not has_role(inspector, Role.ADMINISTRATOR):
        qs = qs.filter(inspector=inspector)
    inspection = _with_details(qs.select_related("inspector")).first()
    if inspection is None:
        raise Http404
    return inspection


def inspections_of_claim(claim: Claim) -> list[Inspection]:
    """Every inspection of a claim, oldest first, with its inspector and readings (for the
    operator's claim page)."""
    return list(claim.inspections.select_related("inspector", "ordered_by").prefetch_related("readings")
                .order_by("ordered_at", "id"))
