"""Reads of notifications shared by views, the admin and other apps."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet

from .models import Delivery

if TYPE_CHECKING:
    from identity.models import User


def delivery_list() -> QuerySet[Delivery]:
    """Every delivery, newest first, with its claim's number at hand."""
    return Delivery.objects.select_related("claim").order_by("-created_at", "-id")


def delivery_list_for_claim(*, claim_id: int) -> QuerySet[Delivery]:
    """A claim's deliveries, newest first (served by the (claim, created_at) index)."""
    return Delivery.objects.filter(claim_id=claim_id).order_by("-created_at", "-id")


def deliveries_of_citizen(*, citizen: User) -> QuerySet[Delivery]:
    """The e-mails and SMS sent about a citizen's claims, newest first."""
    return (Delivery.objects.filter(claim__citizen=citizen).select_related("claim")
            .order_by("-created_at", "-id"))
