"""Helpers shared by the notifications tests."""

from datetime import timedelta
from typing import Any

from django.utils import timezone

from notifications.models import Delivery, DeliveryStatus, Event, Medium
from notifications.services import delivery_send


def drive(delivery_id: int, rounds: int = 10) -> Delivery:
    """Run the delivery task's service until the row settles, moving each retry's
    next_attempt_at into the past instead of waiting for it."""
    for _ in range(rounds):
        delivery_send(delivery_id=delivery_id)
        delivery = Delivery.objects.get(pk=delivery_id)
        if delivery.status != DeliveryStatus.CREATED:
            return delivery
        Delivery.objects.filter(pk=delivery_id).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    raise AssertionError("the delivery did not settle")


def make_delivery(claim, **values):
    defaults = {"claim": claim, "event": Event.REGISTERED, "medium": Medium.SMS, "language": "az",
                "recipient": claim.phone, "body": "Salam", "segments": 1}
    return Delivery.objects.create(**(defaults | values))


def age(delivery, seconds):
    """Pretend the row was last touched ``seconds`` ago."""
    Delivery.objects.filter(pk=delivery.pk).update(updated_at=timezone.now() - timedelta(seconds=seconds))


def enqueued_delivery_ids(backend: Any) -> list[int]:
    return [r.args[0] for r in backend.results if r.task.name == "deliver_notification"]


